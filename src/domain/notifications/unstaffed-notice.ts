import type { Store } from '../ports/store.js';
import type { AttendanceSession } from '../ports/sessions.js';
import type { EmailNotifications } from './email-notifications.js';
import { unstaffedEmail } from './email-templates.js';
import { effectiveStatus } from '../sessions/views.js';
import { canRun } from '../subjects/unstaffed-sessions.js';

/** As the alerts' admin recipients: more would be a mailing list, not a notice. */
const MAX_ADMINS = 50;

export interface UnstaffedNoticeDeps {
  store: Store;
  emails: Pick<EmailNotifications, 'each'>;
  /** The service's public address; the admin console's link starts with it. */
  publicUrl: () => string;
  defaultTimezone: string;
  now: () => Date;
  /** Logs the active admins left out of the email (beyond MAX_ADMINS). */
  logger: { warn(obj: object, msg: string): void };
}

/**
 * Tells the organisation's admins that a teacher's hand-over left sessions without a teacher
 * (LeavingTeacherSessions, docs/notifications.md): one email per hand-over to each active admin
 * (at most 50; more are logged, not emailed), listing its sessions, in the `alert` category (an admin who unsubscribed from
 * alert emails gets none), pointing at the admin console's list where each is given or cancelled.
 * Sent in the background: it lists only the sessions still on that list when it runs.
 */
export class UnstaffedNotice {
  constructor(private readonly deps: UnstaffedNoticeDeps) {}

  /** Resolves to how many emails were queued. */
  async send(orgId: string, teacherId: string, sessionIds: readonly string[]): Promise<number> {
    const { store } = this.deps;
    const org = await store.organisations.get(orgId);
    if (!org || sessionIds.length === 0) return 0;
    const at = this.deps.now();
    const held = (await Promise.all(sessionIds.map((id) => store.sessions.get(orgId, id)))).filter(
      (s): s is AttendanceSession => s !== null && s.teacherId === teacherId && effectiveStatus(s, at) === 'scheduled',
    );
    const subjectIds = [...new Set(held.map((s) => s.subjectId))];
    const subjects = new Map(
      (await Promise.all(subjectIds.map((id) => store.subjects.get(orgId, id)))).flatMap((s) => (s ? [[s.id, s]] : [])),
    );
    const standing = (await store.users.getStandings(orgId, [teacherId]))[0];
    // Still without a teacher when the job runs (UnstaffedSessions' rule): one given, cancelled or
    // started meanwhile, or whose teacher can teach it again, is not told; none left, no email.
    const sessions = held.filter((s) => {
      const subject = subjects.get(s.subjectId);
      return subject !== undefined && !canRun(subject, standing);
    });
    if (sessions.length === 0) return 0;
    const teacher = (await store.users.getNames(orgId, [teacherId]))[0];
    const admins = await store.users.list(orgId, { role: 'admin', active: true, limit: MAX_ADMINS, offset: 0 });
    if (admins.total > admins.items.length) {
      this.deps.logger.warn(
        { orgId, teacherId, sessionIds: sessions.map((s) => s.id), admins: admins.total, told: admins.items.length },
        'sessions left without a teacher: only the first admins are emailed',
      );
    }
    const lines = sessions.map((s) => ({
      subjectCode: subjects.get(s.subjectId)?.code ?? '?',
      subjectName: subjects.get(s.subjectId)?.name ?? '',
      startsAt: s.startsAt,
    }));
    return this.deps.emails.each(
      orgId,
      admins.items.map((a) => a.id),
      'alert',
      (user, lang, url) =>
        unstaffedEmail(
          lang,
          org.timezone || this.deps.defaultTimezone,
          {
            recipientName: user.name,
            organisation: org.name,
            teacherName: teacher?.name ?? teacherId,
            sessions: lines,
            consoleUrl: `${this.deps.publicUrl()}/admin.html#unstaffed`,
          },
          url,
        ),
    );
  }
}

import { AppError } from '../../shared/app-error.js';
import { issue } from '../../shared/validation-issues.js';
import type { AlertPayload, NotificationView } from '../../shared/alerts.js';
import { requireRole, type Actor } from '../actor.js';
import type { DomainEvent, EventPublisher } from '../events.js';
import type { JobRunner } from '../jobs/job-runner.js';
import type { AlertRule, NewAlertRule } from '../ports/alerts.js';
import type { Notification } from '../ports/notifications.js';
import type { OrganisationSettings } from '../ports/organisations.js';
import type { Store } from '../ports/store.js';
import type { Subject } from '../ports/subjects.js';
import type { User } from '../ports/users.js';
import type { EmailNotifications } from '../notifications/email-notifications.js';
import { evaluateRule, type HistoryEntry } from './alert-rules.js';
import { alertsReadableAbout } from './readable-alerts.js';

/** Settled sessions of a subject read per evaluation: the newest ones, enough for any rule's window. */
export const ALERT_HISTORY_SESSIONS = 200;
/** Admins of an organisation told of an alert; beyond, the rest see it in reports. */
const MAX_ADMINS = 50;
const MAX_RULES = 20;

export interface AlertServiceDeps {
  store: Store;
  events: EventPublisher;
  now: () => Date;
  /** Evaluations run in the background of the event that triggers them, drained on shutdown. */
  jobs: JobRunner;
  /** Alert emails; absent: in-app only. */
  email?: Pick<EmailNotifications, 'alerts' | 'studentAlerts' | 'guardianAlerts'>;
}

export interface NotificationList {
  items: NotificationView[];
  total: number;
  unread: number;
}

export function toNotificationView(n: Notification): NotificationView {
  return {
    id: n.id,
    category: n.category,
    alert: n.alert,
    createdAt: n.createdAt.toISOString(),
    readAt: n.readAt ? n.readAt.toISOString() : null,
  };
}

/**
 * At-risk alerts (docs/notifications.md): the organisation's rules are evaluated for a student
 * in a subject when one of their settled records changes, and for every enrolled student when
 * a session of the subject closes. A rule alerts once per crossing (a compare-and-set on the
 * stored state, so two nodes evaluating the same change alert once) and re-arms when the
 * student is back under it.
 */
export class AlertService {
  constructor(private readonly deps: AlertServiceDeps) {}

  async listRules(actor: Actor): Promise<AlertRule[]> {
    requireRole(actor, 'admin');
    return this.deps.store.alerts.listRules(actor.orgId);
  }

  async createRule(actor: Actor, input: NewAlertRule): Promise<AlertRule> {
    requireRole(actor, 'admin');
    checkRuleFields(input);
    const existing = await this.deps.store.alerts.listRules(actor.orgId);
    if (existing.length >= MAX_RULES) throw new AppError('CONFLICT', `An organisation has at most ${MAX_RULES} alert rules.`);
    return this.deps.store.alerts.createRule(actor.orgId, input);
  }

  async deleteRule(actor: Actor, id: string): Promise<void> {
    requireRole(actor, 'admin');
    if (!(await this.deps.store.alerts.deleteRule(actor.orgId, id))) throw new AppError('NOT_FOUND', 'No such alert rule.');
  }

  async listNotifications(actor: Actor, page: { limit: number; offset: number; unreadOnly: boolean }): Promise<NotificationList> {
    const { store } = this.deps;
    const about = alertsReadableAbout(actor);
    const found = await store.notifications.list(actor.orgId, actor.id, { ...page, ...(about ? { aboutStudentId: about } : {}) });
    return {
      items: found.items.map(toNotificationView),
      total: found.total,
      unread: await store.notifications.unreadCount(actor.orgId, actor.id, about),
    };
  }

  /** Marks the caller's notifications read (those given, or all); answers the unread count left. */
  async markRead(actor: Actor, ids: string[] | null): Promise<{ marked: number; unread: number }> {
    const { store, now } = this.deps;
    const marked = await store.notifications.markRead(actor.orgId, actor.id, ids, now());
    return { marked, unread: await store.notifications.unreadCount(actor.orgId, actor.id, alertsReadableAbout(actor)) };
  }

  /** Listens to the domain events that settle records; returns the unsubscribe. */
  attach(bus: { subscribe(listener: (event: DomainEvent) => void): () => void }): () => void {
    return bus.subscribe((event) => {
      if (event.type === 'session.changed' && event.session.status === 'closed') {
        const { orgId, session } = event;
        this.deps.jobs.run('alerts.session-closed', async () => {
          await this.evaluateSubject(orgId, session.subjectId, null);
        });
      } else if (event.type === 'roster.changed' && event.sessionClosed) {
        const { orgId, studentId } = event;
        const sessionId = event.update.sessionId;
        this.deps.jobs.run('alerts.record-corrected', async () => {
          const session = await this.deps.store.sessions.get(orgId, sessionId);
          if (session) await this.evaluateSubject(orgId, session.subjectId, [studentId]);
        });
      }
    });
  }

  /**
   * Evaluates every rule of the organisation for the students given (every enrolled one when
   * null) in the subject, and notifies the subject's teachers and the organisation's admins of
   * each new crossing, and the student and their guardians when the organisation asks for it.
   * Resolves to the alerts raised.
   */
  async evaluateSubject(orgId: string, subjectId: string, studentIds: string[] | null): Promise<AlertPayload[]> {
    const { store } = this.deps;
    const rules = await store.alerts.listRules(orgId);
    if (rules.length === 0) return [];
    const subject = await store.subjects.get(orgId, subjectId);
    if (!subject) return [];
    const students = studentIds ?? (await store.subjects.listEnrolled(orgId, subjectId));
    if (students.length === 0) return [];
    const history = await this.history(orgId, subjectId);
    const now = this.deps.now();
    const raised: AlertPayload[] = [];
    for (const studentId of students) {
      const entries = history.get(studentId) ?? [];
      for (const rule of rules) {
        const outcome = evaluateRule(rule, entries, now);
        const changed = await store.alerts.setFiring(orgId, rule.id, subjectId, studentId, outcome.crossed);
        if (!changed || !outcome.crossed) continue;
        raised.push(await this.payload(subject, studentId, rule, outcome.observed));
      }
    }
    if (raised.length > 0) await this.notify(orgId, subject, raised);
    return raised;
  }

  /** Each student's settled records in the subject, newest first. */
  private async history(orgId: string, subjectId: string): Promise<Map<string, HistoryEntry[]>> {
    const { store } = this.deps;
    const sessions = await store.sessions.list(orgId, { subjectId, status: ['closed'], limit: ALERT_HISTORY_SESSIONS, offset: 0 });
    const ordered = [...sessions.items].sort((a, b) => b.startsAt.getTime() - a.startsAt.getTime());
    const startsAt = new Map(ordered.map((s) => [s.id, s.startsAt]));
    const records = await store.records.listBySessions(
      orgId,
      ordered.map((s) => s.id),
    );
    const byStudent = new Map<string, HistoryEntry[]>();
    for (const r of records) {
      const at = startsAt.get(r.sessionId);
      if (!at) continue;
      let list = byStudent.get(r.studentId);
      if (!list) byStudent.set(r.studentId, (list = []));
      list.push({ startsAt: at, status: r.status });
    }
    for (const list of byStudent.values()) list.sort((a, b) => b.startsAt.getTime() - a.startsAt.getTime());
    return byStudent;
  }

  private async payload(subject: Subject, studentId: string, rule: AlertRule, observed: number): Promise<AlertPayload> {
    const student = await this.deps.store.users.get(subject.orgId, studentId);
    return {
      ruleId: rule.id,
      rule: rule.kind,
      subjectId: subject.id,
      subjectCode: subject.code,
      subjectName: subject.name,
      studentId,
      studentName: student?.name ?? studentId,
      count: rule.count,
      thresholdPct: rule.thresholdPct,
      windowDays: rule.windowDays,
      observed,
    };
  }

  private async notify(orgId: string, subject: Subject, alerts: AlertPayload[]): Promise<void> {
    const { store, events, email } = this.deps;
    const org = await store.organisations.get(orgId);
    const admins = await store.users.list(orgId, { role: 'admin', active: true, limit: MAX_ADMINS, offset: 0 });
    const staff = [...new Set([...(await teachingNow(store, orgId, subject)), ...admins.items.map((a) => a.id)])];
    const settings: Pick<OrganisationSettings, 'notifyStudent' | 'notifyGuardians'> = org?.settings ?? {};
    const concerned =
      settings.notifyStudent === true || settings.notifyGuardians === true
        ? await store.users.getMany(orgId, [...new Set(alerts.map((a) => a.studentId))])
        : [];
    const audience = alertAudience(settings, staff, concerned, alerts);
    const created = await store.notifications.createMany(
      audience.inApp.flatMap(({ userId, alerts: theirs }) => theirs.map((alert) => ({ orgId, userId, category: 'alert' as const, alert }))),
    );
    for (const { userId } of audience.inApp) {
      // Counted as the reader's list counts them: a student's only their own alerts.
      const unread = await store.notifications.unreadCount(orgId, userId, staff.includes(userId) ? undefined : userId);
      for (const n of created.filter((c) => c.userId === userId)) {
        events.publish({ type: 'notification.created', orgId, userId, notification: toNotificationView(n), unread });
      }
    }
    for (const alert of alerts) events.publish({ type: 'alert.raised', orgId, alert });
    if (!email) return;
    await email.alerts(orgId, staff, alerts);
    for (const student of audience.studentEmails) await email.studentAlerts(orgId, student.id, alerts);
    for (const student of audience.guardiansOf) {
      await email.guardianAlerts(orgId, student, await store.guardians.get(orgId, student.id), alerts);
    }
  }
}

/**
 * The subject's teachers who are teachers still: a role change leaves the account in the subject's
 * teacherIds (only an admin's change of the teachers takes it out), and a teacher made a student
 * must not go on hearing of their former class's absences, in the app or by email.
 */
async function teachingNow(store: Store, orgId: string, subject: Subject): Promise<string[]> {
  if (subject.teacherIds.length === 0) return [];
  const teachers = await store.users.getMany(orgId, subject.teacherIds);
  return teachers.filter((u) => u.role === 'teacher' && u.active).map((u) => u.id);
}

/** Who hears of one evaluation's alerts, besides the emails' own unsubscribes (EmailNotifications). */
export interface AlertAudience {
  /** In-app notifications: staff get every alert, a student only their own. */
  inApp: { userId: string; alerts: AlertPayload[] }[];
  /** Students emailed their own alerts. */
  studentEmails: User[];
  /** Students whose guardian contacts are emailed that student's alerts. */
  guardiansOf: User[];
}

/**
 * The staff (the subject's teachers, the organisation's admins) always; the students concerned,
 * when active, only as the organisation's settings ask (notifyStudent, notifyGuardians).
 */
export function alertAudience(
  settings: Pick<OrganisationSettings, 'notifyStudent' | 'notifyGuardians'>,
  staffIds: string[],
  concerned: User[],
  alerts: AlertPayload[],
): AlertAudience {
  const students = concerned.filter((u) => u.active && u.role === 'student' && alerts.some((a) => a.studentId === u.id));
  return {
    inApp: [
      ...staffIds.map((userId) => ({ userId, alerts })),
      ...(settings.notifyStudent === true
        ? students.map((u) => ({ userId: u.id, alerts: alerts.filter((a) => a.studentId === u.id) }))
        : []),
    ],
    studentEmails: settings.notifyStudent === true ? students : [],
    guardiansOf: settings.notifyGuardians === true ? students : [],
  };
}

/** The fields a rule's kind takes: a window for all but a count in a row, a threshold for low attendance only. */
export function checkRuleFields(input: Pick<NewAlertRule, 'kind' | 'windowDays' | 'thresholdPct'>): void {
  const windowed = input.kind !== 'consecutive-absences';
  if (windowed !== (input.windowDays !== null)) {
    const message = windowed ? 'This rule needs windowDays.' : 'This rule takes no windowDays.';
    throw new AppError('VALIDATION_FAILED', message, { issues: [issue('windowDays', message, windowed ? 'required' : 'notApplicable')] });
  }
  const thresholded = input.kind === 'low-attendance';
  if (thresholded !== (input.thresholdPct !== null)) {
    const message = 'thresholdPct is given for low-attendance rules, and only for them.';
    throw new AppError('VALIDATION_FAILED', message, {
      issues: [issue('thresholdPct', message, thresholded ? 'required' : 'notApplicable')],
    });
  }
}

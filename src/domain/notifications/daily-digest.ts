import { dayIn, localIso } from '../calendar.js';
import type { Store } from '../ports/store.js';
import type { User } from '../ports/users.js';
import { digestEmail, type DigestContent } from './email-templates.js';
import type { EmailNotifications } from './email-notifications.js';

export const DIGEST_JOB = 'notification-digest';

/**
 * A teacher's digest is claimed in the store's job leases under its own name; a claim succeeds
 * only when the last one is at least this old, so a teacher gets at most one digest in that
 * time whatever the number of nodes, and one each day once the local hour has come.
 */
const ONCE_PER_MS = 20 * 60 * 60_000;
const LEASE_MS = 5 * 60_000;
const PAGE = 500;

export interface DigestDeps {
  store: Store;
  emails: Pick<EmailNotifications, 'each'>;
  /** This node's name in leases. */
  owner: string;
  /** Local hour (organisation time zone) from which digests go out. */
  hour: number;
}

/** Sends the day's digest to every active teacher of every organisation whose local hour has come; resolves to how many were queued. */
export async function sendDigests(deps: DigestDeps, now: Date): Promise<number> {
  let sent = 0;
  for (let offset = 0; ; offset += PAGE) {
    const orgs = await deps.store.organisations.list({ limit: PAGE, offset });
    for (const org of orgs.items) {
      if (!org.active || Number(localIso(org.timezone, now).slice(11, 13)) < deps.hour) continue;
      sent += await digestsOf(deps, org.id, org.name, org.timezone, now);
    }
    if (offset + PAGE >= orgs.total) return sent;
  }
}

async function digestsOf(deps: DigestDeps, orgId: string, organisation: string, timezone: string, now: Date): Promise<number> {
  const { store } = deps;
  let sent = 0;
  for (let offset = 0; ; offset += PAGE) {
    const teachers = await store.users.list(orgId, { role: 'teacher', active: true, limit: PAGE, offset });
    for (const teacher of teachers.items) {
      const job = `digest:${orgId}:${teacher.id}`;
      const claimed = await store.jobs.claim(
        job,
        deps.owner,
        new Date(now.getTime() + LEASE_MS),
        now,
        new Date(now.getTime() - ONCE_PER_MS),
      );
      if (!claimed) continue;
      try {
        const content = await digestContent(store, teacher, organisation, timezone, now);
        sent += await deps.emails.each(orgId, [teacher.id], 'digest', (user, lang, url) =>
          digestEmail(lang, { ...content, recipientName: user.name }, url),
        );
      } catch (err) {
        await store.jobs.release(job, deps.owner);
        throw err;
      }
      await store.jobs.finish(job, deps.owner, now);
    }
    if (offset + PAGE >= teachers.total) return sent;
  }
}

async function digestContent(store: Store, teacher: User, organisation: string, timezone: string, now: Date): Promise<DigestContent> {
  const day = dayIn(timezone, now);
  // Last year's subjects (archived) hold no class today whatever their sessions of the day.
  const subjects = await store.subjects.list(teacher.orgId, { teacherId: teacher.id, archived: false, limit: 200, offset: 0 });
  const sessions: DigestContent['sessions'] = [];
  const sessionIds: string[] = [];
  for (const subject of subjects.items) {
    const page = await store.sessions.list(teacher.orgId, { subjectId: subject.id, fromDay: day, toDay: day, limit: 50, offset: 0 });
    for (const s of page.items) {
      sessionIds.push(s.id);
      sessions.push({
        subjectCode: subject.code,
        subjectName: subject.name,
        startsAt: localIso(timezone, s.startsAt).slice(11, 16),
        status: s.status,
      });
    }
  }
  sessions.sort((a, b) => a.startsAt.localeCompare(b.startsAt));
  const records = sessionIds.length > 0 ? await store.records.listBySessions(teacher.orgId, sessionIds) : [];
  const since = now.getTime() - 24 * 60 * 60_000;
  const recent = await store.notifications.list(teacher.orgId, teacher.id, { limit: 50, offset: 0 });
  return {
    recipientName: teacher.name,
    organisation,
    day,
    sessions,
    pendingReviews: records.filter((r) => r.status === 'pending').length,
    alerts: recent.items.filter((n) => n.createdAt.getTime() > since).map((n) => n.alert),
  };
}

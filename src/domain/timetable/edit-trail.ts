import { createHash } from 'node:crypto';
import type { AuditEntry } from '../ports/audit.js';
import { UNAUDITED_CANCEL, type AttendanceSession } from '../ports/sessions.js';
import type { Store } from '../ports/store.js';
import type { Meeting } from '../ports/timetable.js';
import { addDays } from '../calendar.js';
import { FOLLOW_DAYS } from './meeting-edits.js';

/** Cancelled sessions of a subject read per page while looking for an edit's. */
const PAGE = 200;

/** The fields an edit changes, in a fixed order: the same edit sent with its fields in another order has the same key. */
const EDITED: readonly (keyof Meeting)[] = ['weekday', 'startTime', 'endTime', 'teacherId', 'preset', 'location', 'allowedIpRanges'];

/**
 * One edit of a meeting: the meeting's revision (how many of its edits have completed,
 * Meeting.revision), then a hash of the meeting as it stood and as asked. The same for every
 * run of one request (withSlotLocks runs it again after a lost lock) and for the request sent
 * again after a refusal, as the meeting is written, and its revision moved on, only once the
 * edit completes; another edit, or the same edit asked again after a later one completed, has
 * another. Marked on the sessions it cancels (AttendanceSession.meetingEdit, in the cancellation's
 * write) and on the audit entries of those it moves and cancels (`to.meetingEdit`), where its
 * answer reads them back.
 */
export function meetingEditKey(before: Meeting, after: Meeting): string {
  const fields = (m: Meeting) => EDITED.map((k) => sortedKeys(m[k]));
  const hash = createHash('sha256')
    .update(JSON.stringify([before.id, fields(before), fields(after)]))
    .digest('hex')
    .slice(0, 32);
  return `${before.revision}.${hash}`;
}

/**
 * Whether a mark is `key`'s edit's. A mark written before keys carried the revision is the hash
 * alone: it is taken for the edit with that hash, so an edit in progress across the upgrade
 * completes (or is refused naming what it did) as it did then, with that release's one blind
 * spot: such a mark left by the same edit made, undone and made again counts as this one's.
 */
export function markedBy(key: string): (mark: string) => boolean {
  const hash = key.slice(key.indexOf('.') + 1);
  return (mark) => mark === key || mark === hash;
}

/**
 * Whether an edit's mark was made against the meeting as `key`'s edit found it (the same
 * revision) by another edit: one abandoned after a refusal. A mark without a revision (written
 * before keys carried it) is no one's here: nothing tells a given-up edit's from a completed one's.
 */
export function abandonedBeside(key: string): (mark: string) => boolean {
  const revision = `${key.split('.')[0]}.`;
  return (mark) => mark !== key && mark.startsWith(revision);
}

/** Sessions an edit (or edits) left as they are, sorted by start. */
export interface TrailSessions {
  /** Still scheduled, last moved by it. */
  rescheduled: AttendanceSession[];
  /** Cancelled by it. */
  cancelled: AttendanceSession[];
}

/**
 * What the edits whose mark `marked` accepts did to the meeting's sessions from `today`,
 * whichever run or request did it, read back from the store and the sessions' audit entries
 * rather than from one run's memory: `rescheduled` the sessions still scheduled whose last move
 * was such an edit's (ahead of the meeting while the edit is unfinished), `cancelled` the
 * sessions such an edit cancelled.
 */
export async function editTrail(store: Store, meeting: Meeting, marked: (mark: string) => boolean, today: string): Promise<TrailSessions> {
  const { orgId, subjectId } = meeting;
  const lastMark = async (s: AttendanceSession, action: AuditEntry['action']) => {
    const last = (await store.audit.listForSession(orgId, s.id)).filter((e) => e.action === action).at(-1);
    const mark = (last?.to as { meetingEdit?: unknown } | null | undefined)?.meetingEdit;
    return typeof mark === 'string' && marked(mark);
  };
  // A cancellation's mark is on the session, written with it; the audit entry is read only for a
  // session with none, cancelled by a node of the release before still running during an upgrade
  // (the migration copied the marks of the sessions already there).
  const cancelledBy = async (s: AttendanceSession) =>
    s.meetingEdit === UNAUDITED_CANCEL ? false : s.meetingEdit !== null ? marked(s.meetingEdit) : lastMark(s, 'session.cancel');
  const rescheduled: AttendanceSession[] = [];
  for (const s of await store.sessions.listActiveForSubjects(orgId, [subjectId])) {
    if (s.meetingId === meeting.id && s.status === 'scheduled' && s.day >= today && (await lastMark(s, 'session.reschedule')))
      rescheduled.push(s);
  }
  const cancelled: AttendanceSession[] = [];
  const filter = { subjectId, status: ['cancelled' as const], fromDay: today, toDay: addDays(today, FOLLOW_DAYS) };
  for (let offset = 0; ; offset += PAGE) {
    const page = await store.sessions.list(orgId, { ...filter, limit: PAGE, offset });
    for (const s of page.items) if (s.meetingId === meeting.id && (await cancelledBy(s))) cancelled.push(s);
    if (page.items.length < PAGE) break;
  }
  const byStart = (list: AttendanceSession[]) => list.sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime());
  return { rescheduled: byStart(rescheduled), cancelled: byStart(cancelled) };
}

/** The sessions' ids. */
export const idsOf = (trail: TrailSessions) => ({
  rescheduled: trail.rescheduled.map((s) => s.id),
  cancelled: trail.cancelled.map((s) => s.id),
});

/** The sessions' days, each once, in order. */
export const daysOf = (trail: TrailSessions) => ({
  rescheduledDays: [...new Set(trail.rescheduled.map((s) => s.day))],
  cancelledDays: [...new Set(trail.cancelled.map((s) => s.day))],
});

/** A value with its objects' keys sorted (a location read from either store, or sent in any order). */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  return Object.fromEntries(
    Object.entries(value)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => [k, sortedKeys(v)]),
  );
}

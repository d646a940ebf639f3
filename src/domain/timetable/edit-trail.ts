import { createHash } from 'node:crypto';
import type { AuditEntry } from '../ports/audit.js';
import type { AttendanceSession } from '../ports/sessions.js';
import type { Store } from '../ports/store.js';
import type { Meeting } from '../ports/timetable.js';
import { addDays } from '../calendar.js';
import { FOLLOW_DAYS, type FollowedSessions } from './meeting-edits.js';

/** Cancelled sessions of a subject read per page while looking for an edit's. */
const PAGE = 200;

/** The fields an edit changes, in a fixed order: the same edit sent with its fields in another order has the same key. */
const EDITED: readonly (keyof Meeting)[] = ['weekday', 'startTime', 'endTime', 'teacherId', 'preset', 'location', 'allowedIpRanges'];

/**
 * One edit of a meeting: the meeting as it stood and as asked. The same for every run of one
 * request (withSlotLocks runs it again after a lost lock) and for the request sent again after a
 * refusal, as the meeting is written only once the edit completes; another edit, or the next
 * edit of the meeting once this one is written, has another. Marked on the audit entries of the
 * sessions it moves and cancels (`to.meetingEdit`), where its answer reads them back.
 */
export function meetingEditKey(before: Meeting, after: Meeting): string {
  const fields = (m: Meeting) => EDITED.map((k) => sortedKeys(m[k]));
  return createHash('sha256')
    .update(JSON.stringify([before.id, fields(before), fields(after)]))
    .digest('hex')
    .slice(0, 32);
}

/**
 * What the edit `edit` of `meeting` did to its sessions from `today`, whichever run or request
 * did it, read back from the store and the sessions' audit entries rather than from one run's
 * memory: `rescheduled` the sessions still scheduled whose last move was this edit's (ahead of
 * the meeting while the edit is unfinished), `cancelled` the sessions it cancelled.
 */
export async function editTrail(store: Store, meeting: Meeting, edit: string, today: string): Promise<FollowedSessions> {
  const { orgId, subjectId } = meeting;
  const marked = async (s: AttendanceSession, action: AuditEntry['action']) => {
    const last = (await store.audit.listForSession(orgId, s.id)).filter((e) => e.action === action).at(-1);
    return (last?.to as { meetingEdit?: unknown } | null | undefined)?.meetingEdit === edit;
  };
  const rescheduled: AttendanceSession[] = [];
  for (const s of await store.sessions.listActiveForSubjects(orgId, [subjectId])) {
    if (s.meetingId === meeting.id && s.status === 'scheduled' && s.day >= today && (await marked(s, 'session.reschedule')))
      rescheduled.push(s);
  }
  const cancelled: AttendanceSession[] = [];
  const filter = { subjectId, status: ['cancelled' as const], fromDay: today, toDay: addDays(today, FOLLOW_DAYS) };
  for (let offset = 0; ; offset += PAGE) {
    const page = await store.sessions.list(orgId, { ...filter, limit: PAGE, offset });
    for (const s of page.items) if (s.meetingId === meeting.id && (await marked(s, 'session.cancel'))) cancelled.push(s);
    if (page.items.length < PAGE) break;
  }
  const ids = (list: AttendanceSession[]) => list.sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime()).map((s) => s.id);
  return { rescheduled: ids(rescheduled), cancelled: ids(cancelled) };
}

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

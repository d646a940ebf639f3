import { toRosterEntry } from './views.js';
import { ERASED } from '../privacy/erasure-rules.js';
import type { RosterEntry } from '../../shared/events.js';
import type { AttendanceRecord } from '../ports/records.js';
import type { AttendanceSession } from '../ports/sessions.js';
import type { Store } from '../ports/store.js';

/**
 * The roster of a session, sorted by name. Students unenrolled after checking in stay: their
 * record still counts. With `includeNotYet`, enrolled students without a record appear as
 * 'not-yet'; a closed session has a record for everyone it counted. An erased student's records
 * stay for statistics under their tombstone id (docs/privacy.md), so they stay here too, named
 * `[erased]`: without them the exports and the roster counted one student fewer than the
 * session's summary.
 */
export async function loadRosterEntries(store: Store, session: AttendanceSession, includeNotYet: boolean): Promise<RosterEntry[]> {
  const [studentIds, records] = await Promise.all([
    includeNotYet ? store.subjects.listEnrolled(session.orgId, session.subjectId) : Promise.resolve([]),
    store.records.listBySession(session.orgId, session.id),
  ]);
  const byStudent = new Map<string, AttendanceRecord>(records.map((r) => [r.studentId, r]));
  // The names alone (id, name, student number: all an entry shows), not whole users (hash, email,
  // dates): a screen loads the roster of each session it watches, and for 100 students the whole
  // users cost 2.2 times the CPU of the names (docs/multi-node.md, "Round 30, CPU").
  const users = await store.users.getNames(session.orgId, [...new Set([...studentIds, ...byStudent.keys()])]);
  const entries = users.map((u) => toRosterEntry(u, byStudent.get(u.id) ?? null));
  const named = new Set(users.map((u) => u.id));
  for (const record of records) {
    if (!named.has(record.studentId)) entries.push(toRosterEntry({ id: record.studentId, name: ERASED, studentNumber: null }, record));
  }
  return entries.sort((a, b) => a.name.localeCompare(b.name) || a.studentId.localeCompare(b.studentId));
}

import { toRosterEntry } from './views.js';
import type { RosterEntry } from '../../shared/events.js';
import type { AttendanceRecord } from '../ports/records.js';
import type { AttendanceSession } from '../ports/sessions.js';
import type { Store } from '../ports/store.js';

/**
 * The roster of a session, sorted by name. Students unenrolled after checking in stay: their
 * record still counts. With `includeNotYet`, enrolled students without a record appear as
 * 'not-yet'; a closed session has a record for everyone it counted.
 */
export async function loadRosterEntries(store: Store, session: AttendanceSession, includeNotYet: boolean): Promise<RosterEntry[]> {
  const [studentIds, records] = await Promise.all([
    includeNotYet ? store.subjects.listEnrolled(session.orgId, session.subjectId) : Promise.resolve([]),
    store.records.listBySession(session.orgId, session.id),
  ]);
  const byStudent = new Map<string, AttendanceRecord>(records.map((r) => [r.studentId, r]));
  const users = await store.users.getMany(session.orgId, [...new Set([...studentIds, ...byStudent.keys()])]);
  return users
    .map((u) => toRosterEntry(u, byStudent.get(u.id) ?? null))
    .sort((a, b) => a.name.localeCompare(b.name) || a.studentId.localeCompare(b.studentId));
}

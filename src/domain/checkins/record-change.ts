import type { DomainDeps } from '../deps.js';
import { toCheckinView, toRosterEntry } from '../sessions/views.js';
import { recordAuditEntry } from './record-audit.js';
import type { AttendanceRecord, NewRecord, RecordAudit } from '../ports/records.js';
import type { AttendanceSession } from '../ports/sessions.js';
import type { User } from '../ports/users.js';
import type { CheckinView } from '../../shared/events.js';

type Student = Pick<User, 'id' | 'name' | 'studentNumber'>;

/** Who changed a record, how and why: the store writes its audit entry (./record-audit.ts). */
export type AuditContext = RecordAudit;

/**
 * Every stored change of a record goes through here: the audit entry (who, when, from, to,
 * why), then the roster update to watchers and the decision to the student. The roster version
 * is the one the store gave the change with the record write, so it never depends on Redis.
 */
export async function recordChanged(
  deps: DomainDeps,
  session: AttendanceSession,
  student: Student,
  before: AttendanceRecord | null,
  after: AttendanceRecord,
  audit: AuditContext,
): Promise<void> {
  await deps.store.audit.append(recordAuditEntry(before, after, audit));
  publishRecordChange(deps, session, student, after);
}

/**
 * The roster update to watchers and the decision to the student, for a stored change. Returns
 * the decision's view, which the student's own acknowledgement carries too (built once).
 */
export function publishRecordChange(deps: DomainDeps, session: AttendanceSession, student: Student, after: AttendanceRecord): CheckinView {
  const checkin = toCheckinView(after, session.policy.maxAttempts);
  deps.events.publish({
    type: 'roster.changed',
    orgId: after.orgId,
    studentId: student.id,
    update: { sessionId: session.id, version: after.rosterVersion, entry: toRosterEntry(student, after) },
    checkin,
    sessionClosed: session.status === 'closed',
  });
  return checkin;
}

/** A record decided without any check-in: a teacher's mark, or absent at closing. */
export function recordWithoutCheckin(
  session: AttendanceSession,
  studentId: string,
  decision: Pick<NewRecord, 'status' | 'reason' | 'decidedAt' | 'decidedBy' | 'note'>,
): NewRecord {
  return {
    ...decision,
    sessionId: session.id,
    subjectId: session.subjectId,
    studentId,
    flags: [],
    distanceM: null,
    location: null,
    ip: null,
    attempts: 0,
    submittedAt: null,
    verification: null,
  };
}

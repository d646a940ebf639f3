import type { DomainDeps } from '../deps.js';
import { toCheckinView, toRosterEntry } from '../sessions/views.js';
import type { AuditEntry } from '../ports/audit.js';
import type { AttendanceRecord, NewRecord } from '../ports/records.js';
import type { AttendanceSession } from '../ports/sessions.js';
import type { User } from '../ports/users.js';
import type { AuditAction } from '../../shared/audit.js';

type Student = Pick<User, 'id' | 'name' | 'studentNumber'>;

export interface AuditContext {
  actorId: string | null;
  action: AuditAction;
  reason: string | null;
  ip: string | null;
}

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
  await deps.store.audit.append(recordAuditEntry(session, before, after, audit));
  publishRecordChange(deps, session, student, after);
}

/** The audit entry of a record change (written with the record by a group commit). */
export function recordAuditEntry(
  session: AttendanceSession,
  before: AttendanceRecord | null,
  after: AttendanceRecord,
  audit: AuditContext,
): Omit<AuditEntry, 'id'> {
  return {
    orgId: after.orgId,
    entityType: 'record',
    entityId: after.id,
    sessionId: session.id,
    actorId: audit.actorId,
    action: audit.action,
    from: before ? auditState(before) : null,
    to: auditState(after),
    reason: audit.reason,
    ip: audit.ip,
    at: after.updatedAt,
  };
}

/** The roster update to watchers and the decision to the student, for a stored change. */
export function publishRecordChange(deps: DomainDeps, session: AttendanceSession, student: Student, after: AttendanceRecord): void {
  deps.events.publish({
    type: 'roster.changed',
    orgId: after.orgId,
    studentId: student.id,
    update: { sessionId: session.id, version: after.rosterVersion, entry: toRosterEntry(student, after) },
    checkin: toCheckinView(after, session.policy.maxAttempts),
    sessionClosed: session.status === 'closed',
  });
}

function auditState(r: AttendanceRecord): Record<string, unknown> {
  return {
    status: r.status,
    reason: r.reason,
    flags: r.flags,
    note: r.note,
    version: r.version,
    ...(r.absenceCategory ? { absenceCategory: r.absenceCategory } : {}),
  };
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

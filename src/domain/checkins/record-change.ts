import { AppError } from '../../shared/app-error.js';
import type { DomainDeps } from '../deps.js';
import { ActorGoneError } from '../ports/common.js';
import { toCheckinView, toRosterEntry } from '../sessions/views.js';
import type { AttendanceRecord, NewRecord, RecordAudit, RecordPatch, RecordWrite, RecordWriteResult } from '../ports/records.js';
import type { AttendanceSession } from '../ports/sessions.js';
import type { User } from '../ports/users.js';
import type { CheckinView } from '../../shared/events.js';

type Student = Pick<User, 'id' | 'name' | 'studentNumber'>;

/** Who changed a record, how and why: the store writes its audit entry (./record-audit.ts). */
export type AuditContext = RecordAudit;

/** What a record write did: the stored change, or the record that stood in its way (null: none). */
export type RecordWriteOutcome = Exclude<RecordWriteResult, { error: unknown }>;

/**
 * Every change of a record outside the check-in's group commit goes through here: the record
 * and its audit entry (who, when, from, to, why) written by the store's group commit
 * (records.writeBatch), as a check-in's are, one transaction on SQLite. The roster version is
 * the one the store gave the change, so it never depends on Redis. writeBatch, unlike
 * insertIfAbsent, refuses an insert for a student who no longer exists, erased since the caller
 * looked (`record: null`; docs/privacy.md, "Answering an erasure request"), and any write made
 * by a user who no longer exists (`ACCOUNT_DISABLED`). A write refused on its own throws its
 * error. The caller then publishes the change (publishRecordChange).
 */
export async function writeRecord(deps: DomainDeps, write: RecordWrite): Promise<RecordWriteOutcome> {
  const [result] = await deps.store.records.writeBatch([write]);
  if (!result) throw new Error('writeBatch answered no result for its one write');
  if ('error' in result) throw writeRefusal(result.error);
  return result;
}

/**
 * What a write refused on its own answers: its error, or `ACCOUNT_DISABLED` for a user erased
 * meanwhile (their sockets are being cut), as for any request of theirs now.
 */
export function writeRefusal(error: unknown): unknown {
  return error instanceof ActorGoneError ? new AppError('ACCOUNT_DISABLED', 'This account no longer exists; nothing was written.') : error;
}

/** writeRecord of an update: `patch` onto `record` as it was read (optimistic on its version). */
export function updateRecord(
  deps: DomainDeps,
  record: AttendanceRecord,
  patch: RecordPatch,
  audit: RecordAudit,
): Promise<RecordWriteOutcome> {
  return writeRecord(deps, { kind: 'update', orgId: record.orgId, id: record.id, expectedVersion: record.version, patch, audit });
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
    update: { sessionId: session.id, version: after.rosterVersion, entry: toRosterEntry(student, after, checkin.submittedAt) },
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

import type { AuditEntry } from '../ports/audit.js';
import type { AttendanceRecord, RecordAudit } from '../ports/records.js';

/**
 * The audit entry of a record change: who, from what to what, why, from where. A pure function
 * of plain data, so a store can build it inside its own transaction, on a writer thread too.
 */
export function recordAuditEntry(before: AttendanceRecord | null, after: AttendanceRecord, audit: RecordAudit): Omit<AuditEntry, 'id'> {
  return {
    orgId: after.orgId,
    entityType: 'record',
    entityId: after.id,
    sessionId: after.sessionId,
    actorId: audit.actorId,
    action: audit.action,
    from: before ? auditState(before) : null,
    to: auditState(after),
    reason: audit.reason,
    ip: audit.ip,
    at: after.updatedAt,
  };
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

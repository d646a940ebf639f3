import type { AuditEntry } from '../../domain/ports/audit.js';
import { AUDIT_ACTIONS, AUDIT_ENTITY_TYPES } from '../../shared/audit.js';
import { date, json, ms, oneOf, parseOrNull, str, strOrNull, type TableSpec } from './common-mappers.js';

// Rows of the audit log; TableSpec and the column readers are in common-mappers.ts.

const auditAction = oneOf(AUDIT_ACTIONS, 'audit.action');
const auditEntityType = oneOf(AUDIT_ENTITY_TYPES, 'audit.entity_type');

/**
 * The action whose entries audit_actor (migration 31) and audit_session (38) leave out while their
 * record leads to them: the record of the entry's id, organisation and session, the actor its student.
 */
export const REACHED_BY_RECORD = 'checkin.submit';

/**
 * Whether an entry must be in audit_actor and audit_session because its record does not lead to
 * it: the record is not stored (yet or any more), is another student's or another session's. Computed by the insert
 * itself wherever an entry may arrive without its record (an append, an import); the record
 * writer, which writes both together, decides it without the read (attendance.ts).
 */
const ORPHANED_AT_INSERT = `CASE WHEN @action = '${REACHED_BY_RECORD}' AND NOT (@entity_type = 'record' AND EXISTS (
  SELECT 1 FROM records r WHERE r.id = @entity_id AND r.org_id = @org_id AND r.student_id = @actor_id
    AND r.session_id IS @session_id)) THEN 1 ELSE 0 END`;

/**
 * An entry's values in `audit.columns` order up to `orphaned` (left to the caller, last), as
 * `audit.toRow` maps them: bound by position (recordValues in record-mappers.ts says why).
 */
export function auditValues(a: AuditEntry): unknown[] {
  return [a.id, a.orgId, a.entityType, a.entityId, a.sessionId, a.actorId, a.action, json(a.from), json(a.to), a.reason, a.ip, ms(a.at)];
}

export const audit: TableSpec<AuditEntry> = {
  table: 'audit',
  columns: [
    'id',
    'org_id',
    'entity_type',
    'entity_id',
    'session_id',
    'actor_id',
    'action',
    'from_json',
    'to_json',
    'reason',
    'ip',
    'at',
    'orphaned',
  ],
  key: ['id'],
  assigned: { orphaned: ORPHANED_AT_INSERT },
  toRow: (a) => ({
    id: a.id,
    org_id: a.orgId,
    entity_type: a.entityType,
    entity_id: a.entityId,
    session_id: a.sessionId,
    actor_id: a.actorId,
    action: a.action,
    from_json: json(a.from),
    to_json: json(a.to),
    reason: a.reason,
    ip: a.ip,
    at: ms(a.at),
  }),
  fromRow: (r) => ({
    id: str(r.id),
    orgId: str(r.org_id),
    entityType: auditEntityType(r.entity_type),
    entityId: str(r.entity_id),
    sessionId: strOrNull(r.session_id),
    actorId: strOrNull(r.actor_id),
    action: auditAction(r.action),
    from: parseOrNull<unknown>(r.from_json, 'audit.from_json'),
    to: parseOrNull<unknown>(r.to_json, 'audit.to_json'),
    reason: strOrNull(r.reason),
    ip: strOrNull(r.ip),
    at: date(r.at),
  }),
};

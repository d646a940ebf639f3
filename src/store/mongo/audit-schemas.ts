import { Schema, type Types } from 'mongoose';
import type { AuditEntry } from '../../domain/ports/audit.js';
import { AUDIT_ACTIONS, AUDIT_ENTITY_TYPES } from '../../shared/audit.js';
import { base, type Doc, id, nullableString, requiredString } from './common-schemas.js';

// The audit log; the conventions of common-schemas.ts.

export type AuditDoc = Doc<AuditEntry> & {
  /** Insertion order among entries with the same `at` (ObjectIds grow monotonically). */
  seq: Types.ObjectId;
};

export const auditSchema = new Schema<AuditDoc>(
  {
    _id: id,
    orgId: requiredString,
    entityType: { type: String, required: true, enum: AUDIT_ENTITY_TYPES },
    entityId: requiredString,
    sessionId: nullableString,
    actorId: nullableString,
    action: { type: String, required: true, enum: AUDIT_ACTIONS },
    from: { type: Schema.Types.Mixed, default: null },
    to: { type: Schema.Types.Mixed, default: null },
    reason: nullableString,
    ip: nullableString,
    at: { type: Date, required: true },
    seq: { type: Schema.Types.ObjectId, required: true },
  },
  { ...base, collection: 'audit', minimize: false },
);
auditSchema.index({ orgId: 1, entityType: 1, entityId: 1, at: 1, seq: 1 }, { name: 'org_entity_at' });
auditSchema.index({ orgId: 1, sessionId: 1, at: 1, seq: 1 }, { name: 'org_session_at' });
auditSchema.index({ orgId: 1, actorId: 1, at: 1, seq: 1 }, { name: 'org_actor_at' });
// The organisation's whole trail (an admin's audit page without a selector), by day range.
auditSchema.index({ orgId: 1, at: 1, seq: 1 }, { name: 'org_at' });
// A subject's roll-over entries (audit.listRollovers, migration 25), without the rest of its trail:
// led by the filter's equalities, so that where partial indexes are refused (FerretDB 1.x, built
// whole) it still serves the query.
auditSchema.index(
  { orgId: 1, action: 1, entityType: 1, entityId: 1, at: 1, seq: 1 },
  { name: 'org_rollover', partialFilterExpression: { action: 'subject.rollover' } },
);

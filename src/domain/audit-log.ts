import type { AuditEntry } from './ports/audit.js';
import type { Store } from './ports/store.js';
import type { Actor } from './actor.js';
import type { AuditAction } from '../shared/audit.js';

/** Appends one audit entry for a change made by `actor` (a user, or an operator tool) to an entity. */
export async function audit(
  store: Store,
  actor: Actor,
  at: Date,
  entry: { entityType: AuditEntry['entityType']; entityId: string; action: AuditAction; from: unknown; to: unknown },
): Promise<void> {
  await store.audit.append({
    orgId: actor.orgId,
    entityType: entry.entityType,
    entityId: entry.entityId,
    sessionId: null,
    actorId: actor.system ? null : actor.id,
    action: entry.action,
    from: entry.from,
    to: entry.to,
    reason: actor.system ?? null,
    ip: actor.ip ?? null,
    at,
  });
}

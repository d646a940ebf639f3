import type { AuditEntry } from './ports/audit.js';
import type { Store } from './ports/store.js';
import type { Actor } from './actor.js';
import type { AuditAction } from '../shared/audit.js';

/** An audit entry as a change made by an actor describes it; auditEntry completes it. */
export type ActorEntry = { entityType: AuditEntry['entityType']; entityId: string; action: AuditAction; from: unknown; to: unknown };

/** The entry for a change made by `actor`, for a store call that writes it with the change. */
export const auditEntry = (actor: Actor, at: Date, entry: ActorEntry): Omit<AuditEntry, 'id'> => ({
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

/** Appends several audit entries made by `actor` at once (one store call; a bulk invitation's). */
export async function auditMany(store: Pick<Store, 'audit'>, actor: Actor, at: Date, entries: readonly ActorEntry[]): Promise<void> {
  if (entries.length > 0) await store.audit.appendMany(entries.map((e) => auditEntry(actor, at, e)));
}

/** Appends one audit entry for a change made by `actor` (a user, or an operator tool) to an entity. */
export async function audit(store: Pick<Store, 'audit'>, actor: Actor, at: Date, entry: ActorEntry): Promise<void> {
  await store.audit.append(auditEntry(actor, at, entry));
}

/**
 * What every port shares: pages, per-organisation counts, the conflict error, and the
 * vocabulary of src/shared re-exported under the names the store and domain use.
 * The conventions of every port are in ./store.ts.
 */

import { RECORD_STATES, type RecordState, type Role, ROLES, type SessionState } from '../../shared/events.js';
import type { DefaultPolicy, VerificationPolicy } from '../../shared/policy.js';

// Declared once in src/shared; re-exported under the names the store and domain use.
export {
  ROLES,
  RECORD_STATES as RECORD_STATUSES,
  type Role,
  type RecordState as RecordStatus,
  type SessionState as SessionStatus,
  type DefaultPolicy,
  type VerificationPolicy,
};

export interface Page<T> {
  items: T[];
  total: number;
}

export interface PageQuery {
  limit: number;
  offset: number;
}

/** Rows a system-wide purge deleted in one organisation (organisations with none are left out). */
export interface OrgCount {
  orgId: string;
  count: number;
}

/** A unique key was violated. `key` names it: 'email', 'code', 'record', 'slug', ... */
export class StoreConflictError extends Error {
  readonly key: string;
  constructor(key: string, message?: string) {
    super(message ?? `unique key violated: ${key}`);
    this.name = 'StoreConflictError';
    this.key = key;
  }
}

/**
 * Whether `err` is a StoreConflictError, also one made by a second copy of this module: the
 * multi-node tests load their files through require and the store through import()
 * (src/store/index.ts), which gives two classes of one name, and `instanceof` missed the store's.
 */
export function isStoreConflict(err: unknown): err is StoreConflictError {
  return (
    err instanceof StoreConflictError ||
    (err instanceof Error && err.name === 'StoreConflictError' && typeof (err as { key?: unknown }).key === 'string')
  );
}

/**
 * Leases a write is fenced by: the store writes it only while each is still `owner`'s, checked
 * with the write itself (one transaction on SQLite; on MongoDB a conditional renewal before it
 * and a read of the leases after it, which takes the write back when one was lost meanwhile),
 * and extends each to `until`. `names`: leases of store.jobs (session slot locks); `session`: a
 * session's close lease (sessions.acquireLease), which fences the write steps of its close.
 */
export interface LeaseFence {
  names: readonly string[];
  owner: string;
  until: Date;
  session?: { orgId: string; id: string };
}

/** The name a session's close lease goes by in LeaseLostError. */
export const closeLeaseName = (sessionId: string): string => `close:${sessionId}`;

/** A fenced write found one of its leases taken by another owner: nothing of it is stored. */
export class LeaseLostError extends Error {
  readonly lease: string;
  constructor(lease: string) {
    super(`lease ${lease} lost before the write; nothing was written`);
    this.name = 'LeaseLostError';
    this.lease = lease;
  }
}

/**
 * A write made in the name of a user who no longer exists (a teacher erased while their mark was
 * on its way): refused, nothing of it stored, so their id is not left on what the erasure has
 * already swept.
 */
export class ActorGoneError extends Error {
  readonly actorId: string;
  constructor(actorId: string) {
    super('the user this write is made by no longer exists; nothing was written');
    this.name = 'ActorGoneError';
    this.actorId = actorId;
  }
}

/**
 * The store could not take a write now because another writer held it past the store's wait
 * (SQLite's SQLITE_BUSY). Nothing of the write was stored, so it may be tried again.
 */
export class StoreBusyError extends Error {
  constructor(options?: { cause?: unknown }) {
    super('the store is busy with another writer; nothing was written', options);
    this.name = 'StoreBusyError';
  }
}

/** Why the store cannot take operations now; each names what an operator must fix. */
export const STORE_UNAVAILABLE_KINDS = ['disk-full', 'read-only', 'io', 'busy', 'unreachable'] as const;
export type StoreUnavailableKind = (typeof STORE_UNAVAILABLE_KINDS)[number];

/**
 * The store itself failed (a full disk, a read-only file, an I/O error, a database server out
 * of reach), not the operation's data: nothing of the operation was stored, and the same
 * operation may succeed once the operator has fixed the cause. Clients hear UNAVAILABLE.
 */
export class StoreUnavailableError extends Error {
  readonly kind: StoreUnavailableKind;
  constructor(kind: StoreUnavailableKind, options?: { cause?: unknown }) {
    super(`the store is unavailable (${kind}); nothing was written`, options);
    this.name = 'StoreUnavailableError';
    this.kind = kind;
  }
}

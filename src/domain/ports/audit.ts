/**
 * The audit log.
 * The conventions of every port are in ./store.ts.
 */

import type { AuditAction, AuditEntityType } from '../../shared/audit.js';
import type { PageQuery } from './common.js';

export interface AuditEntry {
  id: string;
  orgId: string;
  entityType: AuditEntityType;
  entityId: string;
  sessionId: string | null;
  actorId: string | null;
  action: AuditAction;
  from: unknown;
  to: unknown;
  reason: string | null;
  ip: string | null;
  at: Date;
}

export interface AuditRepository {
  append(entry: Omit<AuditEntry, 'id'>): Promise<AuditEntry>;
  /** Appends the entries in one store call (one transaction on SQLite, one insert on MongoDB). */
  appendMany(entries: readonly Omit<AuditEntry, 'id'>[]): Promise<AuditEntry[]>;
  /** Oldest first. */
  listForEntity(orgId: string, entityType: AuditEntry['entityType'], entityId: string): Promise<AuditEntry[]>;
  /**
   * The `subject.rollover` entries of these subjects, oldest first: one read of those entries
   * alone, through an index holding only them (SQLite migration 39, MongoDB 25), however long the
   * rest of the subjects' trails (a roll-over's retry asks it for every row already rolled over).
   */
  listRollovers(orgId: string, subjectIds: readonly string[]): Promise<AuditEntry[]>;
  /** Oldest first. */
  listForSession(orgId: string, sessionId: string): Promise<AuditEntry[]>;
}

export interface AuditFilter extends PageQuery {
  /** At most one of these selects the entries; none: the organisation's whole trail. */
  entityType?: AuditEntry['entityType'];
  entityId?: string;
  sessionId?: string;
  /** Entries this user made. */
  actorId?: string;
  /** And, whatever the selector: only these actions (absent: all; never empty). */
  actions?: readonly AuditAction[];
  /** And made at or after this instant. */
  from?: Date;
  /** And made before this instant. */
  before?: Date;
}

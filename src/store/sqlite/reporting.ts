import { newTimeOrderedId } from '../../shared/ids.js';
import { type AuditEntry, type AuditRepository } from '../../domain/ports/audit.js';
import { StoreConflictError } from '../../domain/ports/common.js';
import { type DailySummary, type SummaryRepository } from '../../domain/ports/summaries.js';
import type { SqliteDb } from './db.js';
import { renewFence } from './jobs.js';
import { audit } from './audit-mappers.js';
import { SESSION_TRAIL } from './reports.js';
import { insertSql } from './common-mappers.js';
import { summaries } from './record-mappers.js';

// Daily summaries and the audit trail.

/**
 * audit.listRollovers: by audit_rollover (migration 39), which holds the roll-over entries alone.
 * Named, as audit_entity would serve the same equalities by reading each subject's whole trail.
 */
export const AUDIT_ROLLOVERS = `SELECT * FROM audit INDEXED BY audit_rollover
  WHERE org_id = ? AND action = 'subject.rollover' AND entity_type = 'subject' AND entity_id IN (SELECT value FROM json_each(?))
  ORDER BY at, seq`;

export function summaryRepository(db: SqliteDb, clock: () => Date): SummaryRepository {
  // The WHERE keeps a summary of another organisation from being overwritten.
  const upsert = `${insertSql(summaries, false)}
    ON CONFLICT (subject_id, day) DO UPDATE SET present = excluded.present, late = excluded.late,
      absent = excluded.absent, excused = excluded.excused, total = excluded.total,
      percentage = excluded.percentage, updated_at = excluded.updated_at
    WHERE summaries.org_id = excluded.org_id
    RETURNING *`;
  return {
    async upsert(summary, fence) {
      const s: DailySummary = { ...summary, updatedAt: clock() };
      // A close's fence is renewed in the upsert's transaction: a close that lost it writes nothing.
      const r = db.tx(() => {
        if (fence) renewFence(db, fence);
        return db.stmt(upsert).get(summaries.toRow(s));
      });
      if (!r) throw new StoreConflictError('summary');
      return summaries.fromRow(r);
    },
    async get(orgId, subjectId, day) {
      const r = db.stmt('SELECT * FROM summaries WHERE org_id = ? AND subject_id = ? AND day = ?').get(orgId, subjectId, day);
      return r ? summaries.fromRow(r) : null;
    },
    async list(orgId, subjectId, fromDay, toDay) {
      return db
        .stmt('SELECT * FROM summaries WHERE org_id = ? AND subject_id = ? AND day >= ? AND day <= ? ORDER BY day')
        .all(orgId, subjectId, fromDay, toDay)
        .map(summaries.fromRow);
    },
  };
}

export function auditRepository(db: SqliteDb): AuditRepository {
  const insert = insertSql(audit, false);
  return {
    async append(entry) {
      const a: AuditEntry = { id: newTimeOrderedId(), ...entry };
      db.stmt(insert).run(audit.toRow(a));
      // Return what a later read returns (undefined from/to reads back as null).
      return audit.fromRow(audit.toRow(a));
    },
    async appendMany(entries) {
      return db.tx(() =>
        entries.map((entry) => {
          const row = audit.toRow({ id: newTimeOrderedId(), ...entry });
          db.stmt(insert).run(row);
          return audit.fromRow(row);
        }),
      );
    },
    async listForEntity(orgId, entityType, entityId) {
      return db
        .stmt('SELECT * FROM audit WHERE org_id = ? AND entity_type = ? AND entity_id = ? ORDER BY at, seq')
        .all(orgId, entityType, entityId)
        .map(audit.fromRow);
    },
    async listRollovers(orgId, subjectIds) {
      if (subjectIds.length === 0) return [];
      return db.stmt(AUDIT_ROLLOVERS).all(orgId, JSON.stringify(subjectIds)).map(audit.fromRow);
    },
    async listForSession(orgId, sessionId) {
      // In two parts, as audit_session leaves out the check-ins their records lead to (migration 38).
      return db.stmt(SESSION_TRAIL).all({ orgId, sessionId }).map(audit.fromRow);
    },
  };
}

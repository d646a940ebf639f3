import type { RetentionRepository } from '../../domain/ports/privacy.js';
import type { SqliteDb } from './db.js';

// Retention of check-in details (types.ts RetentionRepository): records of sessions closed long enough ago.

const OF_CLOSED_SESSIONS = `org_id = @org AND session_id IN (
  SELECT id FROM sessions WHERE org_id = @org AND closed_at IS NOT NULL AND closed_at <= @before)`;

/** Addresses cut per transaction: the first pass over an old database does not hold the write lock for long. */
const IP_BATCH = 1_000;

export function retentionRepository(db: SqliteDb): RetentionRepository {
  /**
   * Cuts the addresses `select` finds, a batch per transaction. A cut address is a network in
   * CIDR form: the '/' keeps it out of the next batch and of every later pass.
   */
  function truncateAll(table: 'records' | 'audit', where: string, args: Record<string, unknown>, truncate: (ip: string) => string): number {
    const select = db.stmt<{ id: string; ip: string }>(
      `SELECT id, ip FROM ${table} WHERE ${where} AND ip IS NOT NULL AND instr(ip, '/') = 0 LIMIT ${IP_BATCH}`,
    );
    const update = db.stmt(`UPDATE ${table} SET ip = ? WHERE id = ? AND ip = ?`);
    let total = 0;
    for (;;) {
      const rows = select.all(args);
      const changed = db.tx(() => rows.reduce((n, r) => n + update.run(truncate(r.ip), r.id, r.ip).changes, 0));
      total += changed;
      // A batch that changed nothing would come back unchanged (a `truncate` without '/').
      if (rows.length < IP_BATCH || changed === 0) return total;
    }
  }

  return {
    async clearProbes(orgId, closedBefore) {
      return db
        .stmt(
          `UPDATE records SET verification = json_remove(verification, '$.probe')
           WHERE ${OF_CLOSED_SESSIONS} AND json_extract(verification, '$.probe') IS NOT NULL`,
        )
        .run({ org: orgId, before: closedBefore.getTime() }).changes;
    },
    async clearLocations(orgId, closedBefore) {
      return db
        .stmt(`UPDATE records SET location = NULL WHERE ${OF_CLOSED_SESSIONS} AND location IS NOT NULL`)
        .run({ org: orgId, before: closedBefore.getTime() }).changes;
    },
    async truncateIps(orgId, closedBefore, truncate) {
      return truncateAll('records', OF_CLOSED_SESSIONS, { org: orgId, before: closedBefore.getTime() }, truncate);
    },
    async truncateAuditIps(orgId, before, truncate) {
      return truncateAll('audit', 'org_id = @org AND at <= @before', { org: orgId, before: before.getTime() }, truncate);
    },
  };
}

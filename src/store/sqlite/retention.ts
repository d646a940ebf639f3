import type { RetentionRepository } from '../types.js';
import type { SqliteDb } from './db.js';

// Retention of check-in details (types.ts RetentionRepository): records of sessions closed long enough ago.

const OF_CLOSED_SESSIONS = `org_id = @org AND session_id IN (
  SELECT id FROM sessions WHERE org_id = @org AND closed_at IS NOT NULL AND closed_at <= @before)`;

export function retentionRepository(db: SqliteDb): RetentionRepository {
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
      // A cut address is a network in CIDR form: the '/' keeps it out of every later pass.
      const rows = db
        .stmt<{ id: string; ip: string }>(`SELECT id, ip FROM records WHERE ${OF_CLOSED_SESSIONS} AND ip IS NOT NULL AND instr(ip, '/') = 0`)
        .all({ org: orgId, before: closedBefore.getTime() });
      const update = db.stmt('UPDATE records SET ip = ? WHERE id = ? AND ip = ?');
      return db.tx(() => rows.reduce((n, r) => n + update.run(truncate(r.ip), r.id, r.ip).changes, 0));
    },
    async truncateAuditIps(orgId, before, truncate) {
      const rows = db
        .stmt<{ id: string; ip: string }>(`SELECT id, ip FROM audit WHERE org_id = @org AND at <= @before AND ip IS NOT NULL AND instr(ip, '/') = 0`)
        .all({ org: orgId, before: before.getTime() });
      const update = db.stmt('UPDATE audit SET ip = ? WHERE id = ? AND ip = ?');
      return db.tx(() => rows.reduce((n, r) => n + update.run(truncate(r.ip), r.id, r.ip).changes, 0));
    },
  };
}

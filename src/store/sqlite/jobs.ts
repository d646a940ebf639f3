import { closeLeaseName, LeaseLostError, type LeaseFence } from '../../domain/ports/common.js';
import type { JobRepository } from '../../domain/ports/jobs.js';
import type { SqliteDb } from './db.js';

const RENEW = 'UPDATE jobs SET lease_until = ? WHERE name = ? AND lease_owner = ?';
const RENEW_CLOSE = 'UPDATE sessions SET lease_until = ? WHERE org_id = ? AND id = ? AND lease_owner = ?';

/** Renews each lease of a fenced write, inside the write's transaction; throws LeaseLostError (rolling it back) for one lost. */
export function renewFence(db: SqliteDb, fence: LeaseFence): void {
  for (const name of fence.names) {
    if (db.stmt(RENEW).run(fence.until.getTime(), name, fence.owner).changes !== 1) throw new LeaseLostError(name);
  }
  const { session } = fence;
  if (session && db.stmt(RENEW_CLOSE).run(fence.until.getTime(), session.orgId, session.id, fence.owner).changes !== 1) {
    throw new LeaseLostError(closeLeaseName(session.id));
  }
}

/** One write under a fence, when given: its leases renewed in the write's transaction; without one, the write alone. */
export function writeUnderFence<T>(db: SqliteDb, fence: LeaseFence | undefined, write: () => T): T {
  return fence
    ? db.tx(() => {
        renewFence(db, fence);
        return write();
      })
    : write();
}

// Leases of scheduled system jobs (one row per job name).

export function jobRepository(db: SqliteDb): JobRepository {
  return {
    async claim(name, owner, until, now, lastRunBefore) {
      // One statement: the row is created free and claimed, or claimed only when due and free.
      return (
        db
          .stmt(
            `INSERT INTO jobs (name, lease_owner, lease_until, last_run_at) VALUES (@name, @owner, @until, NULL)
             ON CONFLICT (name) DO UPDATE SET lease_owner = @owner, lease_until = @until
             WHERE (jobs.lease_until IS NULL OR jobs.lease_until < @now OR jobs.lease_owner = @owner)
               AND (jobs.last_run_at IS NULL OR jobs.last_run_at <= @lastRunBefore)`,
          )
          .run({ name, owner, until: until.getTime(), now: now.getTime(), lastRunBefore: lastRunBefore.getTime() }).changes === 1
      );
    },
    async renew(name, owner, until) {
      return db.stmt(RENEW).run(until.getTime(), name, owner).changes === 1;
    },
    async finish(name, owner, at) {
      db.stmt('UPDATE jobs SET lease_owner = NULL, lease_until = NULL, last_run_at = ? WHERE name = ? AND lease_owner = ?').run(
        at.getTime(),
        name,
        owner,
      );
    },
    async release(name, owner) {
      db.stmt('UPDATE jobs SET lease_owner = NULL, lease_until = NULL WHERE name = ? AND lease_owner = ?').run(name, owner);
    },
  };
}

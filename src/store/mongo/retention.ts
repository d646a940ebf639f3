import type { RetentionRepository } from '../../domain/ports/privacy.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { AUDIT_SCRUBS_COLLECTION } from './audit-scrubs.js';
import type { Models } from './models.js';

// Retention of check-in details (types.ts RetentionRepository): records of sessions closed long enough ago.

/** Sessions per round: records are found by the (orgId, sessionId) index, a batch of sessions at a time. */
const SESSION_BATCH = 500;
/** How long the address cut waits for an erasure's staged audit copies to be back in the trail: 20 x 100 ms. */
const SWAP_WAIT_ROUNDS = 20;
const SWAP_WAIT_MS = 100;

export function retentionRepository(m: Models): RetentionRepository {
  /** Calls `fn` with the ids of the organisation's sessions closed at or before `before`, a batch at a time; sums its counts. */
  async function eachClosedBatch(orgId: string, before: Date, fn: (sessionIds: string[]) => Promise<number>): Promise<number> {
    let total = 0;
    let batch: string[] = [];
    for await (const s of m.sessions
      .find({ orgId, closedAt: { $ne: null, $lte: before } }, { _id: 1 })
      .lean<{ _id: string }>()
      .cursor()) {
      batch.push(s._id);
      if (batch.length >= SESSION_BATCH) {
        total += await fn(batch);
        batch = [];
      }
    }
    if (batch.length > 0) total += await fn(batch);
    return total;
  }

  return {
    clearProbes(orgId, closedBefore) {
      return eachClosedBatch(orgId, closedBefore, async (sessionIds) => {
        const res = await m.records.updateMany(
          { orgId, sessionId: { $in: sessionIds }, 'verification.probe': { $exists: true, $ne: null } },
          { $unset: { 'verification.probe': 1 } },
        );
        return res.modifiedCount;
      });
    },
    clearLocations(orgId, closedBefore) {
      return eachClosedBatch(orgId, closedBefore, async (sessionIds) => {
        const res = await m.records.updateMany(
          { orgId, sessionId: { $in: sessionIds }, location: { $ne: null } },
          { $set: { location: null } },
        );
        return res.modifiedCount;
      });
    },
    truncateIps(orgId, closedBefore, truncate) {
      return eachClosedBatch(orgId, closedBefore, async (sessionIds) => {
        // A cut address is a network in CIDR form: the '/' keeps it out of every later pass.
        const rows = await m.records
          .find({ orgId, sessionId: { $in: sessionIds }, ip: { $type: 'string', $not: /\// } }, { _id: 1, ip: 1 })
          .lean<{ _id: string; ip: string }[]>();
        if (rows.length === 0) return 0;
        // Only if unchanged since read, like every other write of the address.
        const res = await m.records.bulkWrite(
          rows.map((r) => ({ updateOne: { filter: { _id: r._id, ip: r.ip }, update: { $set: { ip: truncate(r.ip) } } } })),
          { ordered: false },
        );
        return res.modifiedCount;
      });
    },
    async truncateAuditIps(orgId, before, truncate) {
      const uncut = { orgId, at: { $lte: before }, ip: { $type: 'string' as const, $not: /\// } };
      const pass = async (): Promise<number> => {
        let total = 0;
        let ops: { updateOne: { filter: { _id: string; ip: string }; update: { $set: { ip: string } } } }[] = [];
        const flush = async () => {
          if (ops.length > 0) total += (await m.audit.bulkWrite(ops, { ordered: false })).modifiedCount;
          ops = [];
        };
        for await (const e of m.audit.find(uncut, { _id: 1, ip: 1 }).lean<{ _id: string; ip: string }>().cursor()) {
          ops.push({ updateOne: { filter: { _id: e._id, ip: e.ip }, update: { $set: { ip: truncate(e.ip) } } } });
          if (ops.length >= SESSION_BATCH) await flush();
        }
        await flush();
        return total;
      };
      // An erasure swaps the entries it scrubs (audit-scrubs.ts): staged, deleted, then inserted
      // again. An entry a pass did not see was out of the trail then, so it was staged: the stage
      // is read after the pass and the trail passed again. Staged then, the copy may still be on
      // its way: wait for it, bounded (a round's insert follows its delete at once; a stopped
      // erasure's copies wait for its run again). Not staged then, its copy was already back, and
      // the second pass finds it.
      let total = await pass();
      for (let round = 1; ; round += 1) {
        const staged = await m.audit.db.collection(AUDIT_SCRUBS_COLLECTION).countDocuments(uncut);
        total += await pass();
        if (staged === 0 || round >= SWAP_WAIT_ROUNDS) return total;
        await sleep(SWAP_WAIT_MS);
      }
    },
  };
}

import { closeLeaseName, LeaseLostError, type LeaseFence } from '../../domain/ports/common.js';
import type { JobRepository } from '../../domain/ports/jobs.js';
import { isDuplicateKeyError } from './errors.js';
import type { Models } from './models.js';
import * as q from './queries.js';

/** Renews each lease of a fenced write right before it (a conditional update each); throws LeaseLostError for one lost. */
export async function renewFence(m: Models, fence: LeaseFence): Promise<void> {
  for (const name of fence.names) {
    const res = await m.jobs.updateOne({ _id: name, leaseOwner: fence.owner }, { $set: { leaseUntil: fence.until } });
    if (res.matchedCount !== 1) throw new LeaseLostError(name);
  }
  const { session } = fence;
  if (session) {
    const res = await m.sessions.updateOne(
      { _id: session.id, orgId: session.orgId, leaseOwner: fence.owner },
      { $set: { leaseUntil: fence.until } },
    );
    if (res.matchedCount !== 1) throw new LeaseLostError(closeLeaseName(session.id));
  }
}

/** A lease of the fence no longer its owner's, read after the write; null when all still are. */
export async function lostLease(m: Models, fence: LeaseFence): Promise<string | null> {
  const { session } = fence;
  if (session && (await m.sessions.countDocuments({ _id: session.id, orgId: session.orgId, leaseOwner: fence.owner })) !== 1) {
    return closeLeaseName(session.id);
  }
  if (fence.names.length === 0) return null;
  const held = await m.jobs.find({ _id: { $in: [...fence.names] }, leaseOwner: fence.owner }, { _id: 1 }).lean<{ _id: string }[]>();
  const ids = new Set(held.map((d) => d._id));
  return fence.names.find((n) => !ids.has(n)) ?? null;
}

// Leases of scheduled system jobs (one document per job name).

export function jobRepository(m: Models): JobRepository {
  return {
    async claim(name, owner, until, now, lastRunBefore) {
      // A conditional upsert: when the document exists but is not claimable, the filter does
      // not match and the insert of a second `_id` fails on the duplicate key: not claimed.
      try {
        await m.jobs.updateOne(
          q.jobClaimFilter(name, owner, now, lastRunBefore),
          { $set: { leaseOwner: owner, leaseUntil: until } },
          { upsert: true },
        );
        return true;
      } catch (err) {
        if (isDuplicateKeyError(err)) return false;
        throw err;
      }
    },
    async renew(name, owner, until) {
      return (await m.jobs.updateOne({ _id: name, leaseOwner: owner }, { $set: { leaseUntil: until } })).matchedCount === 1;
    },
    async finish(name, owner, at) {
      await m.jobs.updateOne({ _id: name, leaseOwner: owner }, { $set: { leaseOwner: null, leaseUntil: null, lastRunAt: at } });
    },
    async release(name, owner) {
      await m.jobs.updateOne({ _id: name, leaseOwner: owner }, { $set: { leaseOwner: null, leaseUntil: null } });
    },
  };
}

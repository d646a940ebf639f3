import { closeLeaseName, LeaseLostError, type LeaseFence } from '../../domain/ports/common.js';
import type { JobRepository } from '../../domain/ports/jobs.js';
import type { Model, QueryFilter, UpdateQuery } from 'mongoose';
import { isDuplicateKeyError, mapConflicts } from './errors.js';
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

/** One fenced conditional write of one document (see fencedFindOneAndUpdate). */
export interface FencedWrite<D> {
  model: Model<D>;
  /** The write's filter: the document and its precondition. */
  filter: QueryFilter<D>;
  /** The document alone (by id): read again after the write. */
  key: QueryFilter<D>;
  /** Its fields are those put back when a lease is lost. */
  update: { $set: Partial<D> };
  /** Beside `key`, what still shows the document as this write's when the fields are put back. */
  ours: QueryFilter<D>;
  /** The conflict key of a duplicate the write itself hits (errors.ts). */
  conflictKey?: string;
}

/**
 * A conditional findOneAndUpdate under a fence its caller renewed before it. No transaction
 * holds the leases across the write, so they are read again after it: one lost meanwhile puts
 * the fields the update set back as they were, only while `ours` still matches (a change made
 * since by the lease's new holder stays), and throws LeaseLostError. Otherwise the document as
 * it is after the write; null when the filter matched nothing (nothing written).
 */
export async function fencedFindOneAndUpdate<D>(m: Models, fence: LeaseFence | undefined, w: FencedWrite<D>): Promise<D | null> {
  const before = await mapConflicts(
    () => w.model.findOneAndUpdate(w.filter, w.update as UpdateQuery<D>, { returnDocument: 'before', runValidators: true }).lean<D>(),
    w.conflictKey,
  );
  if (!before) return null;
  const lost = fence ? await lostLease(m, fence) : null;
  if (lost !== null) {
    const back = Object.fromEntries(Object.keys(w.update.$set).map((k) => [k, before[k as keyof D] ?? null]));
    await w.model.updateOne({ ...w.key, ...w.ours }, { $set: back } as UpdateQuery<D>);
    throw new LeaseLostError(lost);
  }
  return w.model.findOne(w.key).lean<D>();
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

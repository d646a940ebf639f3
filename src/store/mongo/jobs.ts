import type { JobRepository } from '../../domain/ports/jobs.js';
import { isDuplicateKeyError } from './errors.js';
import type { Models } from './models.js';
import * as q from './queries.js';

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

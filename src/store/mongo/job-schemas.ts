import { Schema } from 'mongoose';
import { base, nullableDate, nullableString, requiredString } from './common-schemas.js';

// Leases of scheduled system jobs; the conventions of common-schemas.ts.

/** Lease of a scheduled system job, one document per job name (`_id`). */
export interface JobDoc {
  _id: string;
  leaseOwner: string | null;
  leaseUntil: Date | null;
  lastRunAt: Date | null;
}

export const jobSchema = new Schema<JobDoc>(
  {
    _id: requiredString,
    leaseOwner: nullableString,
    leaseUntil: nullableDate,
    lastRunAt: nullableDate,
  },
  { ...base, collection: 'jobs' },
);

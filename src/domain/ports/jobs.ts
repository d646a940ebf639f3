/**
 * Leases of scheduled system jobs.
 * The conventions of every port are in ./store.ts.
 */

/**
 * Leases of scheduled system jobs, one per job name, so that each run happens on one node:
 * a claim succeeds only when the job is due (its last run finished at or before
 * `lastRunBefore`, or it never ran) and its lease is free, expired or already the owner's.
 * The session slot locks (sessions/slot-locks.ts) are leases here too, named `slots:...`, that
 * never record a run and so are always due.
 */
export interface JobRepository {
  /** True when `owner` now holds the job's lease until `until`. */
  claim(name: string, owner: string, until: Date, now: Date, lastRunBefore: Date): Promise<boolean>;
  /**
   * Extends the lease to `until` if `owner` holds it still (expired or not), else changes nothing.
   * False when it was freed or another owner took it meanwhile: what `owner` checked under it may
   * be out of date (a fence before a write).
   */
  renew(name: string, owner: string, until: Date): Promise<boolean>;
  /** Records a run finished at `at` and frees the lease, if `owner` holds it. */
  finish(name: string, owner: string, at: Date): Promise<void>;
  /** Frees the lease without recording a run (it failed), if `owner` holds it. */
  release(name: string, owner: string): Promise<void>;
}

import type { Logger } from '../../logger.js';
import type { Store } from '../ports/store.js';
import { Periodic } from './periodic.js';

export interface ScheduledJobOptions {
  /** The job's lease name in the store, the same on every node. */
  name: string;
  /** This node's identity in leases. */
  owner: string;
  /** How often the job runs, counted across all nodes. */
  intervalMs: number;
  /** How often this node asks whether the job is due; by default a tenth of the interval, at most a minute. */
  checkMs?: number;
  /** How long a run's lease holds before another node may take over a dead node's run. */
  leaseMs?: number;
  /**
   * False while this node's clock disagrees with its peers' (docs/deploy.md, "The nodes' clocks
   * disagree"): the node then claims no run. By a clock minutes off, runs would be due early or
   * late, other nodes' leases would look expired, and each job's own time limits (a token's
   * expiry, a meeting's start, a retention cut-off) would move by the skew; the other nodes run it.
   */
  clockTrusted?: () => boolean;
}

/**
 * Runs a system job every `intervalMs` on exactly one node: each node asks the store now and
 * then, and only a node that claims the job's lease while the job is due (its last run at least
 * an interval ago) runs it, then records the run. Nothing is kept in memory, so a restarted
 * node, or any other, carries on the schedule; a run that fails is not recorded and is retried
 * at the next check.
 */
export class ScheduledJob {
  private readonly checks: Periodic;
  private readonly leaseMs: number;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly now: () => Date,
    private readonly options: ScheduledJobOptions,
    private readonly run: (now: Date) => Promise<void>,
  ) {
    const checkMs = options.checkMs ?? Math.min(60_000, Math.max(1_000, Math.floor(options.intervalMs / 10)));
    this.leaseMs = options.leaseMs ?? 5 * 60_000;
    this.checks = new Periodic(
      checkMs,
      () => this.tick().then(() => undefined),
      (err) => this.logger.error({ err, job: options.name }, 'scheduled job failed; will retry'),
    );
  }

  start(): void {
    this.checks.start();
  }

  /** Stops checking and waits for a run in progress to finish. */
  stop(): Promise<void> {
    return this.checks.stop();
  }

  /** One check: runs the job when it is due and this node claims it; true when it ran here. */
  async tick(): Promise<boolean> {
    const { name, owner, intervalMs, clockTrusted } = this.options;
    if (clockTrusted && !clockTrusted()) return false;
    const now = this.now();
    const claimed = await this.store.jobs.claim(
      name,
      owner,
      new Date(now.getTime() + this.leaseMs),
      now,
      new Date(now.getTime() - intervalMs),
    );
    if (!claimed) return false;
    try {
      await this.run(now);
    } catch (err) {
      await this.store.jobs.release(name, owner);
      throw err;
    }
    // The run is dated from its start, so the schedule does not drift by how long runs take.
    await this.store.jobs.finish(name, owner, now);
    return true;
  }
}

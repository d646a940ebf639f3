import type { CheckpointMode } from './wal-checkpointer.js';

// Which checkpoints a pass of the WAL checkpoint worker runs (workers/wal-checkpoint-worker.ts,
// docs/multi-node.md "WAL checkpoints"). Apart from the thread so that tests drive it with a fake
// clock and a fake WAL: what it decides is when the writer's commits wait for a lock.

/** What `PRAGMA wal_checkpoint` answers: busy 1 when it could not finish, frames in the WAL, frames copied. */
export interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

/** What a pass reads and runs: the worker's connection and clock, fakes in tests. */
export interface CheckpointIo {
  /** `PRAGMA data_version`: changes when another connection committed. */
  dataVersion(): number;
  checkpoint(mode: CheckpointMode): CheckpointResult;
  /** Size of the `-wal` file, 0 when there is none. */
  walBytes(): number;
  /** Milliseconds, any origin. */
  now(): number;
}

export interface CheckpointPolicyOptions {
  /** WAL frames from which a checkpoint may take the write lock while commits flow (RESTART). */
  hardBoundPages: number;
  /** How long nothing must have been committed before the WAL file is emptied (TRUNCATE). */
  idleMs: number;
}

/** Each round copies what the commits made during the one before it wrote. */
const PASSIVE_ROUNDS = 3;
/** How long a blocking mode that found the file busy is not tried again. */
const BUSY_BACKOFF_MS = 1_000;

/**
 * One pass. Another connection committed since the last pass: PASSIVE checkpoints (they never
 * wait and never block a writer), again while the commits made during one leave frames behind,
 * since SQLite starts the WAL over (and journal_size_limit shrinks it) only when a write begins
 * with every frame copied. The WAL past its hard bound all the same (a commit landed between the
 * copy and the next write each time, or a long reader such as a backup held the copy back):
 * RESTART, which takes the writer lock so the next commit starts the WAL over; the main thread's
 * writes wait while it runs, which is why it waits for the bound. Nothing committed for
 * `idleMs`: TRUNCATE, once, so an idle store leaves an empty WAL (not after one quiet pass: a
 * batch under load can take longer than a pass, and the next ones would wait for the TRUNCATE's
 * lock and fsync). A blocking mode that found a reader in the way is not tried again for a
 * second; each mode on its own (nextAttempt).
 */
export class CheckpointPolicy {
  private seenVersion = -1;
  /** When a pass last saw a commit of another connection. */
  private changedAt: number;
  /**
   * When each blocking mode may be tried again after one found the file busy. Apart: a TRUNCATE
   * only tidies an idle store, and one that a new write got in the way of must not hold back the
   * RESTART that keeps the WAL under its bound once the writes go on.
   */
  private readonly nextAttempt: Record<'RESTART' | 'TRUNCATE', number> = { RESTART: 0, TRUNCATE: 0 };

  constructor(
    private readonly opts: CheckpointPolicyOptions,
    private readonly io: CheckpointIo,
  ) {
    this.changedAt = io.now();
  }

  pass(): void {
    const { io } = this;
    const version = io.dataVersion();
    if (version !== this.seenVersion) this.changedAt = io.now();
    if (version !== this.seenVersion) {
      let result = io.checkpoint('PASSIVE');
      for (let i = 1; i < PASSIVE_ROUNDS && result.busy === 0 && result.checkpointed < result.log; i += 1) {
        result = io.checkpoint('PASSIVE');
      }
      // A busy PASSIVE (another connection held the checkpoint lock: the main connection's own
      // automatic checkpoint after a large commit) saw nothing of the WAL: the next pass looks
      // again, instead of taking the commits as handled and leaving the bound to the idle TRUNCATE.
      if (result.busy === 0) this.seenVersion = version;
      if (result.log >= this.opts.hardBoundPages) this.blocking('RESTART');
    } else if (io.now() - this.changedAt >= this.opts.idleMs && io.walBytes() > 0) {
      this.blocking('TRUNCATE');
    }
  }

  /** A blocking checkpoint, unless one of its mode found the file busy within the last second. */
  private blocking(mode: 'RESTART' | 'TRUNCATE'): void {
    if (this.io.now() < this.nextAttempt[mode]) return;
    if (this.io.checkpoint(mode).busy !== 0) this.nextAttempt[mode] = this.io.now() + BUSY_BACKOFF_MS;
  }
}

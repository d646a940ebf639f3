import type { CheckpointMode } from './wal-checkpointer.js';
import type { WalIndexState } from './wal-frames.js';

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
  /** The wal-index now (frames, frames copied, times started over), read without a lock. */
  walIndex(): WalIndexState;
  /** Size of the `-wal` file, 0 when there is none. */
  walBytes(): number;
  /** Milliseconds, any origin. */
  now(): number;
  /**
   * A PASSIVE with the record writer held between two batches (writer-gate.ts), so that no commit
   * of it lands during the copy; null when it could not be held (its batch outlasted the wait, or
   * it is gone). Absent without a record writer thread: a RESTART then, as before.
   */
  heldCheckpoint?(): CheckpointResult | null;
}

export interface CheckpointPolicyOptions {
  /**
   * WAL frames the WAL must not keep past: from there a pass that could not copy every frame
   * takes the write lock to copy the rest (RESTART). Below it, and at it while every frame is
   * copied, commits never wait for a checkpoint.
   */
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
 * with every frame copied. That is how the WAL starts over while commits flow: no lock, no wait.
 *
 * A RESTART takes the write lock, copies what is left and fsyncs under it: every commit behind
 * it waits, and in SQLite's busy handler, which sleeps in steps of 1, 2, 5, 10, 15, 20 ms..., so a
 * lock held 20 ms cost a commit 35. While commits flow it runs only at the hard bound, and only
 * when the PASSIVE rounds left frames behind (a commit landed during each) or when, after one
 * that copied all, the WAL did not start over by the next pass (a reader on its old frames):
 * with every frame copied the next commit starts it over by itself. A pass that sees no commit
 * since the last one and a WAL still at the bound RESTARTs at once, once (nothing left to copy,
 * nobody waiting). Nothing committed for `idleMs`: TRUNCATE, once, so an idle store leaves an empty WAL
 * (not after one quiet pass: a batch under load can take longer than a pass, and the next ones
 * would wait for the TRUNCATE's lock and fsync). A blocking mode that found a reader in the way
 * is not tried again for a second; each mode on its own (nextAttempt).
 *
 * With a record writer thread (io.heldCheckpoint), a RESTART while commits flow is first replaced
 * by a PASSIVE with the writer held between two batches (writer-gate.ts): nothing lands during
 * it, so it copies every frame and the writer's next commit starts the WAL over, without the
 * write lock and so without the busy handler's sleeps (round 27 measured those as the slowest
 * commits' blocked time). A RESTART remains for a writer that could not be held and for a WAL
 * that a reader kept from starting over.
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
  /**
   * The WAL when a pass at the bound left the start-over to the next commit (its generation and
   * frames); else null. A commit since that appended to the same generation found a reader on
   * the WAL's frames. By generation, not size alone: at 5,000 check-ins/s a WAL started over
   * grows past its old size within two passes, and a size compared as "not started over"
   * RESTARTed it for nothing; and a pass that comes right after (a held pass outlasting the
   * interval) finds no commit since, which is no sign of a reader.
   */
  private leftAt: { generation: number; frames: number; quiet: number } | null = null;
  /** Whether the last checkpoint was a RESTART or TRUNCATE that succeeded. */
  private blockedSince = false;
  /** The WAL's generation when last looked at, and the start-overs counted since takeStartedOver. */
  private generation: number | null = null;
  private startedOver = 0;

  constructor(
    private readonly opts: CheckpointPolicyOptions,
    private readonly io: CheckpointIo,
  ) {
    this.changedAt = io.now();
  }

  /** How many times the WAL was found started over by a commit (not a RESTART) since the last call. */
  takeStartedOver(): number {
    const n = this.startedOver;
    this.startedOver = 0;
    return n;
  }

  pass(): void {
    const { io } = this;
    const version = io.dataVersion();
    if (version !== this.seenVersion) {
      this.changedAt = io.now();
      let result = this.checkpoint('PASSIVE');
      for (let i = 1; i < PASSIVE_ROUNDS && result.busy === 0 && this.leftBehind(result); i += 1) {
        result = this.checkpoint('PASSIVE');
      }
      // A busy PASSIVE (another connection held the checkpoint lock: the main connection's own
      // automatic checkpoint after a large commit) saw nothing of the WAL: the next pass looks
      // again, instead of taking the commits as handled and leaving the bound to the idle TRUNCATE.
      if (result.busy === 0) this.seenVersion = version;
      this.atBound(result);
    } else if (!this.blockedSince && io.walIndex().frames >= this.opts.hardBoundPages && this.quietAtBound()) {
      this.blocking('RESTART');
    } else if (io.now() - this.changedAt >= this.opts.idleMs && io.walBytes() > 0) {
      this.blocking('TRUNCATE');
    }
  }

  /**
   * Whether commits left frames behind the PASSIVE: some it could not copy, or appended while it
   * copied. The WAL is read again: SQLite answers `log` as the frames when the checkpoint began,
   * so a PASSIVE that copied those answers "all" while the writer's commits went on; a pass then
   * ran one round and left the rest to the held one, whose copy and fsyncs the writer waited for
   * (round 29: 16 to 19 ms at the median under the 5,000/s load, docs/multi-node.md).
   */
  private leftBehind(result: CheckpointResult): boolean {
    return result.checkpointed < result.log || this.io.walIndex().frames > result.log;
  }

  /**
   * Whether a pass without a commit may RESTART the WAL at the bound. Not the first one after a
   * pass left the start-over to the next commit: that one often follows at once (a held pass
   * outlasts the interval), and its RESTART would take the lock from the writer's next batch,
   * which starts the WAL over by itself.
   */
  private quietAtBound(): boolean {
    if (this.leftAt === null) return true;
    this.leftAt.quiet += 1;
    return this.leftAt.quiet > 1;
  }

  private atBound(result: CheckpointResult): void {
    if (result.log < this.opts.hardBoundPages) {
      this.leftAt = null;
      return;
    }
    // The WAL did not start over since a pass left it to the next commit: a reader on its frames.
    if (this.leftAt !== null && this.generation === this.leftAt.generation) {
      if (result.log <= this.leftAt.frames) return; // no commit since: the next one starts it over
      this.leftAt = null;
      this.blocking('RESTART');
      return;
    }
    const allCopied = result.busy === 0 && result.checkpointed >= result.log;
    // With the writer's gate, "all" must still hold now: a commit that landed after the PASSIVE
    // read the WAL keeps the next one from starting it over, and the WAL grows another pass.
    const grownSince = this.io.heldCheckpoint !== undefined && this.io.walIndex().frames > result.log;
    if (allCopied && !grownSince) {
      this.leftAt = { generation: this.generation ?? -1, frames: result.log, quiet: 0 };
      return;
    }
    const held = this.checkpoint('PASSIVE', true);
    if (held && held.busy === 0 && held.checkpointed >= held.log) {
      this.leftAt = { generation: this.generation ?? -1, frames: held.log, quiet: 0 };
      return;
    }
    this.leftAt = null;
    this.blocking('RESTART');
  }

  /** With `held`, a PASSIVE with the writer held (null when it could not be); never held without the io's support. */
  private checkpoint(mode: CheckpointMode): CheckpointResult;
  private checkpoint(mode: 'PASSIVE', held: true): CheckpointResult | null;
  private checkpoint(mode: CheckpointMode, held = false): CheckpointResult | null {
    const before = this.io.walIndex().generation;
    const result = held ? (this.io.heldCheckpoint?.() ?? null) : this.io.checkpoint(mode);
    if (result === null) return null;
    // Started over since the last look, and not by a RESTART or TRUNCATE of this worker's.
    if (this.generation !== null && before !== this.generation && !this.blockedSince) this.startedOver += 1;
    // A busy RESTART or TRUNCATE did not start the WAL over: what follows may still be a commit's.
    this.blockedSince = mode === 'PASSIVE' ? false : result.busy === 0 || this.blockedSince;
    this.generation = this.io.walIndex().generation;
    return result;
  }

  /** A blocking checkpoint, unless one of its mode found the file busy within the last second. */
  private blocking(mode: 'RESTART' | 'TRUNCATE'): void {
    if (this.io.now() < this.nextAttempt[mode]) return;
    if (this.checkpoint(mode).busy !== 0) this.nextAttempt[mode] = this.io.now() + BUSY_BACKOFF_MS;
  }
}

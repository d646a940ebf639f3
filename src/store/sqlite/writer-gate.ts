// The record writer thread and the WAL checkpoint worker of one file store share one Int32 here
// (docs/multi-node.md, "WAL checkpoints"): at the WAL's bound the checkpoint worker holds the
// writer between two batches while a last PASSIVE copies what is left, so the writer's next commit
// starts the WAL over, instead of a RESTART that takes SQLite's write lock and leaves the writer
// sleeping in the busy handler's 1, 2, 5, 10, 15, 20 ms steps behind it. Both sides wait with a
// bound: the gate only ever delays a batch, it never decides whether one commits.

/** No batch open, nothing held. */
const IDLE = 0;
/** The writer is in a batch's transaction. */
const WRITING = 1;
/** The writer is in a batch and the checkpoint worker waits for it to end. */
const WANTED = 2;
/** Held: the writer starts no batch until the checkpoint worker releases it (or its wait ends). */
const HELD = 3;
/** The writer thread is gone (batches on the main connection): nothing to hold. */
const OFF = 4;

export class WriterGate {
  private readonly cell: Int32Array;

  constructor(buffer: SharedArrayBuffer) {
    this.cell = new Int32Array(buffer, 0, 1);
  }

  /** The memory both threads get (workerData copies a SharedArrayBuffer by reference). */
  static buffer(): SharedArrayBuffer {
    return new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
  }

  /** Writer thread, before a batch's transaction: waits while held, at most `maxWaitMs`. */
  enter(maxWaitMs: number): void {
    const until = performance.now() + maxWaitMs;
    for (;;) {
      const state = Atomics.compareExchange(this.cell, 0, IDLE, WRITING);
      if (state !== HELD) return; // IDLE (now WRITING) or OFF; WRITING/WANTED cannot be seen here
      const left = until - performance.now();
      if (left <= 0) {
        // Held past the bound (a checkpoint thread without a core): write anyway. Its PASSIVE
        // then leaves this batch's frames behind, which the next pass copies; nothing is lost.
        if (Atomics.compareExchange(this.cell, 0, HELD, WRITING) === HELD) return;
        continue;
      }
      Atomics.wait(this.cell, 0, HELD, left);
    }
  }

  /** Writer thread, after the batch committed or failed: hands over to a waiting checkpoint worker. */
  leave(): void {
    const state = Atomics.compareExchange(this.cell, 0, WRITING, IDLE);
    if (state === WANTED && Atomics.compareExchange(this.cell, 0, WANTED, HELD) === WANTED) Atomics.notify(this.cell, 0);
  }

  /**
   * Checkpoint worker: holds the writer between two batches, waiting at most `maxWaitMs` for the
   * one in progress to end. True when held (call release()), false when not (no writer thread, or
   * its batch outlasted the wait).
   */
  hold(maxWaitMs: number): boolean {
    const until = performance.now() + maxWaitMs;
    for (;;) {
      const state = Atomics.compareExchange(this.cell, 0, IDLE, HELD);
      if (state === IDLE || state === HELD) return true;
      if (state === OFF) return false;
      if (state === WRITING && Atomics.compareExchange(this.cell, 0, WRITING, WANTED) !== WRITING) continue;
      const left = until - performance.now();
      if (left > 0) Atomics.wait(this.cell, 0, WANTED, left);
      if (Atomics.load(this.cell, 0) === HELD) return true;
      if (performance.now() >= until) {
        // Give the writer its batch back; if it handed over meanwhile, the hold is ours after all.
        return Atomics.compareExchange(this.cell, 0, WANTED, WRITING) === HELD;
      }
    }
  }

  /** Checkpoint worker: lets the writer start its next batch. */
  release(): void {
    if (Atomics.compareExchange(this.cell, 0, HELD, IDLE) === HELD) Atomics.notify(this.cell, 0);
  }

  /** The writer thread is gone: the checkpoint worker no longer waits for it. */
  off(): void {
    Atomics.store(this.cell, 0, OFF);
    Atomics.notify(this.cell, 0);
  }
}

/**
 * How long either side waits for the other: the checkpoint worker for the batch in progress to
 * end, the writer for a held PASSIVE to finish. The checkpoint worker's busy_timeout, the wait a
 * RESTART had for the write lock.
 */
export const WRITER_HOLD_MS = 100;

import { EventEmitter } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Store } from '../../domain/ports/store.js';
import type { SqliteDb } from './db.js';
import { stopStoreWorker } from './worker-stop.js';
import type { ThreadSchedstat } from './thread-schedstat.js';

// WAL checkpoints on a worker thread (docs/multi-node.md, "WAL checkpoints"). The automatic
// checkpoint runs inside the commit that crosses wal_autocheckpoint pages, on the event loop
// of the node: moved out of the way (raised to twice the WAL bound, a safety net), a batched
// record write costs the main thread about 30 % less CPU.

export type CheckpointMode = 'PASSIVE' | 'RESTART' | 'TRUNCATE';

/** What the worker is started with (workers/wal-checkpoint-worker.ts). */
export interface CheckpointWorkerData {
  file: string;
  intervalMs: number;
  /** WAL pages from which the worker makes the writer start the WAL over (RESTART). */
  hardBoundPages: number;
  /** How long a RESTART or TRUNCATE waits for the writer and the readers; writes wait as long. */
  busyTimeoutMs: number;
  /** How long nothing must have been committed before the WAL file is emptied (TRUNCATE). */
  idleMs: number;
  /** Report each pass that checkpointed with its times (stage tables only). */
  threadTimes: boolean;
  /** Shared with the record writer thread (writer-gate.ts); absent without one. */
  writerGate?: SharedArrayBuffer;
}

/**
 * A pass that checkpointed, with `threadTimes` (absolute ms; `sched` null where Linux's
 * schedstat is absent): the stage table tells whether it overlapped a slow commit.
 */
export interface CheckpointPassTimes {
  start: number;
  end: number;
  sched: ThreadSchedstat | null;
  /** Frames copied into the database file by the pass's checkpoints. */
  checkpointed: number;
  /** Its checkpoints' modes, in order: `PASSIVE`, `PASSIVE PASSIVE RESTART`, `PASSIVE HELD` (the writer held)... */
  modes: string;
  /**
   * Times the WAL started over by a commit (not after a RESTART or TRUNCATE) that this pass's
   * checkpoints found since the last reported pass; absent from dumps before round 21.
   */
  startedOver?: number;
}

export type ToCheckpointWorker = { type: 'stop' };

export type FromCheckpointWorker =
  | { type: 'ready' }
  | { type: 'checkpoint'; mode: CheckpointMode; busy: number; log: number; checkpointed: number }
  | { type: 'failed'; message: string }
  | ({ type: 'pass' } & CheckpointPassTimes);

/** The minimal logger the checkpointer needs; pino's Logger fits it. */
export interface CheckpointLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface WalCheckpointStatus {
  /**
   * `starting` until the thread is up (SQLite's automatic checkpoint stays on meanwhile),
   * `worker` while it checkpoints, `automatic` once it died and SQLite's own checkpoint is back on.
   */
  mode: 'starting' | 'worker' | 'automatic';
  /** Checkpoints the worker ran, of every mode. */
  checkpoints: number;
  /** The worker's last checkpoint: WAL frames, and how many of them are in the database file. */
  last: { mode: CheckpointMode; busy: number; log: number; checkpointed: number } | null;
}

export interface WalCheckpointerOptions {
  log: CheckpointLogger;
  /** Default CHECKPOINT_INTERVAL_MS. */
  intervalMs?: number;
  /** Default WAL_HARD_BOUND_BYTES. */
  hardBoundBytes?: number;
  /** Default CHECKPOINT_IDLE_MS. */
  idleMs?: number;
  /** Emit `pass` with each checkpointing pass's times (default false: a measuring tool). */
  threadTimes?: boolean;
  /** The record writer thread's gate (writer-gate.ts): at the bound the writer is held, not locked out. */
  writerGate?: SharedArrayBuffer;
}

/**
 * A pass every 100 ms: an idle pass costs one PRAGMA, and under load the WAL holds what 100 ms of
 * commits wrote (docs/multi-node.md gives the WAL measured under the open-loop load).
 */
export const CHECKPOINT_INTERVAL_MS = 100;
/**
 * A store with nothing committed for this long is idle: its WAL file is emptied (TRUNCATE). Not
 * one pass: under load a batch can take longer than a pass, and a TRUNCATE takes the write lock
 * and fsyncs, so the batches behind it waited (docs/multi-node.md, "WAL checkpoints").
 */
export const CHECKPOINT_IDLE_MS = 1_000;
/**
 * The WAL is not kept past this size: at it, a pass that could not copy every frame takes the
 * write lock to (RESTART); it is also the size a WAL file is cut back to (journal_size_limit).
 */
export const WAL_HARD_BOUND_BYTES = 16 * 1024 * 1024;
/** SQLite's default wal_autocheckpoint, in pages: what a connection falls back to. */
const SQLITE_AUTOCHECKPOINT_PAGES = 1_000;
const WORKER_BUSY_TIMEOUT_MS = 100;
/** The worker holds no data of its own; small heaps keep the thread's memory near its baseline. */
const WORKER_HEAP = { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 32 };

/**
 * Owns the checkpoint worker of one file store. Moves the main connection's automatic checkpoint
 * out of the way (to twice the WAL bound) while the worker runs, and back to SQLite's default
 * (logged) if the worker dies, so the WAL never grows unchecked. Durability does not change: a checkpoint only copies committed WAL frames into the
 * database file.
 */
export class WalCheckpointer extends EventEmitter<{
  /** The thread is up and the main connection's automatic checkpoint is only a safety net. */
  running: [];
  checkpoint: [NonNullable<WalCheckpointStatus['last']>];
  /** With threadTimes: a pass that checkpointed. */
  pass: [CheckpointPassTimes];
  /** The thread died; SQLite's automatic checkpoint is back on. */
  fallback: [Error];
}> {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  private stopping = false;
  private mode: WalCheckpointStatus['mode'] = 'starting';
  private checkpoints = 0;
  private last: WalCheckpointStatus['last'] = null;
  private failing = 0;
  private readonly safetyNetPages: number;

  constructor(
    private readonly db: SqliteDb,
    file: string,
    private readonly opts: WalCheckpointerOptions,
  ) {
    super();
    const hardBoundBytes = opts.hardBoundBytes ?? WAL_HARD_BOUND_BYTES;
    const pageSize = db.raw.pragma('page_size', { simple: true }) as number;
    db.raw.pragma(`journal_size_limit = ${hardBoundBytes}`);
    const hardBoundPages = Math.max(1, Math.floor(hardBoundBytes / pageSize));
    this.safetyNetPages = 2 * hardBoundPages;
    const workerData: CheckpointWorkerData = {
      file: path.resolve(file),
      intervalMs: opts.intervalMs ?? CHECKPOINT_INTERVAL_MS,
      hardBoundPages,
      busyTimeoutMs: WORKER_BUSY_TIMEOUT_MS,
      idleMs: opts.idleMs ?? CHECKPOINT_IDLE_MS,
      threadTimes: opts.threadTimes ?? false,
      ...(opts.writerGate ? { writerGate: opts.writerGate } : {}),
    };
    // No flags of the main thread: the worker needs none, and some (--input-type) fail it.
    this.worker = new Worker(workerFile(), { workerData, name: 'wal-checkpoint', execArgv: [], resourceLimits: WORKER_HEAP });
    // A script that forgets close() still exits; close() is what runs the last checkpoint.
    this.worker.unref();
    this.worker.on('message', (m: FromCheckpointWorker) => this.onMessage(m));
    this.worker.on('error', (err) => this.fallBack(err));
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', (code) => {
        if (!this.stopping) this.fallBack(new Error(`the checkpoint worker exited with code ${code}`));
        resolve();
      });
    });
  }

  status(): WalCheckpointStatus {
    return { mode: this.mode, checkpoints: this.checkpoints, last: this.last };
  }

  /** The thread, for tests that kill it. */
  get thread(): Worker {
    return this.worker;
  }

  /** Stops the worker and waits for it to close its connection; the store then checkpoints once more. */
  async stop(): Promise<void> {
    if (this.stopping) return this.exited;
    this.stopping = true;
    if (this.mode === 'automatic') return this.exited;
    await stopStoreWorker(this.worker, { type: 'stop' } satisfies ToCheckpointWorker, this.exited, this.opts.log, 'WAL checkpoint');
  }

  private onMessage(m: FromCheckpointWorker): void {
    if (m.type === 'ready') {
      // Only now: a thread takes a moment to start, and the WAL must not grow unchecked meanwhile.
      if (this.mode !== 'starting' || this.stopping) return;
      this.mode = 'worker';
      // Not 0: a safety net at twice the bound, for a worker that does not get a core in time
      // (a burst of writes faster than its passes). While it keeps up, the main thread's commits
      // never reach it and pay nothing but SQLite's frame count check.
      this.db.raw.pragma(`wal_autocheckpoint = ${this.safetyNetPages}`);
      this.emit('running');
    } else if (m.type === 'checkpoint') {
      this.checkpoints += 1;
      this.last = { mode: m.mode, busy: m.busy, log: m.log, checkpointed: m.checkpointed };
      this.emit('checkpoint', this.last);
      if (this.failing > 0) {
        this.opts.log.warn({ failedPasses: this.failing }, 'WAL checkpoints succeed again');
        this.failing = 0;
      }
    } else if (m.type === 'pass') {
      const { type: _type, ...times } = m;
      this.emit('pass', times);
    } else if (m.type === 'failed') {
      // The first failure of a run is logged, not each pass of it (ten a second).
      if (this.failing === 0) this.opts.log.warn({ reason: m.message }, 'a WAL checkpoint failed; retrying every pass');
      this.failing += 1;
    }
  }

  private fallBack(err: Error): void {
    if (this.mode === 'automatic') return;
    this.mode = 'automatic';
    // The store may be closing already; a closed connection needs no checkpoint setting.
    let restored = false;
    if (!this.stopping) {
      this.db.raw.pragma(`wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT_PAGES}`);
      restored = true;
    }
    this.opts.log.error(
      { err, walAutocheckpoint: restored ? SQLITE_AUTOCHECKPOINT_PAGES : null },
      "the WAL checkpoint worker died: SQLite's automatic checkpoint on the main connection is back on",
    );
    this.emit('fallback', err);
  }
}

/**
 * The checkpoint worker of a file SQLite store (SqliteStore.checkpointer), null for any other
 * store. Here rather than in sqlite-store.ts so the application can ask without loading SQLite.
 */
export function walCheckpointerOf(store: Store): WalCheckpointer | null {
  const own = (store as { checkpointer?: unknown }).checkpointer;
  return store.kind === 'sqlite' && typeof own === 'function' ? (own as () => WalCheckpointer | null)() : null;
}

function workerFile(): string {
  const here = fileURLToPath(import.meta.url);
  const workers = path.resolve(path.dirname(here), '..', '..', '..', 'workers');
  return path.extname(here) === '.ts'
    ? path.join(workers, 'wal-checkpoint-worker.dev.mjs')
    : path.join(workers, 'wal-checkpoint-worker.js');
}

import { EventEmitter } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { ActorGoneError, LeaseLostError, StoreBusyError, StoreConflictError, type LeaseFence } from '../../domain/ports/common.js';
import type { RecordWrite, RecordWriteResult } from '../../domain/ports/records.js';
import type { Store } from '../../domain/ports/store.js';
import type { CheckpointLogger } from './wal-checkpointer.js';
import { insertedRecord } from './attendance.js';
import { stopStoreWorker } from './worker-stop.js';
import { encodeWrites, type WireWrites } from './record-write-wire.js';
import type { ThreadSchedstat } from './thread-schedstat.js';

// The group commit's transaction on a worker thread (docs/multi-node.md, "Record writer"). The
// batch's SQLite work (inserts, audit rows, the commit and its WAL write) took about 35-40 % of
// the main thread under load; here the main thread parses, evaluates and answers the next
// check-ins while a connection of the worker's own commits the batch.

/** What the worker is started with (workers/record-writer-worker.ts). */
export interface RecordWriterWorkerData {
  file: string;
  /** The worker connection's wal_autocheckpoint: the checkpoint worker's safety net, or SQLite's default. */
  autocheckpointPages: number;
  /** Read the thread's schedstat and the WAL's frames around each transaction (stage tables only). */
  threadTimes: boolean;
  /** Shared with the checkpoint worker (writer-gate.ts): a batch waits while it is held. */
  gate?: SharedArrayBuffer;
}

/**
 * One transaction as the writer thread lived it, with `threadTimes`: its CPU and run-queue
 * times (null where Linux's schedstat is absent), the WAL frames it wrote and the WAL's frames after it.
 */
export interface WriterThreadTimes {
  sched: ThreadSchedstat | null;
  frames: number;
  walFrames: number;
}

/** An error crossing the thread boundary: the classes the callers tell apart, rebuilt on this side. */
export type WireError =
  | { name: 'StoreConflictError'; key: string }
  | { name: 'StoreBusyError' }
  | { name: 'ActorGoneError'; actorId: string }
  | { name: 'LeaseLostError'; lease: string }
  | { name: 'SqliteError'; message: string; code: string }
  | { name: 'Error'; message: string };

/**
 * A batch's outcomes as the worker sends them, one flat array. A new record (most of a batch)
 * comes back as its id (a string) then its roster version, and is rebuilt here from the write and
 * the batch's time, as the insert built it (insertedRecord): a third of the bytes to copy, and
 * fewer objects for the main thread's garbage collector. Any other outcome is its object.
 */
export type WireResults = (string | number | Exclude<RecordWriteResult, { error: unknown }> | { written: false; error: WireError })[];

/** A LeaseFence as posted to the worker (`until` in ms). */
export type WireFence = Omit<LeaseFence, 'until'> & { until: number };

export type ToRecordWriter =
  /** `at`: the store clock's time of the batch (ms), the records' createdAt/updatedAt; `fence`: a close's. */
  | { type: 'write'; id: number; at: number; writes: WireWrites; fence?: WireFence }
  | { type: 'autocheckpoint'; pages: number }
  | { type: 'stop' };

export type FromRecordWriter =
  /** `tid`: the thread's kernel id, with threadTimes on Linux (RecordWriter.kernelThreadId). */
  | { type: 'ready'; tid?: number }
  /** `took`: when the thread read the batch and when it committed (absolute ms; two clock reads per batch). */
  | { type: 'written'; id: number; results: WireResults; took: [number, number]; thread?: WriterThreadTimes }
  | { type: 'failed'; id: number; error: WireError };

export interface RecordWriterStatus {
  /**
   * `worker` while batches are committed on the thread (including while it starts), `inline` once
   * it died: batches are committed on the main connection, as with SQLITE_WRITER_WORKER=false.
   */
  mode: 'worker' | 'inline';
  /** Batches committed by the worker. */
  batches: number;
}

type InlineWrite = (writes: readonly RecordWrite[], fence?: LeaseFence) => Promise<RecordWriteResult[]>;

interface Pending {
  writes: readonly RecordWrite[];
  fence: LeaseFence | undefined;
  at: Date;
  resolve: (r: RecordWriteResult[]) => void;
  reject: (err: unknown) => void;
}

/** The worker keeps one batch (at most CHECKIN_BATCH_MAX writes) at a time. */
const WORKER_HEAP = { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 64 };

/** A batch the thread committed (`committed` event): when it read and committed it (absolute ms), its writes. */
export interface CommittedBatch {
  received: number;
  committed: number;
  size: number;
  /** With threadTimes only. */
  thread?: WriterThreadTimes;
}

/**
 * Owns the record writer thread of one file store. `writeBatch` posts a batch with its time and
 * resolves once the worker's transaction committed (same WAL, same synchronous=NORMAL: durable
 * against a killed process as before). Batches are committed in the order they are posted. If the
 * thread dies, the batches it had not answered are written again on the main connection (a
 * write it committed reads back as already there: written once, and its check-in is answered
 * with the stored record), and so is every later batch; logged at error level, the gauge
 * `attendance_sqlite_writer_worker_up` drops to 0.
 */
export class RecordWriter extends EventEmitter<{ fallback: [Error]; committed: [CommittedBatch] }> {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  private readonly pending = new Map<number, Pending>();
  /** Every batch posted and not yet answered (also those rewritten inline after a death): stop() waits for them. */
  private readonly out = new Set<Promise<unknown>>();
  /** encodeWrites' room to lay a batch out in, empty between batches. */
  private readonly wireScratch: unknown[] = [];
  private nextId = 1;
  private mode: RecordWriterStatus['mode'] = 'worker';
  private batches = 0;
  private stopping = false;
  private tid: number | null = null;
  /**
   * After a death: settles once the batches the thread had not answered are written again. Later
   * batches are written after it, so the order they were handed over in holds (the group commit
   * hands over the next batch before the previous one is answered, CHECKIN_BATCH_PIPELINE).
   */
  private rewritten: Promise<unknown> = Promise.resolve();

  constructor(
    data: RecordWriterWorkerData,
    private readonly inline: InlineWrite,
    private readonly log: CheckpointLogger,
  ) {
    super();
    // Of the main thread's flags only the profiler's: the worker needs no other, and some
    // (--input-type) fail it; under --cpu-prof the thread writes a profile of its own.
    this.worker = new Worker(workerFile(), {
      workerData: data,
      name: 'record-writer',
      execArgv: profilerFlags(process.execArgv),
      resourceLimits: WORKER_HEAP,
    });
    // Only pending batches keep the process alive (ref'd while one is out).
    this.worker.unref();
    this.worker.on('message', (m: FromRecordWriter) => this.onMessage(m));
    this.worker.on('error', (err) => this.fallBack(err));
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', (code) => {
        if (!this.stopping || this.pending.size > 0) this.fallBack(new Error(`the record writer worker exited with code ${code}`));
        resolve();
      });
    });
  }

  status(): RecordWriterStatus {
    return { mode: this.mode, batches: this.batches };
  }

  /** The thread, for tests that kill it. */
  get thread(): Worker {
    return this.worker;
  }

  /**
   * The thread's kernel id once it is up, with threadTimes on Linux (else null): a benchmark reads
   * its schedstat from outside while it sleeps (schedstatOfThread), which its own reads cannot do.
   */
  get kernelThreadId(): number | null {
    return this.tid;
  }

  /**
   * Commits the batch on the worker; `at` stamps its records (the store's clock, read by the
   * caller). `fence` is renewed in the worker's transaction, as on the main connection.
   */
  writeBatch(writes: readonly RecordWrite[], at: Date, fence?: LeaseFence): Promise<RecordWriteResult[]> {
    if (this.mode === 'inline') {
      const written = this.rewritten.then(() => this.inline(writes, fence));
      this.rewritten = written.catch(() => undefined);
      return written;
    }
    const id = this.nextId++;
    const answer = new Promise<RecordWriteResult[]>((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { writes, fence, at, resolve, reject });
      const wire = fence ? { fence: { ...fence, until: fence.until.getTime() } } : {};
      this.worker.postMessage({
        type: 'write',
        id,
        at: at.getTime(),
        writes: encodeWrites(writes, this.wireScratch),
        ...wire,
      } satisfies ToRecordWriter);
    });
    const settled: Promise<unknown> = answer.then(
      () => this.out.delete(settled),
      () => this.out.delete(settled),
    );
    this.out.add(settled);
    return answer;
  }

  /** Follows the checkpoint worker: its safety net while it runs, SQLite's default once it died. */
  setAutocheckpoint(pages: number): void {
    if (this.mode === 'worker' && !this.stopping) this.worker.postMessage({ type: 'autocheckpoint', pages } satisfies ToRecordWriter);
  }

  /** Waits for the batches out, then stops the worker; the store closes its own connection after. */
  async stop(): Promise<void> {
    if (this.stopping) return this.exited;
    await Promise.allSettled(this.out);
    this.stopping = true;
    if (this.mode === 'inline') return this.exited;
    await stopStoreWorker(this.worker, { type: 'stop' } satisfies ToRecordWriter, this.exited, this.log, 'record writer');
  }

  private onMessage(m: FromRecordWriter): void {
    if (m.type === 'ready') {
      this.tid = m.tid ?? null;
      return;
    }
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (this.pending.size === 0) this.worker.unref();
    if (m.type === 'written') {
      this.batches += 1;
      this.emit('committed', {
        received: m.took[0],
        committed: m.took[1],
        size: p.writes.length,
        ...(m.thread ? { thread: m.thread } : {}),
      });
      p.resolve(fromWireResults(m.results, p.writes, p.at));
    } else {
      p.reject(fromWireError(m.error));
    }
  }

  private fallBack(err: Error): void {
    if (this.mode === 'inline') return;
    this.mode = 'inline';
    this.log.error(
      { err, batches: this.pending.size },
      'the record writer worker died: check-in batches are committed on the main connection (its unanswered batches again)',
    );
    // Written again in the order they were posted: one committed before the death reads back as
    // already stored, so nothing is written twice and every check-in has its answer.
    const unanswered = [...this.pending.values()];
    this.pending.clear();
    this.rewritten = unanswered.reduce<Promise<unknown>>(
      (previous, p) => previous.then(() => this.inline(p.writes, p.fence).then(p.resolve, p.reject)),
      Promise.resolve(),
    );
    // After the rewrites are queued: a batch handed over from a listener is written after them.
    this.emit('fallback', err);
  }
}

/** The record writer of a file SQLite store (SqliteStore.recordWriter), null for any other store. */
export function recordWriterOf(store: Store): RecordWriter | null {
  const own = (store as { recordWriter?: unknown }).recordWriter;
  return store.kind === 'sqlite' && typeof own === 'function' ? (own as () => RecordWriter | null)() : null;
}

/** What the worker sends for an error: its class survives as a name (StoreConflictError's key, SQLite's code). */
export function toWireError(err: unknown): WireError {
  if (err instanceof StoreConflictError) return { name: 'StoreConflictError', key: err.key };
  if (err instanceof StoreBusyError) return { name: 'StoreBusyError' };
  if (err instanceof ActorGoneError) return { name: 'ActorGoneError', actorId: err.actorId };
  if (err instanceof LeaseLostError) return { name: 'LeaseLostError', lease: err.lease };
  if (err instanceof Database.SqliteError) return { name: 'SqliteError', message: err.message, code: err.code };
  return { name: 'Error', message: err instanceof Error ? err.message : String(err) };
}

/** The worker's side of a batch's outcomes (`writes` as it decoded them): the flat WireResults. */
export function toWireResults(results: readonly RecordWriteResult[], writes: readonly RecordWrite[]): WireResults {
  const out: WireResults = [];
  results.forEach((r, i) => {
    if ('error' in r) out.push({ written: false, error: toWireError(r.error) });
    else if (r.written && writes[i]!.kind === 'insert') out.push(r.record.id, r.record.rosterVersion);
    else out.push(r);
  });
  return out;
}

/** The error a worker's WireError stands for, rebuilt so the store's checks (isBusy, unavailableKind) read it as before. */
export function fromWireError(e: WireError): Error {
  switch (e.name) {
    case 'StoreConflictError':
      return new StoreConflictError(e.key);
    case 'StoreBusyError':
      return new StoreBusyError();
    case 'ActorGoneError':
      return new ActorGoneError(e.actorId);
    case 'LeaseLostError':
      return new LeaseLostError(e.lease);
    case 'SqliteError':
      return new Database.SqliteError(e.message, e.code);
    case 'Error':
      return new Error(e.message);
  }
}

/** The outcomes of the batch `writes` (as posted), from the worker's WireResults. */
export function fromWireResults(wire: WireResults, writes: readonly RecordWrite[], at: Date): RecordWriteResult[] {
  const results: RecordWriteResult[] = [];
  let i = 0;
  for (const w of writes) {
    const r = wire[i++];
    if (r === undefined || typeof r === 'number') throw new Error('the record writer answered fewer outcomes than writes');
    if (typeof r === 'string') {
      if (w.kind !== 'insert') throw new Error('the record writer answered an update as an insert');
      results.push({ written: true, before: null, record: insertedRecord(w.orgId, w.input, r, wire[i++] as number, at) });
    } else {
      results.push('error' in r ? { written: false, error: fromWireError(r.error) } : r);
    }
  }
  return results;
}

const PROFILER_FLAGS = ['--cpu-prof', '--cpu-prof-dir', '--cpu-prof-interval'];

/** The CPU profiler's flags among `execArgv` (`--cpu-prof-dir DIR` and `--cpu-prof-dir=DIR` alike). */
export function profilerFlags(execArgv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i += 1) {
    const arg = execArgv[i]!;
    const name = arg.split('=')[0]!;
    if (!PROFILER_FLAGS.includes(name)) continue;
    kept.push(arg);
    const takesValue = name !== '--cpu-prof' && !arg.includes('=');
    if (takesValue && i + 1 < execArgv.length) kept.push(execArgv[++i]!);
  }
  return kept;
}

function workerFile(): string {
  const here = fileURLToPath(import.meta.url);
  const workers = path.resolve(path.dirname(here), '..', '..', '..', 'workers');
  return path.extname(here) === '.ts' ? path.join(workers, 'record-writer-worker.dev.mjs') : path.join(workers, 'record-writer-worker.js');
}

import { statSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { CheckpointPolicy, type CheckpointResult } from '../src/store/sqlite/checkpoint-policy.js';
import { walIndexReader } from '../src/store/sqlite/wal-frames.js';
import { schedstatDelta, threadSchedstatReader } from '../src/store/sqlite/thread-schedstat.js';
import { nameThisThread } from '../src/observability/thread-name.js';
import { WRITER_HOLD_MS, WriterGate } from '../src/store/sqlite/writer-gate.js';
import type {
  CheckpointMode,
  CheckpointWorkerData,
  FromCheckpointWorker,
  ToCheckpointWorker,
} from '../src/store/sqlite/wal-checkpointer.js';

/**
 * Copies the WAL of one SQLite file back into the database, on a thread of its own with a
 * connection of its own, so the committing connection on the main thread does not do it
 * while this keeps up (its `wal_autocheckpoint` is raised to twice the WAL bound, a safety net
 * only). src/store/sqlite/wal-checkpointer.ts starts and stops it.
 */

nameThisThread('wal-checkpoint');
const data = workerData as CheckpointWorkerData;
const port = parentPort!;
const db = new Database(data.file, { fileMustExist: true, timeout: data.busyTimeoutMs });
// A checkpoint makes the database file durable (fsync) before the WAL is reused, as the
// automatic checkpoint of the main connection did with synchronous=NORMAL.
db.pragma('synchronous = NORMAL');

/** With threadTimes: the current pass's checkpoints, reported with its times (timedPass); HELD a PASSIVE with the writer held. */
const passModes: (CheckpointMode | 'HELD')[] = [];
let passCheckpointed = 0;

function checkpoint(mode: CheckpointMode, label: CheckpointMode | 'HELD' = mode): CheckpointResult {
  const row = db.pragma(`wal_checkpoint(${mode})`) as CheckpointResult[];
  const result = row[0] ?? { busy: 1, log: -1, checkpointed: -1 };
  send({ type: 'checkpoint', mode, ...result });
  // Only when timed: timedPass empties them each pass, and nothing else would (a list growing by
  // a mode per checkpoint filled the thread's heap within days).
  if (data.threadTimes) {
    passModes.push(label);
    passCheckpointed += Math.max(0, result.checkpointed);
  }
  return result;
}

const gate = data.writerGate ? new WriterGate(data.writerGate) : null;

/** A PASSIVE between two of the record writer's batches: what it copies is all the WAL holds. */
function heldCheckpoint(writer: WriterGate): CheckpointResult | null {
  if (!writer.hold(WRITER_HOLD_MS)) return null;
  try {
    return checkpoint('PASSIVE', 'HELD');
  } finally {
    writer.release();
  }
}

function send(message: FromCheckpointWorker): void {
  port.postMessage(message);
}

function walBytes(): number {
  try {
    return statSync(`${data.file}-wal`).size;
  } catch {
    // No WAL file: SQLite removed it (last connection closed), nothing to shrink.
    return 0;
  }
}

// Opened after the main connection made the wal-index; it outlives this thread's connection.
const walIndex = walIndexReader(data.file);
const policy = new CheckpointPolicy(
  { hardBoundPages: data.hardBoundPages, idleMs: data.idleMs },
  {
    dataVersion: () => db.pragma('data_version', { simple: true }) as number,
    checkpoint,
    walIndex: () => walIndex.read(),
    walBytes,
    now: () => Date.now(),
    ...(gate ? { heldCheckpoint: () => heldCheckpoint(gate) } : {}),
  },
);

/** Runs a pass; a failure is reported, not thrown. */
function guarded(run: () => unknown): void {
  try {
    run();
  } catch (err) {
    // A failed pass (disk full, I/O error) is reported and retried at the next tick; the main
    // thread logs it. The WAL keeps every committed frame meanwhile.
    send({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
  }
}

const schedstat = data.threadTimes ? threadSchedstatReader() : null;
const now = () => performance.timeOrigin + performance.now();

/** With threadTimes, a pass with its times for the stage table: only a pass that checkpointed is reported. */
function timed(run: () => unknown): void {
  if (!data.threadTimes) return guarded(run);
  const start = now();
  const before = schedstat?.read() ?? null;
  passModes.length = 0;
  passCheckpointed = 0;
  guarded(run);
  if (passModes.length === 0) return;
  const sched = before && schedstat ? schedstatDelta(before, schedstat.read()) : null;
  send({
    type: 'pass',
    start,
    end: now(),
    sched,
    checkpointed: passCheckpointed,
    modes: passModes.join(' '),
    startedOver: policy.takeStartedOver(),
  });
}

const timer = setInterval(() => timed(() => policy.pass()), data.intervalMs);

port.on('message', (message: ToCheckpointWorker) => {
  if (message.type !== 'stop') return;
  clearInterval(timer);
  // Never leave the writer held behind a thread that is going.
  gate?.release();
  schedstat?.close();
  walIndex.close();
  db.close();
  port.close();
});

send({ type: 'ready' });

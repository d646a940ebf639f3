import { statSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { schedstatDelta, threadSchedstatReader } from '../src/store/sqlite/thread-schedstat.js';
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

const data = workerData as CheckpointWorkerData;
const port = parentPort!;
const db = new Database(data.file, { fileMustExist: true, timeout: data.busyTimeoutMs });
// A checkpoint makes the database file durable (fsync) before the WAL is reused, as the
// automatic checkpoint of the main connection did with synchronous=NORMAL.
db.pragma('synchronous = NORMAL');

interface CheckpointRow {
  busy: number;
  log: number;
  checkpointed: number;
}

/** With threadTimes: the current pass's checkpoints, reported with its times (timedPass). */
const passModes: CheckpointMode[] = [];
let passCheckpointed = 0;

function checkpoint(mode: CheckpointMode): CheckpointRow {
  const row = db.pragma(`wal_checkpoint(${mode})`) as CheckpointRow[];
  const result = row[0] ?? { busy: 1, log: -1, checkpointed: -1 };
  send({ type: 'checkpoint', mode, ...result });
  // Only when timed: timedPass empties them each pass, and nothing else would (a list growing by
  // a mode per checkpoint filled the thread's heap within days).
  if (data.threadTimes) {
    passModes.push(mode);
    passCheckpointed += Math.max(0, result.checkpointed);
  }
  return result;
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

/** Each round copies what the commits made during the one before it wrote. */
const PASSIVE_ROUNDS = 3;
let seenVersion = -1;
/** When a pass last saw a commit of another connection (Date.now()). */
let changedAt = Date.now();
/**
 * When each blocking mode may be tried again after one found the file busy. Apart: a TRUNCATE
 * only tidies an idle store, and one that a new write got in the way of must not hold back the
 * RESTART that keeps the WAL under its bound once the writes go on.
 */
const nextAttempt: Record<'RESTART' | 'TRUNCATE', number> = { RESTART: 0, TRUNCATE: 0 };

/** A blocking checkpoint, unless one of its mode found the file busy within the last second. */
function blocking(mode: 'RESTART' | 'TRUNCATE'): void {
  if (Date.now() < nextAttempt[mode]) return;
  if (checkpoint(mode).busy !== 0) nextAttempt[mode] = Date.now() + 1_000;
}

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
function pass(): void {
  const version = db.pragma('data_version', { simple: true }) as number;
  if (version !== seenVersion) changedAt = Date.now();
  if (version !== seenVersion) {
    let result = checkpoint('PASSIVE');
    for (let i = 1; i < PASSIVE_ROUNDS && result.busy === 0 && result.checkpointed < result.log; i += 1) {
      result = checkpoint('PASSIVE');
    }
    // A busy PASSIVE (another connection held the checkpoint lock: the main connection's own
    // automatic checkpoint after a large commit) saw nothing of the WAL: the next pass looks
    // again, instead of taking the commits as handled and leaving the bound to the idle TRUNCATE.
    if (result.busy === 0) seenVersion = version;
    if (result.log >= data.hardBoundPages) blocking('RESTART');
  } else if (Date.now() - changedAt >= data.idleMs && walBytes() > 0) {
    blocking('TRUNCATE');
  }
}

function guardedPass(): void {
  try {
    pass();
  } catch (err) {
    // A failed pass (disk full, I/O error) is reported and retried at the next tick; the main
    // thread logs it. The WAL keeps every committed frame meanwhile.
    send({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
  }
}

const schedstat = data.threadTimes ? threadSchedstatReader() : null;
const now = () => performance.timeOrigin + performance.now();

/** A pass with its times, for the stage table: only a pass that checkpointed is reported. */
function timedPass(): void {
  const start = now();
  const before = schedstat?.read() ?? null;
  passModes.length = 0;
  passCheckpointed = 0;
  guardedPass();
  if (passModes.length === 0) return;
  const sched = before && schedstat ? schedstatDelta(before, schedstat.read()) : null;
  send({ type: 'pass', start, end: now(), sched, checkpointed: passCheckpointed, modes: passModes.join(' ') });
}

const timer = setInterval(data.threadTimes ? timedPass : guardedPass, data.intervalMs);

port.on('message', (message: ToCheckpointWorker) => {
  if (message.type !== 'stop') return;
  clearInterval(timer);
  schedstat?.close();
  db.close();
  port.close();
});

send({ type: 'ready' });

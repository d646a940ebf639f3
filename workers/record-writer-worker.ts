import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { recordRepository } from '../src/store/sqlite/attendance.js';
import { SqliteDb } from '../src/store/sqlite/db.js';
import {
  toWireError,
  toWireResults,
  type FromRecordWriter,
  type RecordWriterWorkerData,
  type ToRecordWriter,
  type WriterThreadTimes,
} from '../src/store/sqlite/record-writer.js';
import { decodeWrites } from '../src/store/sqlite/record-write-wire.js';
import { framesWritten, walFramesReader } from '../src/store/sqlite/wal-frames.js';
import { kernelThreadId, schedstatDelta, threadSchedstatReader } from '../src/store/sqlite/thread-schedstat.js';
import { nameThisThread } from '../src/observability/thread-name.js';
import { WRITER_HOLD_MS, WriterGate } from '../src/store/sqlite/writer-gate.js';

/**
 * Commits the group commit's batches of one SQLite file on a thread of its own, with a
 * connection of its own, through the same repository code as the main connection
 * (src/store/sqlite/attendance.ts writeBatch). src/store/sqlite/record-writer.ts starts and stops
 * it. Messages are handled one at a time: batches commit in the order they were posted.
 */

nameThisThread('record-writer');
const data = workerData as RecordWriterWorkerData;
const port = parentPort!;
// busy_timeout as the main connection's (SqliteDb): a batch waits for a lock held over there.
const db = new SqliteDb(data.file, { migrate: false });
db.raw.pragma(`wal_autocheckpoint = ${data.autocheckpointPages}`);

// The batch's time comes with it (the store's clock on the main thread, a fake one in tests).
let batchAt = new Date(0);
const records = recordRepository(db, () => batchAt);

// Stage tables only (CHECKIN_STAGES_FILE): the thread's CPU and run-queue times and the WAL's
// frames around each transaction. Opened after the connection, which made the wal-index.
const schedstat = data.threadTimes ? threadSchedstatReader() : null;
const walFrames = data.threadTimes ? walFramesReader(data.file) : null;
// The checkpoint worker holds the next batch while it copies the WAL's last frames (writer-gate.ts).
const gate = data.gate ? new WriterGate(data.gate) : null;

function send(message: FromRecordWriter): void {
  port.postMessage(message);
}

port.on('message', (message: ToRecordWriter) => {
  if (!db.raw.open) return; // after stop
  switch (message.type) {
    case 'write': {
      const received = performance.timeOrigin + performance.now();
      const framesBefore = walFrames?.read() ?? 0;
      const schedBefore = schedstat?.read() ?? null;
      batchAt = new Date(message.at);
      // writeBatch is synchronous under its promise: the batch has committed (or not) before
      // the next message is read.
      const fence = message.fence && { ...message.fence, until: new Date(message.fence.until) };
      const writes = decodeWrites(message.writes);
      gate?.enter(WRITER_HOLD_MS);
      let written: ReturnType<typeof records.writeBatch>;
      try {
        written = records.writeBatch(writes, fence);
      } finally {
        // Committed or rolled back by now (synchronous under the promise).
        gate?.leave();
      }
      written.then(
        (results) => {
          const committed = performance.timeOrigin + performance.now();
          let thread: WriterThreadTimes | undefined;
          if (walFrames) {
            const walAfter = walFrames.read();
            const sched = schedBefore && schedstat ? schedstatDelta(schedBefore, schedstat.read()) : null;
            thread = { sched, frames: framesWritten(framesBefore, walAfter), walFrames: walAfter };
          }
          send({
            type: 'written',
            id: message.id,
            results: toWireResults(results, writes),
            took: [received, committed],
            ...(thread ? { thread } : {}),
          });
        },
        (err: unknown) => send({ type: 'failed', id: message.id, error: toWireError(err) }),
      );
      break;
    }
    case 'autocheckpoint':
      db.raw.pragma(`wal_autocheckpoint = ${message.pages}`);
      break;
    case 'stop':
      // Not SqliteDb.close(): the store's own connection runs the closing checkpoint.
      schedstat?.close();
      walFrames?.close();
      db.raw.close();
      port.close();
      break;
  }
});

// With threadTimes, the kernel's id of this thread: the bench reads its schedstat while it sleeps.
const tid = schedstat ? kernelThreadId() : null;
send(tid === null ? { type: 'ready' } : { type: 'ready', tid });

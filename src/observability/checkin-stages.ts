import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { WriterThreadTimes } from '../store/sqlite/record-writer.js';
import type { CheckpointPassTimes } from '../store/sqlite/wal-checkpointer.js';
import { CHECKIN_STAGES, type CheckinBatchTimes, type CheckinStage, type CheckinTrace } from '../domain/checkins/checkin-trace.js';

/**
 * A batch as the record writer thread lived it (absolute ms): the message read, the transaction
 * committed; its size and, from a store with threadTimes, the thread's CPU, run-queue and WAL figures.
 */
export interface WriterTimes {
  received: number;
  committed: number;
  size?: number;
  thread?: WriterThreadTimes;
}

/** What CHECKIN_STAGES_FILE holds: read by scripts/lib/checkin-stages-table.ts. */
export interface CheckinStagesDump {
  stages: readonly CheckinStage[];
  /** `${sessionId}/${studentId}` -> the stages' times in CHECKIN_STAGES order (null: not reached) and the batch's index. */
  items: Record<string, { t: (number | null)[]; batch: number | null }>;
  batches: (CheckinBatchTimes & { size: number; writer: WriterTimes | null })[];
  /** Every transaction of the record writer thread, in commit order (absent from older files). */
  writer?: WriterTimes[];
  /** Every checkpoint pass that checkpointed, with the store's threadTimes (absent from older files). */
  checkpoints?: CheckpointPassTimes[];
}

const STAGE_INDEX = new Map(CHECKIN_STAGES.map((s, i) => [s, i]));
const STAGES = CHECKIN_STAGES.length;
/** Check-ins per block of times: a block is allocated whole, off the JavaScript heap. */
const BLOCK = 16_384;

/**
 * The node's side of the stage table (src/domain/checkins/checkin-trace.ts): every check-in's
 * stage times kept in memory and written to one JSON file when the process exits. A measuring
 * tool, not for production: it grows with every check-in of the process's life.
 *
 * It must not change what it measures: kept as objects and arrays of boxed numbers, a check-in's
 * times (about 1.5 KB with the key and the Map's growth) survived two scavenges each, were copied
 * into old space and made the heap grow 7.5 MB/s under 5,000 check-ins/s, with the longer
 * scavenges and the mark-compacts that come with that (round 30). So the times live in
 * Float64Array blocks (NaN: stage not reached), which the collector neither copies nor scans, and
 * a check-in is one number in a per-session Map, keyed by the student id it already holds.
 */
export class CheckinStages implements CheckinTrace {
  /** sessionId -> studentId -> the check-in's index in the blocks. */
  private readonly index = new Map<string, Map<string, number>>();
  private readonly times: Float64Array[] = [];
  private readonly batchOf: Int32Array[] = [];
  private count = 0;
  private readonly batches: CheckinStagesDump['batches'] = [];
  private readonly writer: WriterTimes[] = [];
  private readonly checkpoints: CheckpointPassTimes[] = [];

  constructor(private readonly file: string) {}

  now(): number {
    return performance.timeOrigin + performance.now();
  }

  mark(sessionId: string, studentId: string, stage: CheckinStage, at = this.now()): void {
    let students = this.index.get(sessionId);
    if (!students) this.index.set(sessionId, (students = new Map()));
    let i = students.get(studentId);
    if (i === undefined) {
      i = this.count++;
      students.set(studentId, i);
      if (i % BLOCK === 0) {
        this.times.push(new Float64Array(BLOCK * STAGES).fill(Number.NaN));
        this.batchOf.push(new Int32Array(BLOCK).fill(-1));
      }
    }
    this.times[Math.floor(i / BLOCK)]![(i % BLOCK) * STAGES + STAGE_INDEX.get(stage)!] = at;
  }

  batch(items: readonly { sessionId: string; studentId: string }[], times: CheckinBatchTimes): void {
    // The writer's batch inside this one's round trip (batches go one at a time; other record
    // changes between them are rare under a check-in load).
    let writer: WriterTimes | null = null;
    for (let i = this.writer.length - 1; i >= 0; i -= 1) {
      const w = this.writer[i]!;
      if (w.received >= times.posted && w.committed <= times.stored) {
        writer = w;
        break;
      }
      if (w.committed < times.posted) break;
    }
    const index = this.batches.push({ ...times, size: items.length, writer }) - 1;
    for (const it of items) {
      const i = this.index.get(it.sessionId)?.get(it.studentId);
      if (i !== undefined) this.batchOf[Math.floor(i / BLOCK)]![i % BLOCK] = index;
    }
  }

  /** The record writer thread's times of one batch (RecordWriter's `committed` event). */
  writerBatch(times: WriterTimes): void {
    this.writer.push(times);
  }

  /** A pass of the WAL checkpoint worker (WalCheckpointer's `pass` event). */
  checkpointPass(times: CheckpointPassTimes): void {
    this.checkpoints.push(times);
  }

  /** What the file holds: every check-in's times by `${sessionId}/${studentId}`, and the batches. */
  dump(): CheckinStagesDump {
    const items: CheckinStagesDump['items'] = {};
    for (const [sessionId, students] of this.index) {
      for (const [studentId, i] of students) {
        const block = this.times[Math.floor(i / BLOCK)]!;
        const from = (i % BLOCK) * STAGES;
        const t = Array.from(block.subarray(from, from + STAGES), (v) => (Number.isNaN(v) ? null : v));
        const batch = this.batchOf[Math.floor(i / BLOCK)]![i % BLOCK]!;
        items[`${sessionId}/${studentId}`] = { t, batch: batch < 0 ? null : batch };
      }
    }
    return { stages: CHECKIN_STAGES, items, batches: this.batches, writer: this.writer, checkpoints: this.checkpoints };
  }

  /** Writes the file (synchronously: called from the process's `exit`). */
  write(): void {
    writeFileSync(this.file, JSON.stringify(this.dump()));
  }
}

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

/**
 * The node's side of the stage table (src/domain/checkins/checkin-trace.ts): every check-in's
 * stage times kept in memory and written to one JSON file when the process exits. A measuring
 * tool, not for production: it grows with every check-in of the process's life.
 */
export class CheckinStages implements CheckinTrace {
  private readonly items = new Map<string, { t: (number | null)[]; batch: number | null }>();
  private readonly batches: CheckinStagesDump['batches'] = [];
  private readonly writer: WriterTimes[] = [];
  private readonly checkpoints: CheckpointPassTimes[] = [];

  constructor(private readonly file: string) {}

  now(): number {
    return performance.timeOrigin + performance.now();
  }

  mark(sessionId: string, studentId: string, stage: CheckinStage, at = this.now()): void {
    const key = `${sessionId}/${studentId}`;
    let item = this.items.get(key);
    if (!item) {
      item = { t: CHECKIN_STAGES.map(() => null), batch: null };
      this.items.set(key, item);
    }
    item.t[STAGE_INDEX.get(stage)!] = at;
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
      const item = this.items.get(`${it.sessionId}/${it.studentId}`);
      if (item) item.batch = index;
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

  /** Writes the file (synchronously: called from the process's `exit`). */
  write(): void {
    const dump: CheckinStagesDump = {
      stages: CHECKIN_STAGES,
      items: Object.fromEntries(this.items),
      batches: this.batches,
      writer: this.writer,
      checkpoints: this.checkpoints,
    };
    writeFileSync(this.file, JSON.stringify(dump));
  }
}

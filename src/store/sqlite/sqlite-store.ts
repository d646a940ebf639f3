import path from 'node:path';
import type { RecordRepository } from '../../domain/ports/records.js';
import type { Store } from '../../domain/ports/store.js';
import { alertRepository, notificationRepository } from './alerts.js';
import { notificationPreferenceRepository, outboxRepository } from './outbox.js';
import { recordRepository, sessionRepository } from './attendance.js';
import type Database from 'better-sqlite3';
import { SqliteDb, unavailableKind } from './db.js';
import { guardStore, StoreHealth } from '../store-health.js';
import { organisationRepository, subjectRepository, userRepository } from './directory.js';
import { jobRepository } from './jobs.js';
import { readVersionRepository, standingVersionRepository } from './read-versions.js';
import { oneRosterRepository } from './oneroster.js';
import { accountTokenRepository, faceProposalRepository, faceRepository, refreshTokenRepository } from './identity.js';
import { consentRepository, privacyRepository } from './privacy.js';
import { auditRepository, summaryRepository } from './reporting.js';
import { reportRepository } from './reports.js';
import { retentionRepository } from './retention.js';
import { excuseRepository } from './excuses.js';
import { guardianRepository } from './guardians.js';
import { sqliteTransfer } from './transfer.js';
import { timetableRepository } from './timetable.js';
import { webhookRepository } from './webhooks.js';
import { WriterGate } from './writer-gate.js';
import { WalCheckpointer, type CheckpointLogger } from './wal-checkpointer.js';
import { RecordWriter } from './record-writer.js';
import type { SchemaMigrated } from '../schema-migration.js';

export interface SqliteStoreOptions {
  /** File path (its directory is created) or ':memory:'. */
  path: string;
  /** Stamps every write (createdAt, updatedAt); the application's clock, so one clock rules all writes. */
  now?: () => Date;
  /**
   * File stores: WAL checkpoints on a worker thread (true, the default) or SQLite's automatic
   * checkpoint inside the committing transaction (false). Ignored for ':memory:'.
   */
  checkpointWorker?: boolean;
  /**
   * File stores: the group commit's record writes (records.writeBatch) on a worker thread with
   * its own connection (true, the default) or on the main connection (false). Ignored for ':memory:'.
   */
  writerWorker?: boolean;
  /** The checkpoint worker's pass interval and WAL bound; the defaults are documented in docs/multi-node.md. */
  checkpointTuning?: { intervalMs?: number; hardBoundBytes?: number; idleMs?: number };
  /** Where a failing or dead checkpoint worker is reported; default: Node's process warnings (stderr). */
  log?: CheckpointLogger;
  /**
   * File stores: the worker threads time each transaction and checkpoint pass (CPU, run queue,
   * WAL frames) for the stage table (CHECKIN_STAGES_FILE); default false.
   */
  threadTimes?: boolean;
  /** Hears the schema migration this opening applied, if any (the start's log line). */
  migrated?: (m: SchemaMigrated) => void;
}

/** The SQLite store, with its worker threads for operators' tools and tests. */
export interface SqliteStore extends Store {
  /** The WAL checkpoint worker; null for ':memory:' or with checkpointWorker false. */
  checkpointer(): WalCheckpointer | null;
  /** The record writer thread; null for ':memory:' or with writerWorker false. */
  recordWriter(): RecordWriter | null;
  /** The store's own connection, for tests that make it fail (a page limit, query_only). */
  connection(): Database.Database;
}

/**
 * The embedded store: one better-sqlite3 connection (WAL for files, foreign keys on,
 * synchronous=NORMAL), migrated to the latest schema before it is returned.
 */
export async function createSqliteStore(opts: SqliteStoreOptions): Promise<SqliteStore> {
  const db = new SqliteDb(opts.path, opts.migrated ? { migrated: opts.migrated } : {});
  const clock = opts.now ?? (() => new Date());
  const log = opts.log ?? warningsLog;
  const threads = db.file !== null && opts.checkpointWorker !== false && opts.writerWorker !== false;
  // Both threads of a file store share it: at the WAL's bound the writer is held, not locked out.
  const writerGate = threads ? WriterGate.buffer() : undefined;
  const checkpointer =
    db.file !== null && opts.checkpointWorker !== false
      ? new WalCheckpointer(db, db.file, {
          log,
          threadTimes: opts.threadTimes ?? false,
          ...(writerGate ? { writerGate } : {}),
          ...opts.checkpointTuning,
        })
      : null;
  const records = recordRepository(db, clock);
  const writer =
    db.file !== null && opts.writerWorker !== false
      ? startRecordWriter(db, db.file, records, checkpointer, log, opts.threadTimes ?? false, writerGate)
      : null;
  // A full disk or a read-only file fails writes while reads still work: the readiness probe
  // then tries a small write, and reports the store ready again only when one commits.
  const health = new StoreHealth('sqlite', log);
  const store: SqliteStore = {
    kind: 'sqlite',
    transfer: sqliteTransfer(db),
    organisations: organisationRepository(db, clock),
    users: userRepository(db, clock),
    subjects: subjectRepository(db, clock),
    sessions: sessionRepository(db, clock),
    records: writer ? { ...records, writeBatch: (writes, fence) => writer.writeBatch(writes, clock(), fence) } : records,
    summaries: summaryRepository(db, clock),
    audit: auditRepository(db),
    reports: reportRepository(db),
    refreshTokens: refreshTokenRepository(db, clock),
    accountTokens: accountTokenRepository(db),
    faces: faceRepository(db, clock),
    faceProposals: faceProposalRepository(db),
    jobs: jobRepository(db),
    consents: consentRepository(db),
    privacy: privacyRepository(db),
    retention: retentionRepository(db),
    excuses: excuseRepository(db, clock),
    guardians: guardianRepository(db, clock),
    timetable: timetableRepository(db),
    webhooks: webhookRepository(db),
    oneroster: oneRosterRepository(db, clock),
    alerts: alertRepository(db, clock),
    notifications: notificationRepository(db, clock),
    outbox: outboxRepository(db, clock),
    notificationPreferences: notificationPreferenceRepository(db, clock),
    readVersions: readVersionRepository(db),
    standingVersions: standingVersionRepository(db),
    async ping() {
      if (!health.current) {
        db.stmt('SELECT 1').get();
        return;
      }
      try {
        probeWrite(db);
      } catch (err) {
        throw health.error(unavailableKind(err) ?? health.current.kind, err);
      }
      health.recovered();
    },
    checkpointer: () => checkpointer,
    recordWriter: () => writer,
    connection: () => db.raw,
    async close() {
      // The writer once its batches are answered, the checkpoint worker, then the main
      // connection's closing TRUNCATE checkpoint is the last one.
      await writer?.stop();
      await checkpointer?.stop();
      db.close();
    },
  };
  return guardStore(store, unavailableKind, health, { anySuccessRecovers: false });
}

/**
 * What the probe of a failing store writes: as many WAL frames as a batch of check-ins (about 4 to
 * 7 pages each, up to CHECKIN_BATCH_MAX 200 of them). A write of a few pages fits in the room a
 * batch that failed on a full disk left in the WAL file, or in a few kilobytes freed, so the probe
 * reported the store ready while the class's check-ins were still refused
 * (test/integration/fault-sqlite-disk-full.test.ts).
 */
const PROBE_BYTES = 4 * 1024 * 1024;

/**
 * One committed write of PROBE_BYTES in new pages and WAL frames: it fails the same way as a
 * batch of check-ins while the disk is full or the file read-only, and leaves no table behind
 * (its pages go to the free list, reused by the next writes).
 */
function probeWrite(db: SqliteDb): void {
  db.tx(() => {
    db.raw.exec('CREATE TABLE IF NOT EXISTS write_probe (x)');
    db.raw.prepare('INSERT INTO write_probe VALUES (zeroblob(?))').run(PROBE_BYTES);
    db.raw.exec('DROP TABLE write_probe');
  });
}

/**
 * The record writer of a file store. Its connection waits for the write lock as long as the main
 * one (busy_timeout 5 s, SqliteDb), and follows the main connection's automatic checkpoint
 * setting: the checkpoint worker's safety net while that runs, SQLite's default otherwise.
 */
function startRecordWriter(
  db: SqliteDb,
  file: string,
  records: RecordRepository,
  checkpointer: WalCheckpointer | null,
  log: CheckpointLogger,
  threadTimes: boolean,
  gateBuffer: SharedArrayBuffer | undefined,
): RecordWriter {
  const pages = () => db.raw.pragma('wal_autocheckpoint', { simple: true }) as number;
  const writer = new RecordWriter(
    { file: path.resolve(file), autocheckpointPages: pages(), threadTimes, ...(gateBuffer ? { gate: gateBuffer } : {}) },
    (writes, fence) => records.writeBatch(writes, fence),
    log,
  );
  const gate = gateBuffer ? new WriterGate(gateBuffer) : null;
  checkpointer?.on('running', () => writer.setAutocheckpoint(pages()));
  checkpointer?.on('fallback', () => {
    // A checkpoint thread that died holding the writer must not keep it waiting.
    gate?.release();
    writer.setAutocheckpoint(pages());
  });
  // Batches on the main connection: the checkpoint worker has no writer thread to hold any more.
  writer.on('fallback', () => gate?.off());
  return writer;
}

const warningsLog: CheckpointLogger = {
  warn: (obj, msg) => process.emitWarning(`${msg} ${JSON.stringify(obj)}`, 'SqliteCheckpointWarning'),
  error: (obj, msg) => process.emitWarning(`${msg} ${describe(obj)}`, 'SqliteCheckpointError'),
};

function describe(obj: object): string {
  const err = (obj as { err?: unknown }).err;
  return err instanceof Error ? err.message : JSON.stringify(obj);
}

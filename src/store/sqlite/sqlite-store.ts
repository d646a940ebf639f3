import type { Store } from '../../domain/ports/store.js';
import { alertRepository, notificationRepository } from './alerts.js';
import { notificationPreferenceRepository, outboxRepository } from './outbox.js';
import { recordRepository, sessionRepository } from './attendance.js';
import type Database from 'better-sqlite3';
import { SqliteDb, unavailableKind } from './db.js';
import { guardStore, StoreHealth } from '../store-health.js';
import { organisationRepository, subjectRepository, userRepository } from './directory.js';
import { jobRepository } from './jobs.js';
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
import { WalCheckpointer, type CheckpointLogger } from './wal-checkpointer.js';

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
  /** The checkpoint worker's pass interval and WAL bound; the defaults are documented in docs/multi-node.md. */
  checkpointTuning?: { intervalMs?: number; hardBoundBytes?: number };
  /** Where a failing or dead checkpoint worker is reported; default: Node's process warnings (stderr). */
  log?: CheckpointLogger;
}

/** The SQLite store, with its checkpoint worker for operators' tools and tests. */
export interface SqliteStore extends Store {
  /** The WAL checkpoint worker; null for ':memory:' or with checkpointWorker false. */
  checkpointer(): WalCheckpointer | null;
  /** The store's own connection, for tests that make it fail (a page limit, query_only). */
  connection(): Database.Database;
}

/**
 * The embedded store: one better-sqlite3 connection (WAL for files, foreign keys on,
 * synchronous=NORMAL), migrated to the latest schema before it is returned.
 */
export async function createSqliteStore(opts: SqliteStoreOptions): Promise<SqliteStore> {
  const db = new SqliteDb(opts.path);
  const clock = opts.now ?? (() => new Date());
  const checkpointer =
    db.file !== null && opts.checkpointWorker !== false
      ? new WalCheckpointer(db, db.file, { log: opts.log ?? warningsLog, ...opts.checkpointTuning })
      : null;
  // A full disk or a read-only file fails writes while reads still work: the readiness probe
  // then tries a small write, and reports the store ready again only when one commits.
  const health = new StoreHealth('sqlite', opts.log ?? warningsLog);
  const store: SqliteStore = {
    kind: 'sqlite',
    transfer: sqliteTransfer(db),
    organisations: organisationRepository(db, clock),
    users: userRepository(db, clock),
    subjects: subjectRepository(db, clock),
    sessions: sessionRepository(db, clock),
    records: recordRepository(db, clock),
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
    connection: () => db.raw,
    async close() {
      // The worker first, then the main connection's closing TRUNCATE checkpoint is the last one.
      await checkpointer?.stop();
      db.close();
    },
  };
  return guardStore(store, unavailableKind, health, { anySuccessRecovers: false });
}

/**
 * One committed write that needs a new page and a WAL frame, as a check-in does: it fails
 * the same way while the disk is full or the file read-only, and leaves nothing behind.
 */
function probeWrite(db: SqliteDb): void {
  db.tx(() => {
    db.raw.exec('CREATE TABLE IF NOT EXISTS write_probe (x)');
    db.raw.exec('DROP TABLE write_probe');
  });
}

const warningsLog: CheckpointLogger = {
  warn: (obj, msg) => process.emitWarning(`${msg} ${JSON.stringify(obj)}`, 'SqliteCheckpointWarning'),
  error: (obj, msg) => process.emitWarning(`${msg} ${describe(obj)}`, 'SqliteCheckpointError'),
};

function describe(obj: object): string {
  const err = (obj as { err?: unknown }).err;
  return err instanceof Error ? err.message : JSON.stringify(obj);
}

import type { Store } from '../../domain/ports/store.js';
import { alertRepository, notificationRepository } from './alerts.js';
import { notificationPreferenceRepository, outboxRepository } from './outbox.js';
import { recordRepository, sessionRepository } from './attendance.js';
import { SqliteDb } from './db.js';
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

export interface SqliteStoreOptions {
  /** File path (its directory is created) or ':memory:'. */
  path: string;
  /** Stamps every write (createdAt, updatedAt); the application's clock, so one clock rules all writes. */
  now?: () => Date;
}

/**
 * The embedded store: one better-sqlite3 connection (WAL for files, foreign keys on,
 * synchronous=NORMAL), migrated to the latest schema before it is returned.
 */
export async function createSqliteStore(opts: SqliteStoreOptions): Promise<Store> {
  const db = new SqliteDb(opts.path);
  const clock = opts.now ?? (() => new Date());
  return {
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
      db.stmt('SELECT 1').get();
    },
    async close() {
      db.close();
    },
  };
}

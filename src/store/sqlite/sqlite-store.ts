import type { Store } from '../../domain/store-ports.js';
import { recordRepository, sessionRepository } from './attendance.js';
import { SqliteDb } from './db.js';
import { organisationRepository, subjectRepository, userRepository } from './directory.js';
import { jobRepository } from './jobs.js';
import { accountTokenRepository, faceProposalRepository, faceRepository, refreshTokenRepository } from './identity.js';
import { consentRepository, privacyRepository } from './privacy.js';
import { auditRepository, summaryRepository } from './reporting.js';
import { reportRepository } from './reports.js';
import { sqliteTransfer } from './transfer.js';
import { webhookRepository } from './webhooks.js';

export interface SqliteStoreOptions {
  /** File path (its directory is created) or ':memory:'. */
  path: string;
}

/**
 * The embedded store: one better-sqlite3 connection (WAL for files, foreign keys on,
 * synchronous=NORMAL), migrated to the latest schema before it is returned.
 */
export async function createSqliteStore(opts: SqliteStoreOptions): Promise<Store> {
  const db = new SqliteDb(opts.path);
  return {
    kind: 'sqlite',
    transfer: sqliteTransfer(db),
    organisations: organisationRepository(db),
    users: userRepository(db),
    subjects: subjectRepository(db),
    sessions: sessionRepository(db),
    records: recordRepository(db),
    summaries: summaryRepository(db),
    audit: auditRepository(db),
    reports: reportRepository(db),
    refreshTokens: refreshTokenRepository(db),
    accountTokens: accountTokenRepository(db),
    faces: faceRepository(db),
    faceProposals: faceProposalRepository(db),
    jobs: jobRepository(db),
    consents: consentRepository(db),
    privacy: privacyRepository(db),
    webhooks: webhookRepository(db),
    async ping() {
      db.stmt('SELECT 1').get();
    },
    async close() {
      db.close();
    },
  };
}

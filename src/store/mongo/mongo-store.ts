import mongoose, { type Connection, type ConnectOptions } from 'mongoose';
import type { Config } from '../../config.js';
import type { Store } from '../../domain/ports/store.js';
import type { StoreUnavailableKind } from '../../domain/ports/common.js';
import { guardStore, StoreHealth, type StoreHealthLog } from '../store-health.js';
import { alertRepository, notificationRepository } from './alerts.js';
import { notificationPreferenceRepository, outboxRepository } from './outbox.js';
import { recordRepository, sessionRepository } from './attendance.js';
import { writeRecordBatch } from './record-batch.js';
import { organisationRepository, subjectRepository, userRepository } from './directory.js';
import { jobRepository } from './jobs.js';
import { oneRosterRepository } from './oneroster.js';
import { createModels, type Models } from './models.js';
import { migrateMongo, type MongoMigrateOptions } from './migrations.js';
import { repairSessionStarts } from './session-starts.js';
import { accountTokenRepository, faceProposalRepository, faceRepository, refreshTokenRepository } from './identity.js';
import { consentRepository, privacyRepository } from './privacy.js';
import { excuseRepository } from './excuses.js';
import { guardianRepository } from './guardians.js';
import { auditRepository, summaryRepository } from './reporting.js';
import { reportRepository } from './reports.js';
import { retentionRepository } from './retention.js';
import { mongoTransfer } from './transfer.js';
import { timetableRepository } from './timetable.js';
import { standingVersionRepository } from './standing-versions.js';
import { webhookRepository } from './webhooks.js';

export type MongoStoreConfig = Extract<Config['store'], { kind: 'mongo' }>;

/** Driver options of the store's connection, from the configuration. */
export function connectOptions(cfg: MongoStoreConfig): ConnectOptions {
  return {
    maxPoolSize: cfg.poolSize,
    serverSelectionTimeoutMS: cfg.serverSelectionTimeoutMs,
    socketTimeoutMS: cfg.socketTimeoutMs,
    retryWrites: true,
    autoIndex: false,
    autoCreate: false,
  };
}

/**
 * The MongoDB store on its own connection (never mongoose's global default). Resolves once
 * connected and the database has every migration (migrations.ts: indexes, backfills), applied
 * by this node or by another that held the migration lock; rejects, with the connection
 * closed, otherwise.
 */
export async function createMongoStore(
  cfg: MongoStoreConfig,
  migrate: MongoMigrateOptions = {},
  /** Stamps every write (createdAt, updatedAt); the application's clock. */
  now: () => Date = () => new Date(),
  /** Where the store says it cannot reach the server, and when it can again. */
  log?: StoreHealthLog,
): Promise<Store> {
  const conn = mongoose.createConnection(cfg.uri, connectOptions(cfg));
  try {
    await conn.asPromise();
    const models = createModels(conn);
    if (!conn.db) throw new Error('mongo store connected without a database handle');
    await migrateMongo(conn.db, models, migrate);
    // Moves a crash left half-done: their records still carry the old start.
    await repairSessionStarts(models);
    const store = mongoStoreOn(conn, models, now);
    const health = new StoreHealth('mongo', log);
    const ping = store.ping.bind(store);
    return guardStore(
      {
        ...store,
        async ping() {
          try {
            await ping();
          } catch (err) {
            throw health.error(mongoUnavailableKind(err) ?? 'unreachable', err);
          }
          health.recovered();
        },
      },
      mongoUnavailableKind,
      health,
      { anySuccessRecovers: true },
    );
  } catch (err) {
    try {
      await conn.close(true);
    } catch (closeErr) {
      throw new AggregateError([err, closeErr], 'mongo store failed to start and to close its connection', {
        cause: closeErr,
      });
    }
    throw err;
  }
}

const { MongoNetworkError, MongoServerSelectionError, MongoNotConnectedError, MongoTopologyClosedError } = mongoose.mongo;

/**
 * 'unreachable' for the driver's errors that say the server could not be reached or the
 * connection broke (no server selected within MONGODB_SERVER_SELECTION_TIMEOUT_MS, a socket
 * closed or timed out): the operation may run again once the server is back. Null otherwise.
 */
export function mongoUnavailableKind(err: unknown): StoreUnavailableKind | null {
  const name = (err as { name?: unknown } | null)?.name;
  if (
    err instanceof MongoNetworkError ||
    err instanceof MongoServerSelectionError ||
    err instanceof MongoNotConnectedError ||
    err instanceof MongoTopologyClosedError ||
    name === 'MongoPoolClearedError'
  ) {
    return 'unreachable';
  }
  return null;
}

/**
 * The store's repositories over models already compiled on `conn`, without connecting or
 * building indexes (tests drive it over an unconnected connection to observe the commands).
 */
export function mongoStoreOn(conn: Connection, models: Models = createModels(conn), clock: () => Date = () => new Date()): Store {
  const records = recordRepository(models, clock);
  const audit = auditRepository(models);
  return {
    kind: 'mongo',
    transfer: mongoTransfer(models),
    organisations: organisationRepository(models, clock),
    users: userRepository(models, clock),
    subjects: subjectRepository(models, clock),
    sessions: sessionRepository(models, clock),
    records: { ...records, writeBatch: (writes, fence) => writeRecordBatch(models, records, clock, writes, fence) },
    summaries: summaryRepository(models, clock),
    audit,
    reports: reportRepository(models),
    refreshTokens: refreshTokenRepository(models, clock),
    accountTokens: accountTokenRepository(models),
    faces: faceRepository(models, clock),
    faceProposals: faceProposalRepository(models),
    jobs: jobRepository(models),
    consents: consentRepository(models),
    privacy: privacyRepository(models),
    retention: retentionRepository(models),
    excuses: excuseRepository(models, clock),
    guardians: guardianRepository(models, clock),
    timetable: timetableRepository(models),
    webhooks: webhookRepository(models),
    oneroster: oneRosterRepository(models, clock),
    alerts: alertRepository(models, clock),
    notifications: notificationRepository(models, clock),
    outbox: outboxRepository(models, clock),
    notificationPreferences: notificationPreferenceRepository(models, clock),
    standingVersions: standingVersionRepository(models),
    async ping() {
      const db = conn.db;
      if (!db) throw new Error('mongo store is not connected');
      await db.admin().command({ ping: 1 });
    },
    async close() {
      await conn.close();
    },
  };
}

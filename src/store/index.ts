import type { Config } from '../config.js';
import type { CheckpointLogger } from './sqlite/wal-checkpointer.js';
import type { Store } from '../domain/ports/store.js';
import { logSchemaMigrated, type MigrationLog, type SchemaMigrated } from './schema-migration.js';

/**
 * Opens the store the configuration names. The MongoDB adapter is loaded only when chosen,
 * so a SQLite deployment never loads mongoose. A logger hears the store's warnings and the
 * schema migration this opening applied (one info line).
 */
export async function createStore(config: Config['store'], now?: () => Date, logger?: CheckpointLogger & MigrationLog): Promise<Store> {
  const migrated = logger ? { migrated: (m: SchemaMigrated) => logSchemaMigrated(logger, config.kind, m) } : {};
  switch (config.kind) {
    case 'sqlite': {
      const { createSqliteStore } = await import('./sqlite/sqlite-store.js');
      return createSqliteStore({
        path: config.path,
        ...(now ? { now } : {}),
        ...(config.checkpointWorker !== undefined ? { checkpointWorker: config.checkpointWorker } : {}),
        ...(config.writerWorker !== undefined ? { writerWorker: config.writerWorker } : {}),
        ...(config.threadTimes ? { threadTimes: true } : {}),
        ...(logger ? { log: logger } : {}),
        ...migrated,
      });
    }
    case 'mongo': {
      const { createMongoStore } = await import('./mongo/mongo-store.js');
      return createMongoStore(config, migrated, now, logger);
    }
  }
}

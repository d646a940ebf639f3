import type { Config } from '../config.js';
import type { CheckpointLogger } from './sqlite/wal-checkpointer.js';
import type { Store } from '../domain/ports/store.js';

/**
 * Opens the store the configuration names. The MongoDB adapter is loaded only when chosen,
 * so a SQLite deployment never loads mongoose.
 */
export async function createStore(config: Config['store'], now?: () => Date, logger?: CheckpointLogger): Promise<Store> {
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
      });
    }
    case 'mongo': {
      const { createMongoStore } = await import('./mongo/mongo-store.js');
      return createMongoStore(config, {}, now, logger);
    }
  }
}

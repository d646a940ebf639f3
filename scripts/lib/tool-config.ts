import { ConfigError, loadConfig, type Config } from '../../src/config.js';

/** A mistake in how a command-line tool was called: it exits 2 with the message. */
export class UsageError extends Error {}

/**
 * The service's configuration as the operator's tools need it: the same store settings
 * (STORE, DATA_DIR, SQLITE_PATH, MONGODB_URI), without the token settings, because these tools
 * sign nothing and must neither demand JWT_SECRET nor write a development secret. Production
 * still needs an explicit store, exactly as the service does.
 */
export function readToolConfig(): Config {
  let config: Config;
  try {
    config = loadConfig({ ...process.env, NODE_ENV: 'test' });
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
  if (process.env['NODE_ENV'] === 'production' && config.store.kind === 'sqlite' && !process.env['SQLITE_PATH']) {
    throw new UsageError('production requires an explicit store location: set SQLITE_PATH or MONGODB_URI');
  }
  if (config.store.kind === 'sqlite') {
    // A one-shot command groups no check-ins and keeps no event loop free for anyone: the store's
    // worker threads would only cost their start and stop (seconds on a busy machine). SQLite
    // checkpoints by itself meanwhile. Set either variable to have the thread anyway.
    config = {
      ...config,
      store: {
        ...config.store,
        writerWorker: process.env['SQLITE_WRITER_WORKER'] === undefined ? false : config.store.writerWorker !== false,
        checkpointWorker: process.env['SQLITE_CHECKPOINT_WORKER'] === undefined ? false : config.store.checkpointWorker !== false,
      },
    };
  }
  return config;
}

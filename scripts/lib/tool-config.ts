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
  return config;
}

import { createApplication } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { seedDemo } from './domain/seed.js';
import { createLogger } from './logger.js';
import { createStore } from './store/index.js';

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  throw err;
}

const logger = createLogger(config.logLevel, { node: config.nodeId });
process.on('unhandledRejection', (reason) => {
  logger.error({ err: reason }, 'unhandled promise rejection');
});

const store = await createStore(config.store);
if (config.seedDemo) {
  const { created } = await seedDemo(store, { bcryptCost: config.bcryptCost, timezone: config.defaultTimezone });
  if (created) logger.info('created the demo organisation (see README.md for its accounts)');
}

const application = createApplication({ config, store, logger });
const address = await application.listen();
const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
logger.info({ store: store.kind }, `listening on http://${host === '0.0.0.0' || host === '[::]' ? 'localhost' : host}:${address.port}`);

let shuttingDown = false;
function shutdown(signal: NodeJS.Signals): void {
  if (shuttingDown) {
    logger.warn({ signal }, 'second signal: exiting now');
    process.exit(1);
  }
  shuttingDown = true;
  logger.info({ signal }, 'shutting down');
  application.close().then(
    () => {
      logger.info('shut down cleanly');
      process.exit(0);
    },
    (err: unknown) => {
      logger.error({ err }, 'shutdown failed');
      process.exit(1);
    },
  );
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

import { BcryptWorkerHasher } from './adapters/bcrypt-worker-hasher.js';
import { checkSmtp } from './adapters/mail/smtp-mailer.js';
import { FacePoolEngine } from './adapters/face-pool-engine.js';
import { createApplication } from './app.js';
import { FacePool } from './face/face-pool.js';
import { createClusterDeps, type ClusterDeps } from './cluster/cluster-deps.js';
import { NodeConflictError } from './cluster/node-registry.js';
import { RedisUnavailableError } from './cluster/redis.js';
import { ConfigError, loadConfig, startWarnings, type Config } from './config.js';
import { DEMO_EMAILS, DEMO_PASSWORDS, seedDemo } from './domain/seed.js';
import { createLogger } from './logger.js';
import { createStore } from './store/index.js';
import type { Store } from './domain/ports/store.js';
import { SchemaTooNewError } from './store/sqlite/migrations.js';
import { localNames, phoneUrls } from './tls/dev-certificate.js';

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

// Several nodes: REDIS_URL set means Redis is required. A node that cannot reach it at start
// refuses to start (exit 1) rather than run as an island that misses its peers' broadcasts; so
// does one whose NODE_ID or JWT key conflicts with a running node's (src/cluster/node-registry.ts).
// Checked before the store is opened: a refused node has migrated, seeded and written nothing.
let cluster: ClusterDeps | null = null;
if (config.redisUrl) {
  try {
    cluster = await createClusterDeps(config, logger);
  } catch (err) {
    if (!(err instanceof RedisUnavailableError || err instanceof NodeConflictError)) throw err;
    logger.fatal(err.message);
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
}

// One clock for the domain and the store's write stamps.
const clock = (): Date => new Date();
const passwords = new BcryptWorkerHasher({ ...config.bcrypt, logger });
/** Whether this start made the demo organisation: the log then says how to sign in to it. */
let demoCreated = false;
// A start refused from here on leaves the node registry first: its entry would otherwise live
// another 30 s, and the orchestrator's restart under this NODE_ID be refused as a running node.
const store = await openStore().catch(async (err: unknown) => {
  await cluster?.close();
  if (!(err instanceof SchemaTooNewError)) throw err;
  // A rollback onto a file a newer release migrated: one line saying what to do, not a stack.
  const message = `${config.store.kind === 'sqlite' ? config.store.path : 'store'}: ${err.message}`;
  logger.fatal(message);
  process.stderr.write(`${message}\n`);
  process.exit(1);
});

async function openStore(): Promise<Store> {
  const opened = await createStore(config.store, clock, logger);
  if (config.seedDemo) {
    const { created } = await seedDemo(opened, { passwords, timezone: config.defaultTimezone, history: true });
    demoCreated = created;
  }
  // Nothing is created silently in production: the operator makes the first organisation and admin.
  if ((await opened.organisations.count()) === 0) {
    logger.warn(
      'no organisation yet, so nobody can log in: create the first organisation and its admin with ' +
        '`npm run admin -- org create --name NAME --slug SLUG` then `npm run admin -- admin create --org SLUG --email EMAIL --name NAME` ' +
        '(README.md, "First run in production"; from the compiled build or the image: `node dist/scripts/admin.js ...`)',
    );
  }
  return opened;
}

// The face engine loads its models in the background; /readyz reports it ready once a worker answers.
let face: FacePoolEngine | undefined;
if (config.face.enabled) {
  const pool = new FacePool({ config: config.face, logger });
  pool.start().catch((err: unknown) => logger.error({ err }, 'face engine failed to start'));
  face = new FacePoolEngine(pool);
}

const application = createApplication({
  clock,
  config,
  store,
  logger,
  passwords,
  ...(face ? { face } : {}),
  ...(cluster ? { cluster } : {}),
});
const address = await application.listen().catch(async (err: unknown) => {
  const reason = listenRefusal(err);
  if (!reason) throw err;
  logger.fatal(reason);
  process.stderr.write(`${reason}\n`);
  await application.close();
  await store.close();
  await cluster?.close();
  process.exit(1);
});
const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
for (const warning of startWarnings(config)) logger.warn(warning);
if (config.mail.smtpUrl) void checkSmtp(config.mail.smtpUrl, logger);
else {
  // Never silent: without SMTP every invitation and reset is a file an admin must hand over.
  const log = config.env === 'production' ? logger.warn.bind(logger) : logger.info.bind(logger);
  log({ outbox: config.mail.outboxDir }, 'SMTP_URL is not set: emails are written to the outbox folder, not sent');
}
const scheme = config.tls ? 'https' : 'http';
const listening = `${scheme}://${host === '0.0.0.0' || host === '[::]' ? 'localhost' : host}:${address.port}`;
logger.info({ store: store.kind, redis: cluster !== null }, `listening on ${listening}`);
if (demoCreated) {
  // The first thing someone trying it needs, where they look: the log of the start they just ran.
  const site = config.accounts.publicUrlGiven ? config.accounts.publicUrl : listening;
  logger.info(
    `created the demo organisation: sign in at ${site}/admin.html as ${DEMO_EMAILS.admin} (password ${DEMO_PASSWORDS.admin}), ` +
      `${site}/teacher.html as ${DEMO_EMAILS.teacher} (${DEMO_PASSWORDS.teacher}), ` +
      `${site}/student.html as ${DEMO_EMAILS.student} (${DEMO_PASSWORDS.student}); the other accounts are in README.md`,
  );
}
if (config.tls?.selfSigned) {
  // A phone on the same Wi-Fi needs HTTPS for its location and camera; these are the addresses it can try.
  const urls = phoneUrls(localNames(), address.address, address.port);
  if (urls.length > 0) {
    logger.info(
      { certFile: config.tls.certFile, urls },
      'self-signed development certificate: open one of these on a phone on the same network and accept the browser warning',
    );
  } else {
    logger.info(
      { certFile: config.tls.certFile, host: config.host },
      'self-signed development certificate: this node listens on loopback only, so no phone can reach it; set HOST=0.0.0.0 to try it from one',
    );
  }
}

let shuttingDown = false;
function shutdown(signal: NodeJS.Signals): void {
  if (shuttingDown) {
    logger.warn({ signal }, 'second signal: exiting now');
    process.exit(1);
  }
  shuttingDown = true;
  logger.info({ signal }, 'shutting down');
  // Order: the application stops the scheduler, closes socket.io (the adapter unsubscribes),
  // drains HTTP, closes the face workers and the store; Redis is quit last, once nothing can publish any more.
  application
    .close()
    .then(() => cluster?.close())
    .then(
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

/** One line for the ways the machine refuses a port (the configuration itself was fine), or null. */
function listenRefusal(err: unknown): string | null {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  const where = `${e.address ?? config.host}:${e.port ?? config.port}`;
  const which = e.port !== undefined && e.port === config.metrics.port ? 'METRICS_PORT' : 'PORT';
  if (e.code === 'EADDRINUSE') return `cannot listen on ${where}: another program uses that port; stop it or set ${which} to a free one`;
  if (e.code === 'EACCES') {
    return `cannot listen on ${where}: ports below 1024 need root or, once, setcap cap_net_bind_service=+ep "$(command -v node)" (docs/deploy.md); or set ${which} to 1024 or more`;
  }
  if (e.code === 'EADDRNOTAVAIL') return `cannot listen on ${where}: ${e.address ?? config.host} is not an address of this machine (HOST)`;
  return null;
}

/**
 * Copies a SQLite store into MongoDB, ids kept, in batches; safe to re-run.
 *
 *   node --import tsx scripts/migrate-to-mongo.ts [--from data/attendance.db] [--to mongodb://host/db] [--batch-size 500]
 *
 * --from defaults to the configured SQLite path (SQLITE_PATH, else DATA_DIR/attendance.db),
 * --to to MONGODB_URI. Prints source and target counts per collection and exits 1 when any
 * differ (2 on bad arguments).
 */
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import cliProgress from 'cli-progress';
import { loadConfig } from '../src/config.js';
import { createMongoStore } from '../src/store/mongo/mongo-store.js';
import { createSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { DEFAULT_BATCH_SIZE, formatReport, migrateStore } from '../src/store/migrate.js';
import { type Store } from '../src/domain/ports/store.js';
import { COLLECTIONS } from '../src/domain/ports/transfer.js';

const NAME_WIDTH = Math.max(...COLLECTIONS.map((c) => c.length));

const USAGE = `usage: node --import tsx scripts/migrate-to-mongo.ts [--from FILE.db] [--to mongodb://...] [--batch-size N]

  --from FILE.db     SQLite store to copy (default SQLITE_PATH, else DATA_DIR/attendance.db)
  --to URI           MongoDB database to copy into (default MONGODB_URI)
  --batch-size N     documents per write (default ${DEFAULT_BATCH_SIZE})
  -h, --help         print this help

Safe to re-run. Exits 0 when every collection's counts match, 1 when any differ or the copy
fails, 2 on bad arguments.
`;

function usage(message: string): never {
  process.stderr.write(`${message}\n${USAGE}`);
  process.exit(2);
}

function readArgs() {
  try {
    return parseArgs({
      options: {
        from: { type: 'string' },
        to: { type: 'string' },
        'batch-size': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values;
  } catch (err) {
    // An unknown or malformed option is bad usage (2), not a failed migration (1).
    return usage(err instanceof Error ? err.message : String(err));
  }
}

async function main(): Promise<number> {
  const values = readArgs();
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const to = values.to ?? process.env.MONGODB_URI;
  if (!to) usage('no target: pass --to or set MONGODB_URI');
  const batchSize = values['batch-size'] === undefined ? DEFAULT_BATCH_SIZE : Number(values['batch-size']);
  if (!Number.isInteger(batchSize) || batchSize < 1) usage('--batch-size must be a positive integer');

  // Reuse the service's own config for defaults and pool settings. NODE_ENV=test keeps
  // loadConfig from requiring production secrets or writing a development JWT secret.
  const env = { ...process.env, NODE_ENV: 'test' };
  const sqliteCfg = loadConfig({ ...env, STORE: 'sqlite' }).store;
  const mongoCfg = loadConfig({ ...env, STORE: 'mongo', MONGODB_URI: to }).store;
  if (sqliteCfg.kind !== 'sqlite' || mongoCfg.kind !== 'mongo') throw new Error('unexpected store kinds');
  const fromPath = values.from ?? sqliteCfg.path;
  // Opening a missing file would create an empty store and "migrate" nothing.
  if (!existsSync(fromPath)) usage(`no SQLite store at ${fromPath}`);

  let source: Store | null = null;
  let target: Store | null = null;
  const bar = new cliProgress.SingleBar(
    { format: '{collection} [{bar}] {value}/{total}', hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  try {
    source = await createSqliteStore({ path: fromPath });
    target = await createMongoStore(mongoCfg);
    let current: string | null = null;
    const report = await migrateStore(source, target, {
      batchSize,
      onProgress: ({ collection, copied, total }) => {
        if (collection !== current) {
          if (current !== null) bar.stop();
          current = collection;
          bar.start(total, copied, { collection: collection.padEnd(NAME_WIDTH) });
        } else {
          bar.update(copied);
        }
      },
    });
    bar.stop();
    process.stdout.write(`${formatReport(report)}\n`);
    if (!report.ok) process.stderr.write('counts differ: the target holds data the source does not, or a copy failed\n');
    return report.ok ? 0 : 1;
  } finally {
    bar.stop();
    await source?.close();
    await target?.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`migration failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);

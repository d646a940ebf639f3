/**
 * Backup and restore of the embedded SQLite store (docs/backup.md). The store comes from the
 * same environment as the service (DATA_DIR, SQLITE_PATH).
 *
 *   npm run backup -- backup --to FILE     while the service runs
 *   npm run backup -- restore --from FILE  with every node stopped
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BackupError, backupSqlite, restoreSqlite } from '../src/store/sqlite/backup.js';
import { readToolConfig, UsageError } from './lib/tool-config.js';

const HELP = `Usage:
  npm run backup -- backup --to FILE      copy the running store into FILE (a consistent snapshot)
  npm run backup -- restore --from FILE   put FILE in place of the store; stop every node first

The store is the service's own: SQLITE_PATH, else DATA_DIR/attendance.db.
MongoDB deployments use mongodump and mongorestore instead (docs/backup.md).
Exit codes: 0 done, 1 failed, 2 bad usage.`;

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: { to: { type: 'string' }, from: { type: 'string' }, help: { type: 'boolean', default: false } },
    });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) {
    process.stdout.write(`${HELP}\n`);
    return values.help ? 0 : 2;
  }
  const config = readToolConfig();
  if (config.store.kind !== 'sqlite') {
    throw new UsageError('this store is MongoDB: back it up with mongodump (docs/backup.md)');
  }
  const store = config.store.path;
  const [verb] = positionals;
  if (verb === 'backup') {
    if (!values.to) throw new UsageError('backup: --to FILE is required');
    const target = path.resolve(values.to);
    if (target === store) throw new UsageError('backup: --to must not be the store itself');
    const report = await backupSqlite(store, target);
    process.stdout.write(`backed up ${store} to ${target}: ${report.pages} pages, schema version ${report.schemaVersion}\n`);
    return 0;
  }
  if (verb === 'restore') {
    if (!values.from) throw new UsageError('restore: --from FILE is required');
    const report = restoreSqlite(path.resolve(values.from), store);
    process.stdout.write(
      `restored ${store} from ${values.from}: ${report.pages} pages, schema version ${report.schemaVersion}` +
        (report.previous ? `; the previous database is kept as ${report.previous}` : '') +
        '\n',
    );
    return 0;
  }
  throw new UsageError(`unknown command: ${verb}`);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n(backup --help shows the usage)\n`);
      process.exit(2);
    }
    process.stderr.write(`${err instanceof BackupError ? '' : 'backup failed: '}${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);

import { copyFileSync, existsSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { isBusy } from './db.js';
import { MIGRATIONS } from './migrations.js';

export interface BackupReport {
  /** Pages of the database copied. */
  pages: number;
  /** The schema version (last migration) recorded in the copy. */
  schemaVersion: number;
}

export class BackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupError';
  }
}

/** Pages copied per step: a school's database in one step, so the copy is one consistent snapshot. */
const PAGES_PER_STEP = 1_000_000;

/**
 * Copies a live SQLite store into `target` with SQLite's online backup, from a connection of its
 * own: the service keeps writing meanwhile (WAL readers do not block writers) and the copy is
 * the database as one transaction left it, never half of one. Written beside the target first
 * and renamed into place once checked, so a failed backup never leaves a truncated file.
 */
export async function backupSqlite(source: string, target: string): Promise<BackupReport> {
  if (!existsSync(source)) throw new BackupError(`no database at ${source}`);
  // SQLite's own refusal ("the directory does not exist") names no path: a cron job's log must
  // say which folder is missing (an unmounted backup disk, a typo). None is made here, since
  // the folder's owner and mode (the copy holds password hashes) are the operator's to choose.
  const folder = path.dirname(target);
  if (!statSync(folder, { throwIfNoEntry: false })?.isDirectory()) {
    throw new BackupError(`no folder ${folder} for the backup: make it first (mkdir -m 700 ${folder})`);
  }
  const partial = `${target}.partial`;
  rmSync(partial, { force: true });
  const db = new Database(source, { readonly: true, fileMustExist: true, timeout: 5_000 });
  let pages = 0;
  try {
    await db.backup(partial, {
      progress: ({ totalPages }) => {
        pages = totalPages;
        return PAGES_PER_STEP;
      },
    });
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  } finally {
    db.close();
  }
  selfContained(partial);
  const schemaVersion = checkCopy(partial);
  renameSync(partial, target);
  return { pages, schemaVersion };
}

/**
 * Puts a backup in place of the store at `target`. The service must be stopped (every node on
 * that file): a running node would keep writing to the file it has open, which is then no longer
 * the store, so a restore is refused while any connection has it open. The backup is checked
 * first (integrity, and a schema this release knows), the old file is kept as
 * `<target>.before-restore`, and the WAL files of the old database are removed so SQLite does not
 * replay them onto the restored one.
 */
export function restoreSqlite(backup: string, target: string): BackupReport & { previous: string | null } {
  if (!existsSync(backup)) throw new BackupError(`no backup at ${backup}`);
  const schemaVersion = checkCopy(backup);
  if (existsSync(target)) closedEverywhere(target);
  const incoming = `${target}.restoring`;
  copyFileSync(backup, incoming);
  let previous: string | null = null;
  if (existsSync(target)) {
    previous = `${target}.before-restore`;
    renameSync(target, previous);
  }
  for (const suffix of ['-wal', '-shm']) rmSync(target + suffix, { force: true });
  renameSync(incoming, target);
  const db = new Database(target, { readonly: true });
  try {
    return { pages: db.pragma('page_count', { simple: true }) as number, schemaVersion, previous };
  } finally {
    db.close();
  }
}

/**
 * Leaving WAL mode needs the only connection to the file: it fails SQLITE_BUSY while a node (or
 * one of its worker threads) has the store open, and otherwise folds the WAL into the file, so
 * the copy kept as `.before-restore` holds every commit. A file SQLite cannot read as a database
 * (overwritten, corrupt) is no store a node could be serving, and replacing it is what a restore
 * is for: it is kept aside as it is.
 */
function closedEverywhere(target: string): void {
  const db = new Database(target, { fileMustExist: true, timeout: 1_000 });
  try {
    db.pragma('journal_mode = DELETE');
  } catch (err) {
    if (unreadable(err)) return;
    if (!isBusy(err)) throw err;
    throw new BackupError(
      `${target} is open in a running node (or another program): stop every node that uses it, then restore; nothing was changed`,
    );
  } finally {
    db.close();
  }
}

function unreadable(err: unknown): boolean {
  return err instanceof Database.SqliteError && /^SQLITE_(NOTADB|CORRUPT)/.test(err.code);
}

/**
 * The copy carries the live store's WAL mode, in which even a read-only open leaves `-wal` and
 * `-shm` files beside it. A rollback journal makes it one file to copy off the machine; the
 * service turns WAL on again when it opens a restored one.
 */
function selfContained(file: string): void {
  const db = new Database(file, { fileMustExist: true });
  try {
    db.pragma('journal_mode = DELETE');
  } finally {
    db.close();
  }
}

/** Integrity and schema of a copy; throws BackupError when it cannot be used. */
function checkCopy(file: string): number {
  // A backup in WAL mode (made before the copies were self-contained) gets these on a read-only open: not left behind.
  const created = ['-wal', '-shm'].filter((suffix) => !existsSync(file + suffix));
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const integrity = db.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok') throw new BackupError(`${file} is damaged: ${String(integrity)}`);
    const hasMigrations = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
    if (!hasMigrations) throw new BackupError(`${file} is not an attendance store (no schema_migrations table)`);
    const row = db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null };
    const version = row.v ?? 0;
    const known = Math.max(...MIGRATIONS.map((m) => m.version));
    if (version > known) {
      throw new BackupError(
        `${file} has schema version ${version}, newer than this release knows (${known}): restore it with a newer release`,
      );
    }
    return version;
  } finally {
    db.close();
    for (const suffix of created) rmSync(file + suffix, { force: true });
  }
}

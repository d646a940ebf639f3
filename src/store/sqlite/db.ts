import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { StoreConflictError, type StoreUnavailableKind } from '../../domain/ports/common.js';
import { applyMigrations } from './migrations.js';
import type { SchemaMigrated } from '../schema-migration.js';
import { foldForSearch } from '../../domain/search-text.js';

type Params = unknown[];

/** How long a statement waits for another connection's write lock before SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5_000;

/**
 * One better-sqlite3 connection with its prepared-statement cache. Repositories go through
 * `stmt()` so every SQL text is prepared once, and through `guard()` so calls after close()
 * fail with a clear error and unique violations become StoreConflictError.
 */
export class SqliteDb {
  readonly raw: Database.Database;
  readonly file: string | null;
  private readonly cache = new Map<string, Database.Statement<Params>>();
  private closed = false;

  /**
   * `migrate: false` for a second connection of a store (the record writer thread): the store's
   * own connection migrated the file before it started it. `migrated` hears a migration this
   * opening applied.
   */
  constructor(file: string, opts: { migrate?: boolean; migrated?: (m: SchemaMigrated) => void } = {}) {
    const memory = file === ':memory:' || file === '';
    if (!memory) mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.file = memory ? null : file;
    this.raw = new Database(memory ? ':memory:' : file, { timeout: BUSY_TIMEOUT_MS });
    try {
      if (!memory) this.raw.pragma('journal_mode = WAL');
      this.raw.pragma('foreign_keys = ON');
      this.raw.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      this.raw.pragma('synchronous = NORMAL');
      // SQLite's lower() folds ASCII only; names and emails may not be ASCII.
      this.raw.function('ulower', { deterministic: true }, (s: unknown) => (typeof s === 'string' ? s.toLowerCase() : s));
      // A list's search compares letters without accents or case (domain/search-text.ts).
      this.raw.function('ufold', { deterministic: true }, (s: unknown) => (typeof s === 'string' ? foldForSearch(s) : s));
      if (opts.migrate !== false) applyMigrations(this.raw, undefined, opts.migrated);
    } catch (err) {
      this.raw.close();
      throw err;
    }
  }

  stmt<R = Record<string, unknown>>(sql: string): Database.Statement<Params, R> {
    this.assertOpen();
    let s = this.cache.get(sql);
    if (!s) {
      s = this.raw.prepare<Params>(sql);
      this.cache.set(sql, s);
    }
    return s as Database.Statement<Params, R>;
  }

  /**
   * Runs `fn` in one IMMEDIATE transaction; wrap in mapConflicts to translate unique violations.
   * Immediate, because a deferred transaction that reads and then writes cannot wait for the
   * lock in WAL mode: when another process (another node on the same file) committed after its
   * read, SQLite fails it at once with SQLITE_BUSY instead of calling the busy handler.
   */
  tx<T>(fn: () => T): T {
    this.assertOpen();
    return this.raw.transaction(fn).immediate();
  }

  assertOpen(): void {
    if (this.closed) throw new Error('store is closed');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.cache.clear();
    if (this.file) this.raw.pragma('wal_checkpoint(TRUNCATE)');
    this.raw.close();
  }
}

// Columns of each unique constraint, as SQLite names them in its message, to the key name
// StoreConflictError reports.
const UNIQUE_KEYS: Record<string, string> = {
  'organisations.slug': 'slug',
  'organisations.id': 'id',
  'users.org_id, users.email': 'email',
  'users.id': 'id',
  'subjects.org_id, subjects.code': 'code',
  'subjects.id': 'id',
  'enrolments.subject_id, enrolments.student_id': 'enrolment',
  'sessions.id': 'id',
  'meetings.id': 'id',
  "index 'meetings_natural_key'": 'meeting',
  'records.student_id, records.session_id': 'record',
  'records.id': 'id',
  'summaries.subject_id, summaries.day': 'summary',
  'audit.id': 'id',
  'refresh_tokens.token_hash': 'tokenHash',
  'refresh_tokens.id': 'id',
  'account_tokens.token_hash': 'tokenHash',
  'account_tokens.id': 'id',
  'faces.org_id, faces.user_id': 'face',
  'oneroster_objects.org_id, oneroster_objects.kind, oneroster_objects.entity_id': 'oneroster',
};

/** Maps a SQLite unique/primary-key violation to StoreConflictError; anything else is returned as is. */
export function toConflict(err: unknown): unknown {
  if (!(err instanceof Database.SqliteError)) return err;
  if (err.code !== 'SQLITE_CONSTRAINT_UNIQUE' && err.code !== 'SQLITE_CONSTRAINT_PRIMARYKEY') return err;
  const cols = err.message.replace(/^UNIQUE constraint failed: /, '').trim();
  return new StoreConflictError(UNIQUE_KEYS[cols] ?? cols);
}

/** SQLite result codes that concern the whole database, not one statement's data. */
const DATABASE_WIDE = [
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_IOERR',
  'SQLITE_FULL',
  'SQLITE_READONLY',
  'SQLITE_CORRUPT',
  'SQLITE_NOMEM',
  'SQLITE_CANTOPEN',
];

/** Whether `err` is a failure of the database itself, which no single write caused. */
export function isDatabaseWide(err: unknown): boolean {
  return err instanceof Database.SqliteError && DATABASE_WIDE.some((code) => err.code === code || err.code.startsWith(`${code}_`));
}

/**
 * The kind of a failure of the database itself, for StoreUnavailableError; null for an error
 * of one statement's data (a constraint) or one that is not SQLite's.
 */
export function unavailableKind(err: unknown): StoreUnavailableKind | null {
  if (!isDatabaseWide(err)) return null;
  const code = (err as InstanceType<typeof Database.SqliteError>).code;
  if (code.startsWith('SQLITE_FULL')) return 'disk-full';
  if (code.startsWith('SQLITE_READONLY')) return 'read-only';
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'busy';
  return 'io';
}

/** Whether `err` is SQLite's SQLITE_BUSY (or one of its extended codes): another writer held the lock. */
export function isBusy(err: unknown): boolean {
  return err instanceof Database.SqliteError && (err.code === 'SQLITE_BUSY' || err.code.startsWith('SQLITE_BUSY_'));
}

/** Runs `fn`, rethrowing unique violations as StoreConflictError. */
export function mapConflicts<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw toConflict(err);
  }
}

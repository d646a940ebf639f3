import { StoreConflictError } from '../../domain/ports/common.js';

/**
 * MongoDB duplicate-key errors (E11000) to StoreConflictError, with the key names the SQLite
 * adapter reports. Unique indexes are named after their conflict key (*-schemas.ts), and `_id`
 * clashes are reported as 'id'.
 *
 * Not every wire-compatible server says which index a duplicate hit (FerretDB 1.x names
 * neither key pattern nor index on an insert), so each call site passes the conflict key of its
 * collection's one unique index (ids are fresh, so an `_id` clash there cannot happen). And
 * FerretDB 1.x answers a unique violation by an update as InternalError (code 1) carrying its
 * SQLite message `UNIQUE constraint failed: index '<table>_<hash>_<index name>'`, which is
 * recognised too (docs/mongodb.md).
 */

const DUPLICATE_KEY = 11000;
const INTERNAL_ERROR = 1;
const SQLITE_UNIQUE = /UNIQUE constraint failed: index '[^']*?_[0-9a-f]{8}_([^']+)'/;

interface DuplicateKeyLike {
  code?: unknown;
  keyPattern?: Record<string, unknown>;
  message?: unknown;
  writeErrors?: unknown;
}

// Unique key fields (in index order) to the conflict key.
const KEY_BY_FIELDS: Record<string, string> = {
  slug: 'slug',
  'orgId,email': 'email',
  'orgId,code': 'code',
  'subjectId,studentId': 'enrolment',
  'sessionId,studentId': 'record',
  'subjectId,day': 'summary',
  tokenHash: 'tokenHash',
  'orgId,userId': 'face',
  'orgId,kind,entityKey': 'oneroster',
  'orgId,pendingKey': 'pending',
  'orgId,naturalKey': 'meeting',
  _id: 'id',
};

function isObject(v: unknown): v is DuplicateKeyLike {
  return typeof v === 'object' && v !== null;
}

/** True for a duplicate-key error, including a bulk write whose failures are all duplicates. */
export function isDuplicateKeyError(err: unknown): boolean {
  if (!isObject(err)) return false;
  if (err.code === DUPLICATE_KEY) return true;
  if (err.code === INTERNAL_ERROR && typeof err.message === 'string' && SQLITE_UNIQUE.test(err.message)) return true;
  const writeErrors = bulkWriteErrors(err);
  return writeErrors.length > 0 && writeErrors.every((w) => w.code === DUPLICATE_KEY);
}

function bulkWriteErrors(err: DuplicateKeyLike): DuplicateKeyLike[] {
  const w = err.writeErrors;
  if (Array.isArray(w)) return w.filter(isObject);
  if (isObject(w)) return [w];
  return [];
}

/**
 * The conflict key of a duplicate-key error, from its key pattern or, failing that, its index
 * name, or else `fallback` (the call site's unique key) when the error names neither.
 */
export function duplicateKeyName(err: unknown, fallback = 'unknown'): string {
  if (!isObject(err)) return fallback;
  const source = err.keyPattern ? err : (bulkWriteErrors(err)[0] ?? err);
  if (source.keyPattern) {
    const fields = Object.keys(source.keyPattern).join(',');
    const key = KEY_BY_FIELDS[fields];
    if (key) return key;
  }
  const message = typeof source.message === 'string' ? source.message : String(err.message ?? '');
  const m = /index: (\S+) dup key/.exec(message) ?? SQLITE_UNIQUE.exec(message);
  if (m?.[1]) return m[1] === '_id_' ? 'id' : m[1];
  return fallback;
}

/** StoreConflictError for a duplicate-key error; any other error is returned as it is. */
export function toConflict(err: unknown, fallback?: string): unknown {
  return isDuplicateKeyError(err) ? new StoreConflictError(duplicateKeyName(err, fallback)) : err;
}

/** Runs `fn`, rethrowing duplicate-key errors as StoreConflictError (`key` when the server names none). */
export async function mapConflicts<T>(fn: () => Promise<T>, key?: string): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toConflict(err, key);
  }
}

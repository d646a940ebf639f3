import { StoreConflictError } from '../../domain/ports/common.js';
import { isDuplicateKeyError } from './errors.js';

/**
 * Runs an upsert once more when it loses an insert race on its unique key: the retry then
 * matches the winner's document and updates it. A second duplicate means the key belongs to
 * another organisation.
 */
export async function upsertWithRetry<T>(key: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (!isDuplicateKeyError(err)) throw err;
  }
  try {
    return await run();
  } catch (err) {
    throw isDuplicateKeyError(err) ? new StoreConflictError(key) : err;
  }
}

export const upsertAfter = { upsert: true, returnDocument: 'after', runValidators: true } as const;

import { AppError } from '../shared/app-error.js';
import { StoreUnavailableError, type StoreUnavailableKind } from './ports/common.js';

/**
 * When a client may usefully try again: a busy or unreachable store comes back by itself in
 * seconds; a full disk, a read-only file or an I/O fault waits for an operator.
 */
const RETRY_AFTER_MS: Record<StoreUnavailableKind, number> = {
  busy: 2_000,
  unreachable: 5_000,
  'disk-full': 30_000,
  'read-only': 30_000,
  io: 30_000,
};

/**
 * The client's view of a store failure: UNAVAILABLE with a retry hint, never INTERNAL, so a
 * student's page retries rather than giving up. The kind stays in the server's log; the client
 * learns only that the store failed. Null for anything else.
 */
export function storeFailureToAppError(err: unknown): AppError | null {
  if (!(err instanceof StoreUnavailableError)) return null;
  return new AppError('UNAVAILABLE', 'The attendance database cannot take this now; nothing was stored. Retry later.', {
    retryAfterMs: RETRY_AFTER_MS[err.kind],
    cause: 'store',
  });
}

import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../../src/shared/app-error.js';

export interface BusyRetryOptions {
  /** Calls in all, the first included. */
  attempts: number;
  /** Wait when a BUSY error carries no `details.retryAfterMs`. */
  defaultWaitMs: number;
  /** Injected by tests. */
  wait?: (ms: number) => Promise<unknown>;
}

/**
 * Calls `fn` again after the pool's retry hint while it rejects with AppError BUSY (queue full
 * or task deadline passed); any other error, and the last BUSY, reach the caller. Only for
 * work that stores nothing when it fails, like an enrolment.
 */
export async function retryWhileBusy<T>(fn: () => Promise<T>, options: BusyRetryOptions): Promise<T> {
  const wait = options.wait ?? sleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'BUSY' || attempt >= options.attempts) throw err;
      const hint = err.details?.['retryAfterMs'];
      await wait(typeof hint === 'number' && hint >= 0 ? hint : options.defaultWaitMs);
    }
  }
}

import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../../shared/app-error.js';

export interface BusyRetryOptions {
  /** Calls in all, the first included; unbounded when absent (`budgetMs` then bounds the retries). */
  attempts?: number;
  /** No retry whose wait would end later than this long after the first call. */
  budgetMs?: number;
  /** Wait when a BUSY error carries no `details.retryAfterMs`. */
  defaultWaitMs: number;
  /** Bounds on the hint. */
  minWaitMs?: number;
  maxWaitMs?: number;
  /** Spread each wait by ±25%, so a burst refused together does not come back together. */
  jitter?: boolean;
  /** Which BUSY answers are worth waiting for (default: every one). */
  retryIf?: (err: AppError) => boolean;
  /** Injected by tests. */
  wait?: (ms: number) => Promise<unknown>;
  now?: () => number;
}

/** How long to wait after this BUSY answer: the pool's hint (`details.retryAfterMs`), bounded. */
export function busyWaitMs(err: AppError, options: Pick<BusyRetryOptions, 'defaultWaitMs' | 'minWaitMs' | 'maxWaitMs'>): number {
  const hint = err.details?.['retryAfterMs'];
  const ms = typeof hint === 'number' && hint >= 0 ? hint : options.defaultWaitMs;
  return Math.min(options.maxWaitMs ?? Infinity, Math.max(options.minWaitMs ?? 0, ms));
}

/**
 * Calls `fn` again after the face pool's retry hint while it rejects with AppError BUSY (queue
 * full or task deadline passed); any other error, and the last BUSY, reach the caller. Only for
 * work that stores nothing when it fails, like an enrolment or a selfie analysis.
 */
export async function retryWhileBusy<T>(fn: () => Promise<T>, options: BusyRetryOptions): Promise<T> {
  const wait = options.wait ?? sleep;
  const now = options.now ?? Date.now;
  const deadline = options.budgetMs === undefined ? Infinity : now() + options.budgetMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'BUSY' || attempt >= (options.attempts ?? Infinity)) throw err;
      if (options.retryIf && !options.retryIf(err)) throw err;
      const ms = busyWaitMs(err, options) * (options.jitter ? 0.75 + Math.random() * 0.5 : 1);
      if (now() + ms > deadline) throw err;
      await wait(ms);
    }
  }
}

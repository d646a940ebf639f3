import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { BackoffAdmission, BackoffLimiter, BackoffOptions } from '../domain/rate-limiter.js';

/**
 * Exponential back-off per key instead of a hard lock. Attempts are counted before they are
 * evaluated, atomically, so concurrent attempts cannot all slip through one check. The first
 * `freeAttempts - 1` attempts in a row go through at once; attempt number `freeAttempts + k`
 * (k = 0, 1, ...) is admitted only when no pause is running, and opens a pause of
 * `min(maxMs, baseMs * 2^k)` during which every other attempt of the key is refused with the
 * time left. A success resets the key.
 *
 * Two rate-limiter-flexible counters, so memory and Redis share this code: `attempts` (an
 * atomic increment that never refuses) and `pauses` (one point per window, the window as long
 * as the pause of the attempt that opens it: whoever takes the point is admitted).
 */
export class FlexibleBackoffLimiter implements BackoffLimiter {
  constructor(
    private readonly attempts: RateLimiterAbstract,
    private readonly pauses: RateLimiterAbstract,
    private readonly opts: BackoffOptions,
  ) {}

  async consume(key: string): Promise<BackoffAdmission> {
    const n = (await this.attempts.penalty(key, 1)).consumedPoints;
    if (n < this.opts.freeAttempts) return { allowed: true, retryAfterMs: 0, undo: () => this.giveBack(key, false) };
    const pauseS = Math.max(1, Math.ceil(this.pauseMs(n - this.opts.freeAttempts) / 1000));
    try {
      await this.pauses.consume(key, 1, { customDuration: pauseS });
      return { allowed: true, retryAfterMs: 0, undo: () => this.giveBack(key, true) };
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      // A refused attempt is never evaluated, so it does not lengthen the next pause.
      await this.attempts.reward(key, 1);
      return { allowed: false, retryAfterMs: Math.max(1, err.msBeforeNext), undo: async () => {} };
    }
  }

  /** Forgets the key's attempts and ends its pause (after a success). */
  async reset(key: string): Promise<void> {
    await Promise.all([this.attempts.delete(key), this.pauses.delete(key)]);
  }

  private pauseMs(k: number): number {
    // 2^k overflows nothing below the cap: stop doubling once past it.
    return k >= 40 ? this.opts.maxMs : Math.min(this.opts.maxMs, this.opts.baseMs * 2 ** k);
  }

  private async giveBack(key: string, heldPause: boolean): Promise<void> {
    await this.attempts.reward(key, 1);
    if (heldPause) await this.pauses.delete(key);
  }
}

/** Back-off counted in this process: one node. */
export function memoryBackoffLimiter(opts: BackoffOptions): BackoffLimiter {
  return new FlexibleBackoffLimiter(
    new RateLimiterMemory({ points: 1, duration: opts.memoryS, keyPrefix: `${opts.keyPrefix}:attempts` }),
    new RateLimiterMemory({ points: 1, duration: 1, keyPrefix: `${opts.keyPrefix}:pause` }),
    opts,
  );
}

import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { LimiterBackend } from '../domain/limiters.js';
import type { RateLimiter, RateLimiterOptions, RateLimitResult } from '../domain/rate-limiter.js';
import type { RateLimiterFactory } from '../domain/request-limits.js';
import { memoryBackoffLimiter } from './backoff-limiter.js';

/**
 * The domain's RateLimiter over any rate-limiter-flexible backend (memory here, Redis in
 * src/cluster), so the counting semantics are written once.
 */
export class FlexibleRateLimiter implements RateLimiter {
  constructor(private readonly limiter: RateLimiterAbstract) {}

  async consume(key: string): Promise<RateLimitResult> {
    try {
      await this.limiter.consume(key, 1);
      return { allowed: true, retryAfterMs: 0 };
    } catch (err) {
      // rate-limiter-flexible rejects with a RateLimiterRes when the budget is spent.
      if (err instanceof RateLimiterRes) return { allowed: false, retryAfterMs: Math.max(1, err.msBeforeNext) };
      throw err;
    }
  }

  async refund(key: string): Promise<void> {
    await this.limiter.reward(key, 1);
  }

  async reset(key: string): Promise<void> {
    await this.limiter.delete(key);
  }
}

/** Counters in this process: one node. */
export class MemoryRateLimiter extends FlexibleRateLimiter {
  constructor(opts: RateLimiterOptions) {
    super(new RateLimiterMemory({ points: opts.points, duration: opts.windowS, keyPrefix: opts.keyPrefix }));
  }
}

export const memoryRateLimiter: RateLimiterFactory = (opts) => new MemoryRateLimiter(opts);

/** Every limiter kind counted in this process: one node (src/cluster has the Redis backend). */
export const memoryLimiterBackend: LimiterBackend = {
  rate: memoryRateLimiter,
  backoff: memoryBackoffLimiter,
};

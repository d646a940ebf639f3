import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { RateLimiter, RateLimitResult } from '../domain/rate-limiter.js';

/**
 * The domain's RateLimiter over a rate-limiter-flexible backend: Redis (src/cluster). One node
 * counts in memory-rate-limiter.ts, with the same fixed windows.
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

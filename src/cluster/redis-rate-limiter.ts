import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateLimiter, RateLimiterOptions, RateLimitResult } from '../domain/rate-limiter.js';

/**
 * The same fixed-window counters as MemoryRateLimiter, kept in Redis so every node counts
 * against one budget (a student cannot multiply their submissions by hopping nodes).
 *
 * While Redis is not connected, counting falls back at once to a per-node in-memory window
 * (`insuranceLimiter`): limits stay enforced per node instead of blocking logins and check-ins
 * behind a Redis outage.
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly limiter: RateLimiterRedis;
  private readonly points: number;

  constructor(redis: Redis, opts: RateLimiterOptions) {
    this.points = opts.points;
    this.limiter = new RateLimiterRedis({
      storeClient: redis,
      points: opts.points,
      duration: opts.windowS,
      keyPrefix: `attendance:rl:${opts.keyPrefix}`,
      rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory({ points: opts.points, duration: opts.windowS, keyPrefix: opts.keyPrefix }),
    });
  }

  async consume(key: string): Promise<RateLimitResult> {
    try {
      await this.limiter.consume(key, 1);
      return { allowed: true, retryAfterMs: 0 };
    } catch (err) {
      // A spent budget rejects with a RateLimiterRes; anything else is a real failure.
      if (err instanceof RateLimiterRes) return { allowed: false, retryAfterMs: Math.max(1, err.msBeforeNext) };
      throw err;
    }
  }

  async check(key: string): Promise<RateLimitResult> {
    const res = await this.limiter.get(key);
    if (res === null || res.consumedPoints < this.points) return { allowed: true, retryAfterMs: 0 };
    return { allowed: false, retryAfterMs: Math.max(1, res.msBeforeNext) };
  }

  async reset(key: string): Promise<void> {
    await this.limiter.delete(key);
  }
}

import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import { FlexibleRateLimiter, type RateLimiterOptions } from '../domain/rate-limiter.js';

/**
 * The same fixed-window counters as MemoryRateLimiter, kept in Redis so every node counts
 * against one budget (a student cannot multiply their submissions by hopping nodes).
 *
 * While Redis is not connected, counting falls back at once to a per-node in-memory window
 * (`insuranceLimiter`): limits stay enforced per node instead of blocking logins and check-ins
 * behind a Redis outage.
 */
export class RedisRateLimiter extends FlexibleRateLimiter {
  constructor(redis: Redis, opts: RateLimiterOptions) {
    super(
      new RateLimiterRedis({
        storeClient: redis,
        points: opts.points,
        duration: opts.windowS,
        keyPrefix: `attendance:rl:${opts.keyPrefix}`,
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory({ points: opts.points, duration: opts.windowS, keyPrefix: opts.keyPrefix }),
      }),
      opts.points,
    );
  }
}

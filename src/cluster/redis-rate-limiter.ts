import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import { FlexibleBackoffLimiter } from '../adapters/backoff-limiter.js';
import { FlexibleRateLimiter } from '../adapters/flexible-rate-limiter.js';
import type { BackoffLimiter, BackoffOptions, RateLimiterOptions } from '../domain/rate-limiter.js';

/**
 * A counter in Redis with, while Redis is not connected, an immediate fallback to a per-node
 * in-memory window (`insuranceLimiter`): limits stay enforced per node instead of blocking
 * logins and check-ins behind a Redis outage.
 */
function redisCounter(redis: Redis, points: number, durationS: number, keyPrefix: string): RateLimiterRedis {
  return new RateLimiterRedis({
    storeClient: redis,
    points,
    duration: durationS,
    keyPrefix: `attendance:rl:${keyPrefix}`,
    rejectIfRedisNotReady: true,
    insuranceLimiter: new RateLimiterMemory({ points, duration: durationS, keyPrefix }),
  });
}

/**
 * The same fixed-window counters as MemoryRateLimiter (src/adapters/memory-rate-limiter.ts), kept in Redis so every node counts
 * against one budget (a student cannot multiply their submissions by hopping nodes).
 */
export class RedisRateLimiter extends FlexibleRateLimiter {
  constructor(redis: Redis, opts: RateLimiterOptions) {
    super(redisCounter(redis, opts.points, opts.windowS, opts.keyPrefix));
  }
}

/** The login back-off (FlexibleBackoffLimiter) with its two counters in Redis, shared by every node. */
export function redisBackoffLimiter(redis: Redis, opts: BackoffOptions): BackoffLimiter {
  return new FlexibleBackoffLimiter(
    redisCounter(redis, 1, opts.memoryS, `${opts.keyPrefix}:attempts`),
    redisCounter(redis, 1, 1, `${opts.keyPrefix}:pause`),
    opts,
  );
}

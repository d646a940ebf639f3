import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import { FlexibleBackoffLimiter } from '../adapters/backoff-limiter.js';
import { FlexibleRateLimiter } from '../adapters/flexible-rate-limiter.js';
import type { BackoffLimiter, BackoffOptions, RateLimiter, RateLimiterOptions } from '../domain/rate-limiter.js';
import { localBudget, LocalBudgetLimiter } from './local-budget-limiter.js';
import { redisSlidingLog } from './redis-sliding-log.js';

/**
 * A counter in Redis with, while Redis is not connected, an immediate fallback to a per-node
 * in-memory window (`insuranceLimiter`): limits stay enforced per node instead of blocking
 * logins and check-ins behind a Redis outage. A `sharedOnly` limiter has none: it refuses instead.
 */
function redisCounter(redis: Redis, points: number, durationS: number, keyPrefix: string, insured = true): RateLimiterRedis {
  return new RateLimiterRedis({
    storeClient: redis,
    points,
    duration: durationS,
    keyPrefix: `attendance:rl:${keyPrefix}`,
    rejectIfRedisNotReady: true,
    // Without it (sharedOnly) a count Redis cannot answer rejects with Redis's error.
    ...(insured ? { insuranceLimiter: new RateLimiterMemory({ points, duration: durationS, keyPrefix }) } : {}),
  });
}

/**
 * The same fixed-window counters as MemoryRateLimiter (src/adapters/memory-rate-limiter.ts), kept in Redis so every node counts
 * against one budget (a student cannot multiply their submissions by hopping nodes). Each node
 * admits `localShare` of a key's budget per window without a round trip (LocalBudgetLimiter);
 * 0, or an `exact` limiter, asks Redis for every event. `now` is the local windows' clock
 * (epoch ms): tests end a window by moving it on instead of waiting for it.
 */
export function redisRateLimiter(redis: Redis, opts: RateLimiterOptions, localShare: number, now: () => number = Date.now): RateLimiter {
  if (opts.sliding) return redisSlidingLog(redis, opts);
  const counter = new FlexibleRateLimiter(redisCounter(redis, opts.points, opts.windowS, opts.keyPrefix, !opts.sharedOnly));
  const budget = opts.exact ? 0 : localBudget(opts.points, localShare);
  return budget === 0 ? counter : new LocalBudgetLimiter(counter, { windowS: opts.windowS, localBudget: budget }, now);
}

/** The login back-off (FlexibleBackoffLimiter) with its two counters in Redis, shared by every node. */
export function redisBackoffLimiter(redis: Redis, opts: BackoffOptions): BackoffLimiter {
  return new FlexibleBackoffLimiter(
    redisCounter(redis, 1, opts.memoryS, `${opts.keyPrefix}:attempts`),
    redisCounter(redis, 1, 1, `${opts.keyPrefix}:pause`),
    opts,
  );
}

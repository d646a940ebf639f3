import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { SharedCountUnavailable, type RateLimiter, type RateLimiterOptions, type RateLimitResult } from '../domain/rate-limiter.js';

/**
 * One admission of a sliding limit, atomically: forget the events past the window, admit when
 * fewer than the budget remain (a refusal writes nothing), else say when the oldest leaves. The
 * time is Redis's own, so nodes whose clocks disagree share one window.
 */
const ADMIT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local windowMs = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - windowMs)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], windowMs)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + windowMs - now)
`;

/**
 * The `sliding` limit of SlidingLogLimiter (src/adapters/sliding-log-limiter.ts) in Redis, one
 * sorted set of admission times per key, shared by every node: across nodes, any `windowS`
 * seconds admit exactly `points` events while there are that many to admit, never more.
 * `sharedOnly` is implied: while Redis is not ready a count throws SharedCountUnavailable, and
 * nothing is admitted.
 */
export function redisSlidingLog(redis: Redis, opts: RateLimiterOptions): RateLimiter {
  const keyOf = (key: string) => `attendance:rl:${opts.keyPrefix}:${key}`;
  const unavailable = (cause?: unknown) =>
    new SharedCountUnavailable(
      redis.status === 'ready'
        ? `Redis did not answer within the command timeout: the shared ${opts.keyPrefix} count cannot be asked`
        : `Redis is not ready (${redis.status}): the shared ${opts.keyPrefix} count cannot be asked`,
      { cause },
    );
  const ready = () => {
    if (redis.status !== 'ready') throw unavailable();
  };
  return {
    async consume(key: string): Promise<RateLimitResult> {
      ready();
      let waitMs: number;
      const member = randomUUID();
      try {
        waitMs = Number(await redis.eval(ADMIT, 1, keyOf(key), opts.windowS * 1000, opts.points, member));
      } catch (err) {
        const timedOut = isCommandTimeout(err);
        if (timedOut) {
          // Given up on, the script is still sent (a hung Redis keeps its connection `ready`; a
          // reconnecting client resends it) and runs once Redis answers, admitting an event that
          // was refused here. A ZREM queued behind it on the same connection takes that admission
          // back. It can only fail by the same timeout (it still runs once Redis answers) or by
          // the connection dropping first (the stray admission then leaves the window after
          // windowS): neither needs more than this.
          redis.zrem(keyOf(key), member).then(
            () => undefined,
            () => undefined,
          );
        }
        // Redis went away or hangs; any other error (a script error) is a bug, thrown as is.
        if (timedOut || redis.status !== 'ready') throw unavailable(err);
        throw err;
      }
      return waitMs === 0 ? { allowed: true, retryAfterMs: 0 } : { allowed: false, retryAfterMs: waitMs };
    },
    tryConsume: () => null,
    async refund(key: string): Promise<void> {
      ready();
      await redis.zpopmax(keyOf(key));
    },
    async reset(key: string): Promise<void> {
      await redis.del(keyOf(key));
    },
  };
}

/** ioredis' rejection of a command its `commandTimeout` gave up on (the data client's, src/cluster/redis.ts). */
function isCommandTimeout(err: unknown): boolean {
  return err instanceof Error && err.message === 'Command timed out';
}

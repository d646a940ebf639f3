import type { RateLimiter, RateLimiterOptions, RateLimitResult } from '../domain/rate-limiter.js';

const ALLOWED: RateLimitResult = Object.freeze({ allowed: true, retryAfterMs: 0 });

/**
 * A `sliding` limit in this process (one node): the times of the events admitted in the last
 * `windowS` seconds, per key. Any `windowS` seconds hold at most `points` of them, and a refused
 * event is not kept, so it takes nothing from the budget (src/cluster/redis-sliding-log.ts is
 * the same over Redis). Each key holds up to `points` numbers: for a few keys only (the mail
 * relay's one), not one per user.
 */
export class SlidingLogLimiter implements RateLimiter {
  private readonly logs = new Map<string, number[]>();
  private readonly windowMs: number;

  constructor(
    private readonly opts: RateLimiterOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.windowMs = opts.windowS * 1000;
  }

  consume(key: string): Promise<RateLimitResult> {
    return Promise.resolve(this.tryConsume(key));
  }

  tryConsume(key: string): RateLimitResult {
    const t = this.now();
    const log = this.logs.get(key) ?? [];
    // Oldest first; a clock set back leaves later times in, which only delays the next admission.
    while (log.length > 0 && log[0]! <= t - this.windowMs) log.shift();
    if (log.length < this.opts.points) {
      log.push(t);
      this.logs.set(key, log);
      return ALLOWED;
    }
    this.logs.set(key, log);
    return { allowed: false, retryAfterMs: Math.max(1, log[0]! + this.windowMs - t) };
  }

  /** Forgets the key's latest admitted event. */
  refund(key: string): Promise<void> {
    this.logs.get(key)?.pop();
    return Promise.resolve();
  }

  reset(key: string): Promise<void> {
    this.logs.delete(key);
    return Promise.resolve();
  }
}

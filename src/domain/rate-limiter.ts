import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

export interface RateLimitResult {
  allowed: boolean;
  /** How long until the key has room again; 0 when allowed. */
  retryAfterMs: number;
}

/**
 * A fixed-window counter per key. The in-memory implementation serves one node; a Redis one
 * (rate-limiter-flexible's RateLimiterRedis) shares the counters across nodes.
 */
export interface RateLimiter {
  /** Counts one event for the key; not allowed once the window's budget is spent. */
  consume(key: string): Promise<RateLimitResult>;
  /** Tells whether the key still has budget, without counting an event. */
  check(key: string): Promise<RateLimitResult>;
  /** Forgets the key's count (e.g. after a successful login). */
  reset(key: string): Promise<void>;
}

export interface RateLimiterOptions {
  /** Events allowed per window. */
  points: number;
  windowS: number;
  keyPrefix: string;
}

/**
 * The RateLimiter interface over any rate-limiter-flexible backend (memory here, Redis in
 * src/cluster), so the counting semantics are written once.
 */
export class FlexibleRateLimiter implements RateLimiter {
  constructor(
    private readonly limiter: RateLimiterAbstract,
    private readonly points: number,
  ) {}

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

  async check(key: string): Promise<RateLimitResult> {
    const res = await this.limiter.get(key);
    if (res === null || res.consumedPoints < this.points) return { allowed: true, retryAfterMs: 0 };
    return { allowed: false, retryAfterMs: Math.max(1, res.msBeforeNext) };
  }

  async reset(key: string): Promise<void> {
    await this.limiter.delete(key);
  }
}

/** Counters in this process: one node. */
export class MemoryRateLimiter extends FlexibleRateLimiter {
  constructor(opts: RateLimiterOptions) {
    super(new RateLimiterMemory({ points: opts.points, duration: opts.windowS, keyPrefix: opts.keyPrefix }), opts.points);
  }
}

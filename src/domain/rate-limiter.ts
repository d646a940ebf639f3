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
  /** Gives one counted event back (e.g. a login attempt that turned out to succeed). */
  refund(key: string): Promise<void>;
  /** Forgets the key's count. */
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

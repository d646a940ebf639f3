import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { RateLimiter, RateLimitResult } from '../domain/rate-limiter.js';

/** A count's outcome with how long the backend's window still runs. */
export interface CountResult extends RateLimitResult {
  windowLeftMs: number;
}

/**
 * The domain's RateLimiter over a rate-limiter-flexible backend: Redis (src/cluster). One node
 * counts in memory-rate-limiter.ts, with the same fixed windows.
 */
export class FlexibleRateLimiter implements RateLimiter {
  constructor(private readonly limiter: RateLimiterAbstract) {}

  async consume(key: string): Promise<RateLimitResult> {
    const r = await this.count(key, 1);
    return { allowed: r.allowed, retryAfterMs: r.retryAfterMs };
  }

  /** Every count is a round trip to the backend. */
  tryConsume(): null {
    return null;
  }

  /** Counts `points` events at once (a node's locally admitted events plus this one). */
  async count(key: string, points: number): Promise<CountResult> {
    try {
      const res = await this.limiter.consume(key, points);
      return { allowed: true, retryAfterMs: 0, windowLeftMs: res.msBeforeNext };
    } catch (err) {
      // rate-limiter-flexible rejects with a RateLimiterRes when the budget is spent.
      if (err instanceof RateLimiterRes) {
        return { allowed: false, retryAfterMs: Math.max(1, err.msBeforeNext), windowLeftMs: err.msBeforeNext };
      }
      throw err;
    }
  }

  /**
   * Gives one event back to the key's running window, never below zero. A window that ended (its
   * key expired) is not credited: rate-limiter-flexible's reward would open a new full-length
   * window below zero, so an event counted in one window and refunded after it (a command that
   * ended BUSY, a login that succeeded) raised the next window's budget. The key may still expire
   * between the read and the reward: at most one event, in a window's last round trip.
   */
  async refund(key: string): Promise<void> {
    const running = await this.limiter.get(key);
    if (!running || running.consumedPoints <= 0) return;
    await this.limiter.reward(key, 1);
  }

  async reset(key: string): Promise<void> {
    await this.limiter.delete(key);
  }
}

import type { LimiterBackend } from '../domain/limiters.js';
import type { RateLimiter, RateLimiterOptions, RateLimitResult } from '../domain/rate-limiter.js';
import type { RateLimiterFactory } from '../domain/request-limits.js';
import { memoryBackoffLimiter } from './backoff-limiter.js';
import { SlidingLogLimiter } from './sliding-log-limiter.js';

interface Window {
  /** Events counted in the window, refused ones included. */
  count: number;
  /** Epoch ms at which the window ends. */
  endsAt: number;
}

const ALLOWED: RateLimitResult = Object.freeze({ allowed: true, retryAfterMs: 0 });

/**
 * Fixed-window counters in this process (one node), counted as the Redis limiter counts
 * (rate-limiter-flexible): a key's window opens at its first event and lasts `windowS`; every
 * event counts, refused ones too, so a client that keeps trying does not get a fresh budget
 * sooner. Each key costs one small record in a map: rate-limiter-flexible's memory store also
 * keeps a timer, a closure and a prefixed copy of the key per key, about 300 bytes more per
 * connected user and budget. Ended windows are swept at most once per window length, on the
 * next call, so no timer runs and nothing needs closing.
 */
export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, Window>();
  private readonly windowMs: number;
  private nextSweepAt: number;

  constructor(
    private readonly opts: RateLimiterOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.windowMs = opts.windowS * 1000;
    this.nextSweepAt = now() + this.windowMs;
  }

  consume(key: string): Promise<RateLimitResult> {
    return Promise.resolve(this.take(key));
  }

  tryConsume(key: string): RateLimitResult {
    return this.take(key);
  }

  /** Gives one event back to the key's running window; nothing when it has none (a new one starts full). */
  refund(key: string): Promise<void> {
    const w = this.windows.get(key);
    if (w && w.endsAt > this.now() && w.count > 0) w.count -= 1;
    return Promise.resolve();
  }

  reset(key: string): Promise<void> {
    this.windows.delete(key);
    return Promise.resolve();
  }

  /** Keys with a window held in memory (tests, and a figure for memory reviews). */
  get size(): number {
    return this.windows.size;
  }

  private take(key: string): RateLimitResult {
    const t = this.now();
    this.sweep(t);
    let w = this.windows.get(key);
    if (!w || w.endsAt <= t) {
      w = { count: 0, endsAt: t + this.windowMs };
      this.windows.set(key, w);
    } else if (w.endsAt > t + this.windowMs) {
      // The wall clock was set back (NTP): a window never outlasts its length from now, or a
      // clock moved back an hour would refuse a student for that hour.
      w.endsAt = t + this.windowMs;
    }
    w.count += 1;
    return w.count <= this.opts.points ? ALLOWED : { allowed: false, retryAfterMs: Math.max(1, w.endsAt - t) };
  }

  private sweep(t: number): void {
    // Likewise after a clock set back: the next sweep is at most one window away.
    this.nextSweepAt = Math.min(this.nextSweepAt, t + this.windowMs);
    if (t < this.nextSweepAt) return;
    this.nextSweepAt = t + this.windowMs;
    for (const [key, w] of this.windows) if (w.endsAt <= t) this.windows.delete(key);
  }
}

/** The limiter of `opts` in this process: fixed windows, or the times admitted of a `sliding` limit. `now`: epoch ms. */
export function memoryLimiter(opts: RateLimiterOptions, now: () => number = Date.now): RateLimiter {
  return opts.sliding ? new SlidingLogLimiter(opts, now) : new MemoryRateLimiter(opts, now);
}

export const memoryRateLimiter: RateLimiterFactory = (opts) => memoryLimiter(opts);

/** Every limiter kind counted in this process: one node (src/cluster has the Redis backend). */
export const memoryLimiterBackend: LimiterBackend = {
  rate: memoryRateLimiter,
  backoff: memoryBackoffLimiter,
};

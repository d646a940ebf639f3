import type { RateLimiter, RateLimitResult } from '../domain/rate-limiter.js';

/** The counter every node shares (Redis): counts `points` events at once for a key. */
export interface SharedCounter {
  /** Counts `points` events; refused once the key's window holds more than its budget. `windowLeftMs`: until the shared window ends. */
  count(key: string, points: number): Promise<RateLimitResult & { windowLeftMs: number }>;
  refund(key: string): Promise<void>;
  reset(key: string): Promise<void>;
}

export interface LocalBudgetOptions {
  windowS: number;
  /** Events of a key this node admits per window without asking the shared counter (0: every event asks). */
  localBudget: number;
}

interface Window {
  /** Events admitted locally in this window, not yet counted in the shared counter. */
  unreported: number;
  /** Whether this node has asked the shared counter in this window: from then on, until the window ends, every event asks. */
  asked: boolean;
  /** Epoch ms at which the window ends (the shared window's end once this node has asked). */
  endsAt: number;
}

const ALLOWED: RateLimitResult = Object.freeze({ allowed: true, retryAfterMs: 0 });

/**
 * A shared rate limit that costs no Redis round trip while a key is far from its limit: each
 * node admits the first `localBudget` events of a key per window on its own, and only the
 * events after those ask the shared counter, carrying the local ones with them (one call
 * counts them all). A student who checks in once per lecture never waits on Redis.
 *
 * Overshoot bound (docs/multi-node.md "Rate limits across nodes"): the shared counter never
 * admits past `points`, and it holds every event of the nodes that asked it; the events it
 * does not hold are at most `localBudget` per other node. So across N nodes a key is admitted
 * at most points + (N - 1) x localBudget times per window; on one node, exactly `points`.
 */
export class LocalBudgetLimiter implements RateLimiter {
  private readonly windows = new Map<string, Window>();
  private readonly windowMs: number;
  private nextSweepAt: number;

  constructor(
    private readonly counter: SharedCounter,
    private readonly opts: LocalBudgetOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.windowMs = opts.windowS * 1000;
    this.nextSweepAt = now() + this.windowMs;
  }

  /** Admits the event on the local budget while it lasts; null (nothing counted) once the shared counter must be asked. */
  tryConsume(key: string): RateLimitResult | null {
    const w = this.window(key);
    if (w.asked || w.unreported >= this.opts.localBudget) return null;
    w.unreported += 1;
    return ALLOWED;
  }

  async consume(key: string): Promise<RateLimitResult> {
    const w = this.window(key);
    if (!w.asked && w.unreported < this.opts.localBudget) {
      w.unreported += 1;
      return ALLOWED;
    }
    // Taken before the await, so concurrent events of the key report the local ones once.
    const points = w.unreported + 1;
    w.unreported = 0;
    w.asked = true;
    let r: Awaited<ReturnType<SharedCounter['count']>>;
    try {
      r = await this.counter.count(key, points);
    } catch (err) {
      w.unreported += points - 1;
      throw err;
    }
    // Until the shared window ends this node asks for every event: a fresh local budget
    // before then would be admitted on top of a count that is already near its limit.
    if (r.windowLeftMs > 0) w.endsAt = this.now() + Math.min(r.windowLeftMs, this.windowMs);
    return r.allowed ? ALLOWED : { allowed: false, retryAfterMs: r.retryAfterMs };
  }

  /**
   * Gives one event back to the window of this node that counted it: to the local budget while
   * the node has not asked the shared counter, else to the shared counter. Once that window has
   * ended nothing is given back, and a window that has reported nothing gives nothing to the
   * shared counter: it holds none of this node's events, only other nodes' (a refund there let a
   * student's command that ended BUSY after its window raise the shared budget).
   */
  async refund(key: string): Promise<void> {
    const w = this.windows.get(key);
    if (!w || w.endsAt <= this.now()) return;
    if (!w.asked) {
      if (w.unreported > 0) w.unreported -= 1;
      return;
    }
    await this.counter.refund(key);
  }

  /** Forgets the key on this node and in the shared counter (other nodes' local budgets run on). */
  async reset(key: string): Promise<void> {
    this.windows.delete(key);
    await this.counter.reset(key);
  }

  /** Keys with a window held on this node (tests, and a figure for memory reviews). */
  get size(): number {
    return this.windows.size;
  }

  /** The key's running window on this node, opened when it has none. */
  private window(key: string): Window {
    const t = this.now();
    this.sweep(t);
    let w = this.windows.get(key);
    if (!w || w.endsAt <= t) {
      w = { unreported: 0, asked: false, endsAt: t + this.windowMs };
      this.windows.set(key, w);
    } else if (w.endsAt > t + this.windowMs) {
      // The wall clock was set back: a window never outlasts its length from now.
      w.endsAt = t + this.windowMs;
    }
    return w;
  }

  private sweep(t: number): void {
    this.nextSweepAt = Math.min(this.nextSweepAt, t + this.windowMs);
    if (t < this.nextSweepAt) return;
    this.nextSweepAt = t + this.windowMs;
    for (const [key, w] of this.windows) if (w.endsAt <= t) this.windows.delete(key);
  }
}

/** Events a node admits per window without Redis: a share of the budget, rounded down (small budgets stay exact). */
export function localBudget(points: number, share: number): number {
  return Math.floor(points * share + 1e-9);
}

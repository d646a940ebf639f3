/**
 * How late this node's event loop is, cheap enough to ask on every handshake. A timer that
 * should fire every `everyMs` records how late it fired; between its ticks, a tick already
 * overdue says the loop is at least that late now. So a burst of handshakes read in one long
 * turn of the loop sees the turn's length grow while it is still being read, rather than only
 * after it ends (when prom-client's histogram would see it).
 */
export class LoopLag {
  private dueAt: number;
  private lastMs = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;

  /** `now`: a monotonic clock in milliseconds (performance.now), injected for tests. */
  constructor(
    private readonly everyMs = 50,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.dueAt = this.now() + everyMs;
    this.schedule();
  }

  /** Milliseconds the loop is late now: the last tick's delay, or the next tick's, already longer. */
  currentMs(): number {
    return Math.max(this.lastMs, this.now() - this.dueAt);
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    this.timer = setTimeout(this.tick, this.everyMs);
    // Measuring must not keep a process alive that has nothing else to do.
    this.timer.unref();
  }

  private readonly tick = (): void => {
    const at = this.now();
    this.lastMs = Math.max(0, at - this.dueAt);
    this.dueAt = at + this.everyMs;
    this.schedule();
  };
}

/**
 * A pass that repeats every `everyMs` on this node, never overlapping itself: the next pass is
 * scheduled when the previous one has settled. The timer does not keep the process alive, and
 * `stop()` waits for a pass in progress, so shutdown can drain it.
 */
export class Periodic {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;

  constructor(
    private readonly everyMs: number,
    private readonly pass: () => Promise<void>,
    /** A failed pass is reported here; the next one runs as usual. */
    private readonly onError: (err: unknown) => void,
  ) {}

  /** The first pass runs at once. */
  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.pass()
        .catch(this.onError)
        .finally(() => {
          this.running = null;
          this.schedule(this.everyMs);
        });
    }, delayMs);
    this.timer.unref();
  }
}

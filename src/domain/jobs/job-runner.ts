import type { Logger } from '../../logger.js';

/** Waits `ms`; tests inject one that moves their clock instead. */
export type Sleep = (ms: number) => Promise<void>;

/** The real timer; it does not keep the process alive. */
export const timerSleep: Sleep = (ms) =>
  new Promise((resolve) => {
    setTimeout(resolve, ms).unref();
  });

/**
 * Background work of this node that the caller does not wait for (selfie verification after
 * the acknowledgement). Every job is tracked until it settles, so shutdown can wait for the
 * work in flight instead of cutting it off, and a failure is logged rather than lost.
 * Jobs and their retries wait through `sleep`, the domain's timer.
 */
export class JobRunner {
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly logger: Logger,
    readonly sleep: Sleep = timerSleep,
  ) {}

  /** Starts `job` now without waiting for it. */
  run(name: string, job: () => Promise<void>): void {
    const running: Promise<void> = Promise.resolve()
      .then(job)
      .catch((err: unknown) => this.logger.error({ err, job: name }, 'background job failed'))
      .finally(() => this.inFlight.delete(running));
    this.inFlight.add(running);
  }

  /** Jobs started and not yet settled. */
  get pending(): number {
    return this.inFlight.size;
  }

  /**
   * Waits for every job in flight, including those they start meanwhile, up to `timeoutMs`.
   * True when all settled; false (logged) when the time ran out and some were left running.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const settled = (async () => {
      while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
      return true as const;
    })();
    try {
      const drained = await Promise.race([settled, timeout]);
      if (!drained)
        this.logger.warn({ pending: this.inFlight.size, timeoutMs }, 'background jobs still running at shutdown; left unfinished');
      return drained;
    } finally {
      clearTimeout(timer);
    }
  }
}

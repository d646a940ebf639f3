import { AppError } from '../shared/app-error.js';
import type { Ack } from '../shared/errors.js';
import type { Logger } from '../logger.js';

/** The retry hint of a command refused by a node that is shutting down: time to reconnect elsewhere. */
export const SHUTDOWN_RETRY_MS = 1_000;

/**
 * The commands running on this node's sockets. Shutdown stops taking new ones (they are answered
 * UNAVAILABLE at once) and waits for the answers of those in flight before the sockets are
 * disconnected, so an acknowledgement the store has already made true is not lost on the way.
 */
export class CommandsInFlight {
  /** A count and the waiters of settled(), not a set of promises: a command's end allocates nothing. */
  private running = 0;
  private readonly idle: (() => void)[] = [];
  private stopped = false;
  readonly refusal: Ack<never> = {
    ok: false,
    error: new AppError('UNAVAILABLE', 'This server is shutting down; retry once reconnected.', {
      retryAfterMs: SHUTDOWN_RETRY_MS,
    }).toBody(),
  };

  constructor(private readonly logger: Logger) {}

  /** False once shutdown has started. */
  get accepting(): boolean {
    return !this.stopped;
  }

  /** Tracks one command until it has answered. */
  track(answered: Promise<void>): void {
    this.running += 1;
    void answered.then(this.ended, this.failed);
  }

  private readonly ended = (): void => {
    this.running -= 1;
    if (this.running === 0) for (const resolve of this.idle.splice(0)) resolve();
  };

  /** The answer itself threw (the acknowledgement callback): nothing is left to tell the client. */
  private readonly failed = (err: unknown): void => {
    this.logger.error({ err }, 'socket command failed after its answer');
    this.ended();
  };

  /** New commands are refused from now on. */
  stop(): void {
    this.stopped = true;
  }

  /** Waits for every command in flight to answer, up to `timeoutMs`; false (logged) when some did not. */
  async settled(timeoutMs: number): Promise<boolean> {
    if (this.running === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const all = new Promise<true>((resolve) => this.idle.push(() => resolve(true)));
    try {
      const done = await Promise.race([all, timeout]);
      if (!done) this.logger.warn({ pending: this.running, timeoutMs }, 'socket commands still unanswered at shutdown');
      return done;
    } finally {
      clearTimeout(timer);
    }
  }
}

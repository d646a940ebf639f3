import type { MailMessage, Mailer } from './mailer.js';

export interface MailQueueOptions {
  /** Messages waiting or being sent; `enqueue` refuses beyond. */
  max: number;
  /** Messages handed to the mailer at once. */
  concurrency: number;
}

/**
 * A bounded queue in front of the mailer, so the SMTP server sees a few connections however
 * many emails the stored outbox has due. It is per process on purpose: it bounds this node's
 * memory and connections. The outbox hands it what it claimed and is told each outcome (a
 * message of a process that dies is in the store, claimed, and taken over later); a message
 * queued without `done` that fails is reported through `onFailure`, never dropped silently.
 */
/** Told how one message ended: null once the mailer accepted it, the error otherwise. */
export type MailOutcome = (err: unknown) => void;

export class MailQueue {
  private readonly waiting: { message: MailMessage; done: MailOutcome | undefined }[] = [];
  private running = 0;
  private idle: (() => void)[] = [];

  constructor(
    private readonly mailer: Mailer,
    private readonly opts: MailQueueOptions,
    private readonly onFailure: (err: unknown, message: MailMessage) => void,
  ) {}

  /** How many more messages fit now. */
  room(): number {
    return Math.max(0, this.opts.max - this.waiting.length - this.running);
  }

  /**
   * Queues the message; false when the queue is full. With `done`, the caller is told the
   * outcome (the outbox records it and retries) and `onFailure` is not called.
   */
  enqueue(message: MailMessage, done?: MailOutcome): boolean {
    if (this.room() === 0) return false;
    this.waiting.push({ message, done });
    this.pump();
    return true;
  }

  /** Resolves once every queued message was handed over (or failed). */
  drain(): Promise<void> {
    if (this.running === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    while (this.running < this.opts.concurrency && this.waiting.length > 0) {
      const { message, done } = this.waiting.shift()!;
      this.running++;
      this.mailer
        .send(message)
        .then(
          () => done?.(null),
          (err: unknown) => (done ? done(err) : this.onFailure(err, message)),
        )
        .finally(() => {
          this.running--;
          this.pump();
          if (this.running === 0 && this.waiting.length === 0) {
            const waiters = this.idle;
            this.idle = [];
            for (const resolve of waiters) resolve();
          }
        });
    }
  }
}

import type { Logger } from '../../logger.js';
import type { MailQueue } from '../accounts/mail-queue.js';
import { PermanentSendError, type MailMessage } from '../accounts/mailer.js';
import { Periodic } from '../jobs/periodic.js';
import type { OutboxCategory } from '../../shared/alerts.js';
import type { OutboxMail, Requeued } from '../ports/outbox.js';
import type { Store } from '../ports/store.js';
import { SharedCountUnavailable, type RateLimiter } from '../rate-limiter.js';
import { MAIL_RATE_KEY } from './mail-rate.js';

export interface OutboxSettings {
  /** How often each node looks for due emails (a new email is also sent at once, see `kick`). */
  pollMs: number;
  /** First retry after this long, doubling with each failed attempt. */
  retryBaseMs: number;
  /** Attempts in all before an email is marked failed for good. */
  maxAttempts: number;
  /** Emails an organisation may have queued or sending; beyond, new ones are refused (and logged). */
  maxWaiting: number;
}

/** A message made for one attempt, and what undoes what making it granted when the attempt fails. */
export interface RenderedMail {
  message: MailMessage;
  /**
   * Called once when this attempt's message was not sent (refused, or left for a later pass):
   * voids the one-time link it carried, which reached nobody. The next attempt makes a new one.
   */
  unsent?: () => Promise<void>;
}

/**
 * Makes the message of a claimed email whose body is not stored (an invitation or reset, whose
 * link is made at each attempt); null for an email sent as stored. Throwing fails the attempt
 * (retried), or, with a PermanentSendError, fails the email for good.
 */
export type OutboxRender = (mail: OutboxMail, now: Date) => Promise<RenderedMail | null>;

/** Told when this node's sending is held back for the shared send count out of reach (metrics). */
export type OutboxHoldEvent = 'outage' | 'held-pass' | 'resumed';

/** A claimed email another node may take over after this long (its sender died). */
const CLAIM_MS = 5 * 60_000;
/** The most of an organisation's outbox (MAIL_OUTBOX_MAX) that password resets may fill. */
export const RESET_SHARE = 0.25;
/** The longest wait between two attempts. */
const MAX_BACKOFF_MS = 6 * 60 * 60_000;

/** The next attempt after `attempts` failed ones, or null when none is left. */
export function retryAt(now: Date, attempts: number, settings: Pick<OutboxSettings, 'retryBaseMs' | 'maxAttempts'>): Date | null {
  if (attempts >= settings.maxAttempts) return null;
  return new Date(now.getTime() + Math.min(MAX_BACKOFF_MS, settings.retryBaseMs * 2 ** (attempts - 1)));
}

/**
 * Hands the stored outbox to the node's MailQueue (bounded, a few SMTP connections): each pass
 * claims as many due emails as the queue has room for, so every email is sent by one node,
 * and records how each ended: sent, retried later with a doubling backoff, or failed for good
 * after `maxAttempts` (visible to admins, GET /api/v1/outbox). An email whose node died while
 * sending it is taken over once its claim expires, so an email may, rarely, be sent twice;
 * it is never lost. With a send rate (MAIL_MAX_PER_MINUTE, counted across nodes), each email is
 * claimed only once the rate let it go: the others stay queued in the outbox, and the node
 * looks again when the rate's window ends.
 */
export class OutboxDispatcher {
  private readonly polls: Periodic;
  private readonly outcomes = new Set<Promise<void>>();
  private kicked: Promise<void> | null = null;
  private again = false;
  private started = false;
  /** The pass this node runs when the send rate has room again. */
  private wake: NodeJS.Timeout | null = null;
  /**
   * While the shared send count (Redis) is out of reach: since when, and what was held back
   * meanwhile. Of this node only: it says what this node's log and metrics say.
   */
  private hold: { since: Date; passes: number; queued: number } | null = null;

  constructor(
    private readonly store: Store,
    private readonly mail: MailQueue,
    private readonly logger: Logger,
    private readonly now: () => Date,
    private readonly owner: string,
    private readonly settings: OutboxSettings,
    private readonly render: OutboxRender = () => Promise.resolve(null),
    private readonly sendRate: RateLimiter | null = null,
    private readonly onHold: (event: OutboxHoldEvent) => void = () => undefined,
  ) {
    this.polls = new Periodic(
      settings.pollMs,
      () => this.pass().then(() => undefined),
      (err) => this.logger.error({ err }, 'outbox pass failed; will retry'),
    );
  }

  start(): void {
    this.started = true;
    this.polls.start();
  }

  /** Stops polling, waits for the pass in progress, the queue, and the outcomes to be recorded. */
  async stop(): Promise<void> {
    this.started = false;
    if (this.wake) clearTimeout(this.wake);
    this.wake = null;
    await this.polls.stop();
    await this.kicked;
    await this.mail.drain();
    while (this.outcomes.size > 0) await Promise.allSettled([...this.outcomes]);
  }

  /**
   * Queues an email in the store and starts sending it now; false when the organisation's outbox
   * is full. Anyone can ask for a password reset without logging in, so resets may fill at most
   * RESET_SHARE of the outbox: during an SMTP outage they cannot crowd out alerts and invitations.
   */
  async enqueue(input: Parameters<Store['outbox']['enqueue']>[0]): Promise<boolean> {
    const { maxWaiting } = this.settings;
    const categoryMax = this.categoryMax()[input.category];
    const mail = await this.store.outbox.enqueue(input, maxWaiting, categoryMax);
    if (!mail) {
      this.logger.warn(
        { orgId: input.orgId, category: input.category, maxWaiting, ...(categoryMax === undefined ? {} : { categoryMax }) },
        'outbox full; email not queued',
      );
      return false;
    }
    if (this.hold) this.hold.queued += 1;
    this.kick();
    return true;
  }

  /** Enqueue of each email in order, in one store call (a bulk invitation); false for each not queued. */
  async enqueueMany(inputs: readonly Parameters<Store['outbox']['enqueue']>[0][]): Promise<boolean[]> {
    if (inputs.length === 0) return [];
    const { maxWaiting } = this.settings;
    const mails = await this.store.outbox.enqueueMany(inputs, maxWaiting, this.categoryMax());
    const refused = inputs.filter((_, i) => mails[i] === null);
    if (refused.length > 0) {
      const orgIds = [...new Set(refused.map((r) => r.orgId))];
      const categories = [...new Set(refused.map((r) => r.category))];
      this.logger.warn({ orgIds, categories, refused: refused.length, maxWaiting }, 'outbox full; emails not queued');
    }
    if (this.hold) this.hold.queued += inputs.length - refused.length;
    if (refused.length < inputs.length) this.kick();
    return mails.map((m) => m !== null);
  }

  /**
   * Queues again an email failed for good (an admin's "Send again"), within the bounds a new
   * email meets: while its user has one of its kind queued, that one answers ('waiting'); a full
   * outbox, or resets past their share, leave it failed ('full', logged). Null: no failed email
   * of the organisation has this id.
   */
  async requeueFailed(orgId: string, id: string): Promise<Requeued | null> {
    const { maxWaiting } = this.settings;
    const result = await this.store.outbox.requeueFailed(orgId, id, this.now(), maxWaiting, this.categoryMax());
    if (result?.outcome === 'full') this.logger.warn({ orgId, id, maxWaiting }, 'outbox full; failed email not queued again');
    if (result?.outcome === 'queued') this.kick();
    return result;
  }

  /** The categories bounded apart from the whole outbox: resets, to RESET_SHARE of it. */
  private categoryMax(): Partial<Record<OutboxCategory, number>> {
    return { reset: Math.max(1, Math.floor(this.settings.maxWaiting * RESET_SHARE)) };
  }

  /** Runs a pass now; when one is running, another follows it (the email may have been queued after its claim). */
  kick(): void {
    if (!this.started) return;
    if (this.kicked) {
      this.again = true;
      return;
    }
    this.kicked = (async () => {
      do {
        this.again = false;
        await this.pass();
      } while (this.again && this.started);
    })()
      .catch((err: unknown) => this.logger.error({ err }, 'outbox pass failed; will retry'))
      .finally(() => {
        this.kicked = null;
        // Kicked between the loop's last check and here.
        if (this.again) this.kick();
      });
  }

  /**
   * Claims due emails as far as the queue has room (and the send rate, one at a time) and hands
   * them over; resolves to how many.
   */
  async pass(): Promise<number> {
    const room = this.mail.room();
    if (room === 0) return 0;
    if (!this.sendRate) return this.send(room);
    let sent: number;
    try {
      sent = await this.passAtRate(this.sendRate, room);
    } catch (err) {
      if (!(err instanceof SharedCountUnavailable)) throw err;
      this.heldBack(err);
      return 0;
    }
    this.resumed();
    return sent;
  }

  /**
   * Every enqueue and every poll finds the count out of reach during a Redis outage: one warning
   * when it starts, one line when it ends, rather than an error line each.
   */
  private heldBack(err: SharedCountUnavailable): void {
    if (!this.hold) {
      this.hold = { since: this.now(), passes: 0, queued: 0 };
      this.logger.warn(
        { reason: err.message },
        'outbox held back: the shared send count (MAIL_MAX_PER_MINUTE, in Redis) is out of reach; every email stays queued until it answers',
      );
      this.onHold('outage');
    }
    this.hold.passes += 1;
    this.onHold('held-pass');
  }

  private resumed(): void {
    if (!this.hold) return;
    const { since, passes, queued } = this.hold;
    this.hold = null;
    this.logger.info(
      { heldForMs: this.now().getTime() - since.getTime(), passesHeldBack: passes, queuedMeanwhile: queued },
      'outbox sending again: the shared send count answers',
    );
    this.onHold('resumed');
  }

  /** The claims of one pass, each send let go by the shared rate first. */
  private async passAtRate(sendRate: RateLimiter, room: number): Promise<number> {
    let sent = 0;
    while (sent < room) {
      const { allowed, retryAfterMs } = await sendRate.consume(MAIL_RATE_KEY);
      if (!allowed) {
        this.wakeIn(retryAfterMs);
        break;
      }
      if ((await this.send(1)) === 0) {
        // Nothing due: the send is given back to the window.
        await sendRate.refund(MAIL_RATE_KEY);
        break;
      }
      sent += 1;
    }
    return sent;
  }

  /** A pass once the send rate's window ends, unless one is set already (the next poll may come sooner). */
  private wakeIn(ms: number): void {
    if (this.wake || !this.started) return;
    this.wake = setTimeout(() => {
      this.wake = null;
      this.kick();
    }, ms);
    this.wake.unref();
  }

  /** Claims up to `limit` due emails and hands them to the queue; resolves to how many it claimed. */
  private async send(limit: number): Promise<number> {
    const now = this.now();
    const claimed = await this.store.outbox.claimDue(now, this.owner, new Date(now.getTime() + CLAIM_MS), limit);
    for (const mail of claimed) {
      let rendered: RenderedMail;
      try {
        const { to, subject, text, html, headers } = mail;
        rendered = (await this.render(mail, now)) ?? { message: { to, subject, text, html, headers } };
      } catch (err) {
        await this.settle(mail, err);
        continue;
      }
      const queued = this.mail.enqueue(rendered.message, (err) => this.track(this.settle(mail, err, rendered)));
      if (!queued) {
        // The queue filled up meanwhile: left claimed, it is taken up again once the claim expires.
        this.logger.warn({ id: mail.id }, 'mail queue full; outbox email left for a later pass');
        await this.undo(mail, rendered);
      }
    }
    return claimed.length;
  }

  /** Voids what the attempt's message granted; a failure is logged and the attempt still recorded. */
  private async undo(mail: OutboxMail, rendered: RenderedMail): Promise<void> {
    if (!rendered.unsent) return;
    try {
      await rendered.unsent();
    } catch (err) {
      this.logger.error(
        { err, id: mail.id },
        "the link of an unsent email was not voided; it works until it expires or the next attempt's",
      );
    }
  }

  private track(outcome: Promise<void>): void {
    const tracked = outcome
      .catch((err: unknown) => this.logger.error({ err }, 'outbox outcome not recorded'))
      .finally(() => this.outcomes.delete(tracked));
    this.outcomes.add(tracked);
  }

  private async settle(mail: OutboxMail, err: unknown, rendered?: RenderedMail): Promise<void> {
    const now = this.now();
    if (err === null) {
      await this.store.outbox.markSent(mail.id, this.owner, now);
      return;
    }
    // Before the row says failed: an admin who sees it failed and sends it again must find no
    // link of this attempt still working.
    if (rendered) await this.undo(mail, rendered);
    const attempts = mail.attempts + 1;
    const next = err instanceof PermanentSendError ? null : retryAt(now, attempts, this.settings);
    const reason = err instanceof Error ? err.message.slice(0, 500) : 'send failed';
    this.logger.warn({ id: mail.id, attempts, retryAt: next, err }, next ? 'email not sent; will retry' : 'email not sent; giving up');
    await this.store.outbox.markFailed(mail.id, this.owner, reason, next);
  }
}

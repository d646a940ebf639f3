/**
 * The email outbox (docs/notifications.md).
 * The conventions of every port are in ./store.ts.
 */

import type { OutboxCategory } from '../../shared/alerts.js';
import type { OrgCount, Page, PageQuery } from './common.js';

export const OUTBOX_STATUSES = ['queued', 'sending', 'sent', 'failed'] as const;
export type OutboxStatus = (typeof OUTBOX_STATUSES)[number];

/** One email waiting, being sent, sent, or given up on after its last attempt. */
export interface OutboxMail {
  id: string;
  orgId: string;
  category: OutboxCategory;
  /**
   * The user an invitation or reset is for (its link is made for them at each attempt, so
   * no usable link is ever stored); null for the other categories.
   */
  userId: string | null;
  to: string;
  subject: string;
  text: string;
  html: string;
  headers: Record<string, string>;
  status: OutboxStatus;
  attempts: number;
  lastError: string | null;
  nextAttemptAt: Date;
  /** The node sending it, and until when; another node takes over a 'sending' row past it. */
  claimedBy: string | null;
  claimUntil: Date | null;
  createdAt: Date;
  sentAt: Date | null;
}

export type NewOutboxMail = Pick<OutboxMail, 'orgId' | 'category' | 'to' | 'subject' | 'text' | 'html' | 'headers'> &
  Partial<Pick<OutboxMail, 'userId'>>;

/** What sending a failed email again came to (OutboxRepository.requeueFailed). */
export type Requeued =
  /** The failed email, queued again. */
  | { outcome: 'queued'; mail: OutboxMail }
  /** Its user already has an email of its category queued, which answers instead (its link is made when it goes); the failed one stays failed. */
  | { outcome: 'waiting'; mail: OutboxMail }
  /** The organisation's outbox, or its category's share, is full: nothing changed. */
  | { outcome: 'full' };

export interface OutboxFilter extends PageQuery {
  status?: OutboxStatus;
  /** Emails whose recipient starts with it (the whole address is a prefix of itself), case ignored; no wildcards. */
  recipient?: string;
}

export interface OutboxRepository {
  /**
   * Queues the email due now, unless the organisation has `maxWaiting` queued or sending already,
   * or `categoryMaxWaiting` of the email's category: null then. An email for a user (`userId`) of
   * a category that user already has queued is not queued twice: the one waiting is returned (its
   * link is made when it is sent, so one email serves both requests).
   */
  enqueue(input: NewOutboxMail, maxWaiting: number, categoryMaxWaiting?: number): Promise<OutboxMail | null>;
  /**
   * Enqueue of each email in order, as if one after another (a later one meets the bounds with
   * the earlier ones queued), in one store call: one transaction on SQLite; on MongoDB the counts
   * and waiting emails read once and one insert. A bulk invitation of a whole school is one call,
   * not one per user. `categoryMaxWaiting` bounds each category it names.
   */
  enqueueMany(
    inputs: readonly NewOutboxMail[],
    maxWaiting: number,
    categoryMaxWaiting?: Partial<Record<OutboxCategory, number>>,
  ): Promise<(OutboxMail | null)[]>;
  /**
   * System-wide: claims up to `limit` emails due at `now` (queued and due, or sending with an
   * expired claim) for `owner` until `until`: those of URGENT_OUTBOX_CATEGORIES (resets) first, then
   * oldest first. Of concurrent claims each email goes to one.
   */
  claimDue(now: Date, owner: string, until: Date, limit: number): Promise<OutboxMail[]>;
  /** Marks the claimed email sent; false when `owner` no longer holds it. */
  markSent(id: string, owner: string, at: Date): Promise<boolean>;
  /** Records a failed attempt: queued again at `retryAt`, or failed for good when null. False when `owner` no longer holds it. */
  markFailed(id: string, owner: string, error: string, retryAt: Date | null): Promise<boolean>;
  /** Newest first. */
  list(orgId: string, filter: OutboxFilter): Promise<Page<OutboxMail>>;
  /**
   * Queues again, due at `at`, an email of the organisation failed for good, its attempts and
   * last error kept (so a new failure ends it again), within the bounds `enqueue` keeps: not
   * while its user has an email of its category queued ('waiting', that one), nor when the
   * organisation has `maxWaiting` queued or sending, or its category `categoryMaxWaiting[category]`
   * ('full'). Null when the organisation has no failed email with this id.
   */
  requeueFailed(
    orgId: string,
    id: string,
    at: Date,
    maxWaiting: number,
    categoryMaxWaiting?: Partial<Record<OutboxCategory, number>>,
  ): Promise<Requeued | null>;
  /** System-wide: deletes emails sent or failed for good that were queued before `before`; counts per organisation. */
  purgeFinished(before: Date): Promise<OrgCount[]>;
}

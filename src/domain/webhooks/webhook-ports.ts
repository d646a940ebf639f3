import type { DeliveryState, WebhookEventType } from '../../shared/webhooks.js';
import type { OrgCount, PageQuery } from '../ports/common.js';

/** An organisation's receiver of signed event deliveries. */
export interface WebhookEndpoint {
  id: string;
  orgId: string;
  /** http(s) URL; checked against private addresses at every attempt (the sender adapter). */
  url: string;
  description: string | null;
  /** HMAC-SHA256 key of the signature header; shown to the admin only when created or rotated. */
  secret: string;
  events: WebhookEventType[];
  /** An inactive endpoint keeps its queued deliveries and gets none until re-enabled. */
  active: boolean;
  /** Start of the current run of failed attempts; null after a success. */
  failingSince: Date | null;
  disabledAt: Date | null;
  disabledReason: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** One event for one endpoint; its id is the idempotency key the receiver sees. */
export interface WebhookDelivery {
  id: string;
  orgId: string;
  endpointId: string;
  event: WebhookEventType;
  /** Deliveries of one endpoint with the same key go out in `seq` order (the session id). */
  orderKey: string;
  /** Increasing in enqueue order across the store. */
  seq: number;
  /** The exact JSON text that is signed and sent. */
  body: string;
  state: DeliveryState;
  attempts: number;
  nextAttemptAt: Date;
  /** No retry is scheduled after this; the delivery is then abandoned. */
  retryUntil: Date;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: Date;
  deliveredAt: Date | null;
}

/** One try of a delivery, for the delivery log. */
export interface WebhookAttempt {
  deliveryId: string;
  orgId: string;
  at: Date;
  /** The receiver's HTTP status; null when no response came (refused, timeout, network). */
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

export type NewWebhookEndpoint = Pick<WebhookEndpoint, 'url' | 'description' | 'secret' | 'events'>;
export type WebhookEndpointPatch = Partial<
  Pick<WebhookEndpoint, 'url' | 'description' | 'secret' | 'events' | 'active' | 'failingSince' | 'disabledAt' | 'disabledReason'>
>;
export type NewWebhookDelivery = Pick<
  WebhookDelivery,
  'orgId' | 'endpointId' | 'event' | 'orderKey' | 'body' | 'retryUntil' | 'createdAt'
> & {
  id?: string;
};

export type DeliveryOutcome = { state: 'delivered' } | { state: 'pending'; nextAttemptAt: Date } | { state: 'abandoned' };

export interface WebhookRepository {
  createEndpoint(orgId: string, input: NewWebhookEndpoint, now: Date): Promise<WebhookEndpoint>;
  getEndpoint(orgId: string, id: string): Promise<WebhookEndpoint | null>;
  /** Oldest first. */
  listEndpoints(orgId: string): Promise<WebhookEndpoint[]>;
  /** Active endpoints of the organisation subscribed to the event. */
  listSubscribed(orgId: string, event: WebhookEventType): Promise<WebhookEndpoint[]>;
  updateEndpoint(orgId: string, id: string, patch: WebhookEndpointPatch, now: Date): Promise<WebhookEndpoint | null>;
  /**
   * Turns an active endpoint off with the reason; true only for the one call that changed it
   * (several nodes may see the same failure run end).
   */
  disableEndpoint(orgId: string, id: string, reason: string, now: Date): Promise<boolean>;
  /** Deletes the endpoint with its deliveries and their attempts; false when it did not exist. */
  deleteEndpoint(orgId: string, id: string): Promise<boolean>;
  /** Queues pending deliveries due at their createdAt, with increasing `seq` in the given order. */
  enqueue(inputs: NewWebhookDelivery[]): Promise<WebhookDelivery[]>;
  getDelivery(orgId: string, id: string): Promise<WebhookDelivery | null>;
  /** Newest first. */
  listDeliveries(orgId: string, endpointId: string, page: PageQuery): Promise<{ items: WebhookDelivery[]; total: number }>;
  /** Oldest first. */
  listAttempts(orgId: string, deliveryId: string): Promise<WebhookAttempt[]>;
  /**
   * System-wide: leases up to `limit` pending deliveries due at `now` (lease free or expired) of
   * active endpoints, each the first pending one of its (endpoint, orderKey) queue, to `owner`
   * until `until`. Of concurrent callers, each delivery goes to one.
   */
  claimDue(owner: string, until: Date, now: Date, limit: number): Promise<WebhookDelivery[]>;
  /**
   * Logs the attempt, applies the outcome (attempts + 1) and frees the lease, only while `owner`
   * holds it; false (nothing written) otherwise.
   */
  settle(
    orgId: string,
    id: string,
    owner: string,
    attempt: Omit<WebhookAttempt, 'deliveryId' | 'orgId'>,
    outcome: DeliveryOutcome,
  ): Promise<boolean>;
  /** Puts the delivery back to pending, due at `now`, with a fresh retry window; null when missing. */
  redeliver(orgId: string, id: string, now: Date, retryUntil: Date): Promise<WebhookDelivery | null>;
  /** System-wide: deletes deliveries delivered or abandoned that were queued before `before`, with their attempts; counts per organisation. */
  purgeFinished(before: Date): Promise<OrgCount[]>;
}

/** What the sender adapter answers: the receiver's status (2xx is a success). */
export interface WebhookResponse {
  status: number;
}

/**
 * Sends one signed request. Rejects when no response came: address refused (private network),
 * timeout, connection error; the message goes to the delivery log.
 */
export interface WebhookSender {
  send(url: string, headers: Record<string, string>, body: string): Promise<WebhookResponse>;
}

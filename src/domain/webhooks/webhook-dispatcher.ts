import type { Logger } from '../../logger.js';
import type { AuditRepository } from '../ports/audit.js';
import { DISABLE_AFTER_MS, retryDelayMs } from './backoff.js';
import { DELIVERY_HEADER, EVENT_HEADER, IDEMPOTENCY_HEADER, SIGNATURE_HEADER, signatureHeader } from './signature.js';
import type { DeliveryOutcome, WebhookDelivery, WebhookEndpoint, WebhookRepository, WebhookSender } from './webhook-ports.js';

export interface WebhookDispatcherDeps {
  store: { webhooks: WebhookRepository; audit: AuditRepository };
  sender: WebhookSender;
  now: () => Date;
  logger: Logger;
  /** [0, 1), for the backoff's jitter; Math.random by default. */
  random?: () => number;
  /**
   * False while this node's clock disagrees with its peers': it then claims nothing, since by a
   * clock ahead every other node's lease on an attempt in flight looks expired (the delivery is
   * sent a second time) and retries fall due early; by one behind, its own leases end early.
   */
  clockTrusted?: () => boolean;
}

export interface WebhookDispatcherOptions {
  /** This node's identity in delivery leases. */
  owner: string;
  /** Must outlast one attempt (the sender's timeout) so no other node retries it meanwhile. */
  leaseMs: number;
  /** Deliveries claimed per pass. */
  batch?: number;
  firstRetryMs?: number;
  maxRetryMs?: number;
  disableAfterMs?: number;
}

const ERROR_MAX = 300;

/**
 * Sends queued webhook deliveries: each pass leases the due ones in the store (so every attempt
 * goes out from one node), sends them signed, and records the attempt with its outcome: done,
 * retried later with backoff, or abandoned when the retry window is over. Endpoints failing
 * without a success for `disableAfterMs` are disabled (audited).
 */
export class WebhookDispatcher {
  private readonly random: () => number;

  constructor(
    private readonly deps: WebhookDispatcherDeps,
    private readonly options: WebhookDispatcherOptions,
  ) {
    this.random = deps.random ?? Math.random;
  }

  /** One pass; resolves to the number of attempts made. */
  async tick(): Promise<number> {
    if (this.deps.clockTrusted && !this.deps.clockTrusted()) return 0;
    const now = this.deps.now();
    const claimed = await this.deps.store.webhooks.claimDue(
      this.options.owner,
      new Date(now.getTime() + this.options.leaseMs),
      now,
      this.options.batch ?? 20,
    );
    // claimDue hands out at most one delivery per (endpoint, session) queue, so these may run together.
    const done = await Promise.all(claimed.map((d) => this.attempt(d)));
    return done.filter(Boolean).length;
  }

  private async attempt(delivery: WebhookDelivery): Promise<boolean> {
    const { webhooks } = this.deps.store;
    const endpoint = await webhooks.getEndpoint(delivery.orgId, delivery.endpointId);
    if (!endpoint) return false;
    const at = this.deps.now();
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'attendance-webhooks/1',
      [SIGNATURE_HEADER]: signatureHeader(endpoint.secret, delivery.body, at),
      [DELIVERY_HEADER]: delivery.id,
      [IDEMPOTENCY_HEADER]: delivery.id,
      [EVENT_HEADER]: delivery.event,
    };
    const started = performance.now();
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      statusCode = (await this.deps.sender.send(endpoint.url, headers, delivery.body)).status;
      if (statusCode < 200 || statusCode > 299) error = `HTTP ${statusCode}`;
    } catch (err) {
      error = (err instanceof Error ? err.message : String(err)).slice(0, ERROR_MAX);
    }
    const durationMs = Math.round(performance.now() - started);
    const after = this.deps.now();
    const outcome = error === null ? ({ state: 'delivered' } as const) : this.retryOrAbandon(delivery, after);
    const settled = await webhooks.settle(delivery.orgId, delivery.id, this.options.owner, { at, statusCode, error, durationMs }, outcome);
    if (!settled) {
      this.deps.logger.warn({ delivery: delivery.id }, 'webhook delivery lease lost before its attempt was recorded');
      return true;
    }
    await this.trackHealth(endpoint, error === null, after);
    return true;
  }

  private retryOrAbandon(delivery: WebhookDelivery, now: Date): DeliveryOutcome {
    const delay = retryDelayMs(delivery.attempts + 1, this.random, this.options.firstRetryMs, this.options.maxRetryMs);
    const next = new Date(now.getTime() + delay);
    return next.getTime() > delivery.retryUntil.getTime() ? { state: 'abandoned' } : { state: 'pending', nextAttemptAt: next };
  }

  private async trackHealth(endpoint: WebhookEndpoint, ok: boolean, now: Date): Promise<void> {
    const { webhooks, audit } = this.deps.store;
    const current = (await webhooks.getEndpoint(endpoint.orgId, endpoint.id)) ?? endpoint;
    if (ok) {
      if (current.failingSince) await webhooks.updateEndpoint(endpoint.orgId, endpoint.id, { failingSince: null }, now);
      return;
    }
    if (!current.failingSince) {
      await webhooks.updateEndpoint(endpoint.orgId, endpoint.id, { failingSince: now }, now);
      return;
    }
    const limit = this.options.disableAfterMs ?? DISABLE_AFTER_MS;
    if (!current.active || now.getTime() - current.failingSince.getTime() < limit) return;
    const reason = `every attempt failed since ${current.failingSince.toISOString()}`;
    if (!(await webhooks.disableEndpoint(endpoint.orgId, endpoint.id, reason, now))) return;
    await audit.append({
      orgId: endpoint.orgId,
      entityType: 'organisation',
      entityId: endpoint.orgId,
      sessionId: null,
      actorId: null,
      action: 'webhook.disabled',
      from: { endpointId: endpoint.id, active: true },
      to: { endpointId: endpoint.id, active: false },
      reason,
      ip: null,
      at: now,
    });
    this.deps.logger.warn({ endpoint: endpoint.id, org: endpoint.orgId }, 'webhook endpoint disabled after persistent failure');
  }
}

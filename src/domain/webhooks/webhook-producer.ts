import { newId } from '../../shared/ids.js';
import type { DomainEvent } from '../events.js';
import { RETRY_WINDOW_MS } from './backoff.js';
import type { WebhookEventType } from '../../shared/webhooks.js';
import type { WebhookRepository } from './webhook-ports.js';

interface WebhookEvent {
  type: WebhookEventType;
  orgId: string;
  /** Deliveries with one key go out in order: the session id. */
  orderKey: string;
  data: unknown;
}

/** Which domain events become which webhook events, with the data receivers get. */
export function toWebhookEvent(event: DomainEvent): WebhookEvent | null {
  if (event.type === 'session.changed') {
    const { session } = event;
    const type = event.change === 'opened' ? 'session.opened' : session.status === 'closed' ? 'session.closed' : null;
    return type ? { type, orgId: event.orgId, orderKey: session.id, data: { session } } : null;
  }
  if (event.type === 'roster.changed') {
    const { checkin } = event;
    return {
      // A record is created at version 1; every change after that increments it.
      type: checkin.recordVersion === 1 ? 'record.created' : 'record.changed',
      orgId: event.orgId,
      orderKey: checkin.sessionId,
      data: {
        record: {
          id: checkin.recordId,
          sessionId: checkin.sessionId,
          studentId: event.studentId,
          status: checkin.status,
          reason: checkin.reason,
          flags: checkin.flags,
          attempts: checkin.attempts,
          submittedAt: checkin.submittedAt,
          decidedAt: checkin.decidedAt,
          version: checkin.recordVersion,
        },
      },
    };
  }
  if (event.type === 'alert.raised') {
    const { alert } = event;
    // Ids and figures only, like records: the receiver looks the names up in its own system.
    return {
      type: 'alert.raised',
      orgId: event.orgId,
      orderKey: `alert:${alert.subjectId}`,
      data: {
        alert: {
          ruleId: alert.ruleId,
          rule: alert.rule,
          subjectId: alert.subjectId,
          studentId: alert.studentId,
          count: alert.count,
          thresholdPct: alert.thresholdPct,
          windowDays: alert.windowDays,
          observed: alert.observed,
        },
      },
    };
  }
  return null;
}

/**
 * Turns domain events into queued deliveries, one per subscribed active endpoint, on the node
 * where the event happened. The writes are tracked so shutdown can wait for them.
 */
export class WebhookProducer {
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly deps: {
      store: { webhooks: WebhookRepository };
      now: () => Date;
      onError: (err: unknown, event: WebhookEvent) => void;
    },
  ) {}

  handle(event: DomainEvent): void {
    const hook = toWebhookEvent(event);
    if (!hook) return;
    const write = this.enqueue(hook)
      .catch((err: unknown) => this.deps.onError(err, hook))
      .finally(() => this.inFlight.delete(write));
    this.inFlight.add(write);
  }

  /** Resolves when every delivery of the events handled so far is queued (or failed to be). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private async enqueue(hook: WebhookEvent): Promise<void> {
    const endpoints = await this.deps.store.webhooks.listSubscribed(hook.orgId, hook.type);
    if (endpoints.length === 0) return;
    const now = this.deps.now();
    await this.deps.store.webhooks.enqueue(
      endpoints.map((endpoint) => {
        const id = newId();
        const body = JSON.stringify({ id, type: hook.type, createdAt: now.toISOString(), organisationId: hook.orgId, data: hook.data });
        return {
          id,
          orgId: hook.orgId,
          endpointId: endpoint.id,
          event: hook.type,
          orderKey: hook.orderKey,
          body,
          createdAt: now,
          retryUntil: new Date(now.getTime() + RETRY_WINDOW_MS),
        };
      }),
    );
  }
}

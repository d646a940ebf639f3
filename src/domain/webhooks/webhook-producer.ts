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

/** The webhook event type a domain event becomes, or null: decided without building its data. */
function webhookType(event: DomainEvent): WebhookEventType | null {
  if (event.type === 'session.changed') {
    return event.change === 'opened' ? 'session.opened' : event.session.status === 'closed' ? 'session.closed' : null;
  }
  // A record is created at version 1; every change after that increments it.
  if (event.type === 'roster.changed') return event.checkin.recordVersion === 1 ? 'record.created' : 'record.changed';
  if (event.type === 'alert.raised') return 'alert.raised';
  return null;
}

/** Which domain events become which webhook events, with the data receivers get. */
export function toWebhookEvent(event: DomainEvent): WebhookEvent | null {
  const type = webhookType(event);
  if (type === null) return null;
  if (event.type === 'session.changed') {
    const { session } = event;
    return { type, orgId: event.orgId, orderKey: session.id, data: { session } };
  }
  if (event.type === 'roster.changed') {
    const { checkin } = event;
    return {
      type,
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

/** Runs `fn` once the current turn of the event loop is over; injected for tests. */
export type Defer = (fn: () => void) => void;

const nextTurn: Defer = (fn) => setImmediate(fn);

/**
 * Turns domain events into queued deliveries, one per subscribed active endpoint, on the node
 * where the event happened. The events of one turn of the event loop (a group commit's check-ins)
 * are queued together: the subscriptions are read once per organisation and event type and the
 * deliveries written with one call, instead of a read and a write per record change. Nothing is
 * kept between turns, so an endpoint added, changed or disabled applies to the next turn's
 * events on every node. The writes are tracked so shutdown can wait for them. An event's webhook
 * body is built only when an endpoint is subscribed to it: with none, a check-in costs this
 * producer a slot in the turn's list (its data and keys were half a kilobyte of garbage per
 * check-in, docs/multi-node.md "Allocation per check-in, round 21").
 */
export class WebhookProducer {
  private readonly inFlight = new Set<Promise<void>>();
  /** This turn's events that become webhooks, written at its end. */
  private pending: DomainEvent[] = [];

  constructor(
    private readonly deps: {
      store: { webhooks: WebhookRepository };
      now: () => Date;
      onError: (err: unknown, event: WebhookEvent) => void;
    },
    private readonly defer: Defer = nextTurn,
  ) {}

  handle(event: DomainEvent): void {
    if (webhookType(event) === null) return;
    if (this.pending.length === 0) this.defer(() => this.flush());
    this.pending.push(event);
  }

  /** Resolves when every delivery of the events handled so far is queued (or failed to be). */
  async drain(): Promise<void> {
    this.flush();
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const events = this.pending;
    this.pending = [];
    const write = this.enqueue(events)
      .catch((err: unknown) => {
        for (const event of events) {
          const hook = toWebhookEvent(event);
          if (hook) this.deps.onError(err, hook);
        }
      })
      .finally(() => this.inFlight.delete(write));
    this.inFlight.add(write);
  }

  private async enqueue(events: readonly DomainEvent[]): Promise<void> {
    // By organisation, then event type: the subscriptions of each pair, read once.
    const subscribed = new Map<string, Map<WebhookEventType, Promise<{ id: string }[]>>>();
    for (const event of events) {
      const type = webhookType(event)!;
      let byType = subscribed.get(event.orgId);
      if (!byType) subscribed.set(event.orgId, (byType = new Map()));
      if (!byType.has(type)) byType.set(type, this.deps.store.webhooks.listSubscribed(event.orgId, type));
    }
    const endpointsOf = new Map<string, Map<WebhookEventType, { id: string }[]>>();
    for (const [orgId, byType] of subscribed) {
      const read = new Map<WebhookEventType, { id: string }[]>();
      for (const [type, endpoints] of byType) read.set(type, await endpoints);
      endpointsOf.set(orgId, read);
    }
    const now = this.deps.now();
    // In the order of the events: deliveries with one order key go out in the order they were queued.
    const deliveries = [];
    for (const event of events) {
      const endpoints = endpointsOf.get(event.orgId)!.get(webhookType(event)!)!;
      if (endpoints.length === 0) continue;
      const hook = toWebhookEvent(event)!;
      for (const endpoint of endpoints) {
        const id = newId();
        const body = JSON.stringify({ id, type: hook.type, createdAt: now.toISOString(), organisationId: hook.orgId, data: hook.data });
        deliveries.push({
          id,
          orgId: hook.orgId,
          endpointId: endpoint.id,
          event: hook.type,
          orderKey: hook.orderKey,
          body,
          createdAt: now,
          retryUntil: new Date(now.getTime() + RETRY_WINDOW_MS),
        });
      }
    }
    if (deliveries.length > 0) await this.deps.store.webhooks.enqueue(deliveries);
  }
}

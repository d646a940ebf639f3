import type { AuditAction } from '../../shared/audit.js';
import { audit } from '../audit-log.js';
import { AppError } from '../../shared/app-error.js';
import type { PartialInput } from '../../shared/partial-input.js';
import { requireRole, type Actor } from '../actor.js';
import type { AuditRepository } from '../ports/audit.js';
import type { Page, PageQuery } from '../ports/common.js';
import { RETRY_WINDOW_MS } from './backoff.js';
import { newWebhookSecret } from './signature.js';
import type { WebhookEventType } from '../../shared/webhooks.js';
import type { WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookRepository } from './webhook-ports.js';

export type EndpointView = Omit<WebhookEndpoint, 'secret'>;
export type DeliveryView = Omit<WebhookDelivery, 'orgId' | 'seq'> & { attemptLog: Omit<WebhookAttempt, 'orgId' | 'deliveryId'>[] };

export interface EndpointInput {
  url: string;
  description?: string | null | undefined;
  events: WebhookEventType[];
}

const view = ({ secret: _secret, ...rest }: WebhookEndpoint): EndpointView => rest;

/** An organisation's admin manages its webhook endpoints and reads their delivery log. */
export class WebhookService {
  constructor(private readonly deps: { store: { webhooks: WebhookRepository; audit: AuditRepository }; clock: () => Date }) {}

  async list(actor: Actor): Promise<EndpointView[]> {
    requireRole(actor, 'admin');
    return (await this.deps.store.webhooks.listEndpoints(actor.orgId)).map(view);
  }

  /** The only answer that carries the secret. */
  async create(actor: Actor, input: EndpointInput): Promise<WebhookEndpoint> {
    requireRole(actor, 'admin');
    const now = this.deps.clock();
    const endpoint = await this.deps.store.webhooks.createEndpoint(
      actor.orgId,
      { url: input.url, description: input.description ?? null, events: unique(input.events), secret: newWebhookSecret() },
      now,
    );
    await this.audit(actor, 'webhook.create', null, { endpointId: endpoint.id, url: endpoint.url, events: endpoint.events }, now);
    return endpoint;
  }

  async update(actor: Actor, id: string, patch: PartialInput<EndpointInput & { active: boolean }>): Promise<EndpointView> {
    requireRole(actor, 'admin');
    const { webhooks } = this.deps.store;
    const before = await webhooks.getEndpoint(actor.orgId, id);
    if (!before) throw new AppError('NOT_FOUND');
    const now = this.deps.clock();
    const updated = await webhooks.updateEndpoint(
      actor.orgId,
      id,
      {
        ...(patch.url !== undefined ? { url: patch.url } : {}),
        ...(patch.description !== undefined ? { description: patch.description } : {}),
        ...(patch.events !== undefined ? { events: unique(patch.events) } : {}),
        ...(patch.active !== undefined ? { active: patch.active } : {}),
        // Re-enabling starts the failure clock afresh; its queued deliveries go out again.
        ...(patch.active === true ? { failingSince: null, disabledAt: null, disabledReason: null } : {}),
      },
      now,
    );
    if (!updated) throw new AppError('NOT_FOUND');
    await this.audit(
      actor,
      'webhook.update',
      { endpointId: id, url: before.url, events: before.events, active: before.active },
      { endpointId: id, url: updated.url, events: updated.events, active: updated.active },
      now,
    );
    return view(updated);
  }

  /**
   * Replaces the signing secret; the answer carries the new one, once. Every attempt from now on
   * (retries of queued deliveries included) is signed with it only, so the old one stops working at once.
   */
  async rotateSecret(actor: Actor, id: string): Promise<WebhookEndpoint> {
    requireRole(actor, 'admin');
    const now = this.deps.clock();
    const updated = await this.deps.store.webhooks.updateEndpoint(actor.orgId, id, { secret: newWebhookSecret() }, now);
    if (!updated) throw new AppError('NOT_FOUND');
    // Never the secret itself: the audit trail is readable by every admin and exported.
    await this.audit(actor, 'webhook.rotate-secret', null, { endpointId: id, url: updated.url }, now);
    return updated;
  }

  async remove(actor: Actor, id: string): Promise<void> {
    requireRole(actor, 'admin');
    if (!(await this.deps.store.webhooks.deleteEndpoint(actor.orgId, id))) throw new AppError('NOT_FOUND');
    await this.audit(actor, 'webhook.delete', { endpointId: id }, null, this.deps.clock());
  }

  async deliveries(actor: Actor, endpointId: string, page: PageQuery): Promise<Page<DeliveryView>> {
    requireRole(actor, 'admin');
    const { webhooks } = this.deps.store;
    if (!(await webhooks.getEndpoint(actor.orgId, endpointId))) throw new AppError('NOT_FOUND');
    const found = await webhooks.listDeliveries(actor.orgId, endpointId, page);
    const items = await Promise.all(found.items.map((d) => this.deliveryView(d)));
    return { items, total: found.total };
  }

  /** Sends the delivery again (same id, so receivers can tell), with a fresh retry window. */
  async redeliver(actor: Actor, deliveryId: string): Promise<DeliveryView> {
    requireRole(actor, 'admin');
    const now = this.deps.clock();
    const delivery = await this.deps.store.webhooks.redeliver(actor.orgId, deliveryId, now, new Date(now.getTime() + RETRY_WINDOW_MS));
    if (!delivery) throw new AppError('NOT_FOUND');
    await this.audit(actor, 'webhook.redeliver', null, { endpointId: delivery.endpointId, deliveryId }, now);
    return this.deliveryView(delivery);
  }

  private async deliveryView({ orgId: _orgId, seq: _seq, ...d }: WebhookDelivery): Promise<DeliveryView> {
    const attempts = await this.deps.store.webhooks.listAttempts(_orgId, d.id);
    return { ...d, attemptLog: attempts.map(({ orgId: _o, deliveryId: _d, ...a }) => a) };
  }

  private async audit(actor: Actor, action: AuditAction, from: unknown, to: unknown, at: Date): Promise<void> {
    await audit(this.deps.store, actor, at, { entityType: 'organisation', entityId: actor.orgId, action, from, to });
  }
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}

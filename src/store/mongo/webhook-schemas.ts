import { Schema } from 'mongoose';
import { DELIVERY_STATES, WEBHOOK_EVENTS } from '../../shared/webhooks.js';
import type { WebhookAttempt, WebhookDelivery, WebhookEndpoint } from '../../domain/webhooks/webhook-ports.js';
import { base, nullableDate, nullableString, requiredString } from './common-schemas.js';

// Outbound webhooks: endpoints, their queued deliveries, the attempts log, and the counter that
// orders deliveries. The copy from SQLite carries the first three (transfer-mapping.ts).

export type WebhookEndpointDoc = Omit<WebhookEndpoint, 'id'> & { _id: string };

export const webhookEndpointSchema = new Schema<WebhookEndpointDoc>(
  {
    _id: requiredString,
    orgId: requiredString,
    url: requiredString,
    description: nullableString,
    secret: requiredString,
    events: { type: [{ type: String, enum: WEBHOOK_EVENTS }], required: true },
    active: { type: Boolean, required: true },
    failingSince: nullableDate,
    disabledAt: nullableDate,
    disabledReason: nullableString,
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { ...base, collection: 'webhookEndpoints' },
);
webhookEndpointSchema.index({ orgId: 1, createdAt: 1 }, { name: 'org_created' });

/** The delivery as stored, with the lease of the node sending it (not part of the entity). */
export type WebhookDeliveryDoc = Omit<WebhookDelivery, 'id'> & { _id: string; leaseOwner: string | null; leaseUntil: Date | null };

export const webhookDeliverySchema = new Schema<WebhookDeliveryDoc>(
  {
    _id: requiredString,
    orgId: requiredString,
    endpointId: requiredString,
    event: { type: String, enum: WEBHOOK_EVENTS, required: true },
    orderKey: requiredString,
    seq: { type: Number, required: true },
    body: requiredString,
    state: { type: String, enum: DELIVERY_STATES, required: true },
    attempts: { type: Number, required: true },
    nextAttemptAt: { type: Date, required: true },
    retryUntil: { type: Date, required: true },
    lastStatus: { type: Number, default: null },
    lastError: nullableString,
    leaseOwner: nullableString,
    leaseUntil: nullableDate,
    createdAt: { type: Date, required: true },
    deliveredAt: nullableDate,
  },
  { ...base, collection: 'webhookDeliveries' },
);
webhookDeliverySchema.index({ state: 1, nextAttemptAt: 1 }, { name: 'due' });
webhookDeliverySchema.index({ endpointId: 1, orderKey: 1, state: 1, seq: 1 }, { name: 'queue' });
webhookDeliverySchema.index({ orgId: 1, endpointId: 1, seq: -1 }, { name: 'log' });

/** An attempt has no id of its own in the domain; the store gives it one. */
export type WebhookAttemptDoc = WebhookAttempt & { _id: string };

export const webhookAttemptSchema = new Schema<WebhookAttemptDoc>(
  {
    _id: requiredString,
    deliveryId: requiredString,
    orgId: requiredString,
    at: { type: Date, required: true },
    statusCode: { type: Number, default: null },
    error: nullableString,
    durationMs: { type: Number, required: true },
  },
  { ...base, collection: 'webhookAttempts' },
);
webhookAttemptSchema.index({ deliveryId: 1, at: 1 }, { name: 'delivery' });

/** `{_id: 'deliveries', value}`: the last seq handed out. */
export interface WebhookCounterDoc {
  _id: string;
  value: number;
}

export const webhookCounterSchema = new Schema<WebhookCounterDoc>(
  { _id: requiredString, value: { type: Number, required: true } },
  { ...base, collection: 'webhookCounters' },
);

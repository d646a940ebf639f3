/**
 * The webhook vocabulary shared by the server (routes, store schemas, producer) and the admin
 * console, which offers these as the events an endpoint can subscribe to (docs/webhooks.md).
 */
export const WEBHOOK_EVENTS = ['session.opened', 'session.closed', 'record.created', 'record.changed', 'alert.raised'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

/** A delivery's state in the log: waiting (or retrying), done, or given up after its retry window. */
export const DELIVERY_STATES = ['pending', 'delivered', 'abandoned'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

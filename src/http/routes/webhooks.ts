import { z } from 'zod';
import { DELIVERY_STATES, WEBHOOK_EVENTS } from '../../shared/webhooks.js';
import type { RouteRegistry } from '../define-route.js';
import type { HttpContext } from '../http-context.js';
import { IdParams, PageQuery, pageOf } from '../schemas.js';

const ADMIN = ['admin'] as const;

const EventsSchema = z
  .array(z.enum(WEBHOOK_EVENTS))
  .min(1)
  .max(WEBHOOK_EVENTS.length)
  .describe('Events sent to the endpoint (docs/webhooks.md)');

const EndpointSchema = z
  .object({
    id: z.string().describe('Also the endpoint id in the delivery log'),
    url: z.string(),
    description: z.string().nullable(),
    events: z.array(z.enum(WEBHOOK_EVENTS)),
    active: z.boolean().describe('False when an admin paused it or it was disabled after failing for 24 h'),
    failingSince: z.date().nullable().describe('Start of the current run of failed attempts'),
    disabledAt: z.date().nullable(),
    disabledReason: z.string().nullable(),
    createdAt: z.date(),
    updatedAt: z.date(),
  })
  .describe('A webhook endpoint of the organisation');

const CreatedEndpointSchema = EndpointSchema.extend({
  secret: z.string().describe('The signing secret (docs/webhooks.md); shown only in this answer (on creation and rotation)'),
});

const EndpointBody = z.object({
  url: z
    .url({ protocol: /^https?$/ })
    .max(2_000)
    .describe('http(s) URL; private and loopback addresses are refused when sending unless WEBHOOK_ALLOW_PRIVATE'),
  description: z.string().trim().max(200).nullish(),
  events: EventsSchema,
});

const EndpointPatch = z.object({
  url: EndpointBody.shape.url.optional(),
  description: z.string().trim().max(200).nullish(),
  events: EventsSchema.optional(),
  active: z.boolean().optional().describe('true re-enables a disabled endpoint: its queued deliveries go out again'),
});

const DeliverySchema = z.object({
  id: z.string().describe('Also the Idempotency-Key and X-Attendance-Delivery headers'),
  endpointId: z.string(),
  event: z.enum(WEBHOOK_EVENTS),
  orderKey: z.string().describe('Deliveries with the same key (the session id) go out in order'),
  body: z.string().describe('The JSON text sent'),
  state: z.enum(DELIVERY_STATES),
  attempts: z.number().int(),
  nextAttemptAt: z.date(),
  retryUntil: z.date(),
  lastStatus: z.number().int().nullable(),
  lastError: z.string().nullable(),
  createdAt: z.date(),
  deliveredAt: z.date().nullable(),
  attemptLog: z.array(
    z.object({
      at: z.date(),
      statusCode: z.number().int().nullable().describe('null when no response came'),
      error: z.string().nullable(),
      durationMs: z.number().int(),
    }),
  ),
});

/** Outbound webhooks: an organisation's endpoints and their delivery log (admins only). */
export function webhookRoutes(routes: RouteRegistry, ctx: HttpContext): void {
  const { webhooks } = ctx.services;

  routes.define({
    method: 'get',
    path: '/webhooks',
    summary: "The organisation's webhook endpoints",
    description: 'Oldest first, without their secrets.',
    tags: ['webhooks'],
    access: ADMIN,
    response: { status: 200, description: 'The endpoints', schema: z.object({ items: z.array(EndpointSchema) }) },
    handler: async ({ actor }) => ({ items: await webhooks.list(actor) }),
  });

  routes.define({
    method: 'post',
    path: '/webhooks',
    summary: 'Add a webhook endpoint',
    description: 'The answer carries the signing secret, once. Audited as `webhook.create`.',
    tags: ['webhooks'],
    access: ADMIN,
    body: EndpointBody,
    response: { status: 201, description: 'The endpoint with its secret', schema: CreatedEndpointSchema },
    handler: ({ actor, body }) => webhooks.create(actor, body),
  });

  routes.define({
    method: 'patch',
    path: '/webhooks/:id',
    summary: 'Change, pause or re-enable a webhook endpoint',
    tags: ['webhooks'],
    access: ADMIN,
    params: IdParams,
    body: EndpointPatch,
    response: { status: 200, description: 'The endpoint', schema: EndpointSchema },
    handler: ({ actor, params, body }) => webhooks.update(actor, params.id, body),
  });

  routes.define({
    method: 'post',
    path: '/webhooks/:id/rotate-secret',
    summary: "Replace a webhook endpoint's signing secret",
    description:
      'The answer carries the new secret, once. Every attempt from now on, retries of queued deliveries included, is ' +
      'signed with the new secret only: update the receiver at once (deliveries it refuses meanwhile are retried). ' +
      'Audited as `webhook.rotate-secret` (without the secret).',
    tags: ['webhooks'],
    access: ADMIN,
    params: IdParams,
    response: { status: 200, description: 'The endpoint with its new secret', schema: CreatedEndpointSchema },
    handler: ({ actor, params }) => webhooks.rotateSecret(actor, params.id),
  });

  routes.define({
    method: 'delete',
    path: '/webhooks/:id',
    summary: 'Delete a webhook endpoint with its queued deliveries and log',
    tags: ['webhooks'],
    access: ADMIN,
    params: IdParams,
    response: { status: 204, description: 'Deleted' },
    handler: ({ actor, params }) => webhooks.remove(actor, params.id),
  });

  routes.define({
    method: 'get',
    path: '/webhooks/:id/deliveries',
    summary: "An endpoint's delivery log",
    description: 'Newest first, each with its attempts (time, status code or error, duration).',
    tags: ['webhooks'],
    access: ADMIN,
    params: IdParams,
    query: PageQuery,
    response: { status: 200, description: 'A page of deliveries', schema: pageOf(DeliverySchema) },
    handler: async ({ actor, params, query }) => {
      const page = await webhooks.deliveries(actor, params.id, query);
      return { ...page, limit: query.limit, offset: query.offset };
    },
  });

  routes.define({
    method: 'post',
    path: '/webhook-deliveries/:id/redeliver',
    summary: 'Send a delivery again',
    description:
      'Puts the delivery back in its queue, due now, with a fresh 24 h retry window; it keeps its id, so a receiver ' +
      'that already handled it can tell. Audited as `webhook.redeliver`.',
    tags: ['webhooks'],
    access: ADMIN,
    params: IdParams,
    response: { status: 202, description: 'Queued again', schema: DeliverySchema },
    handler: ({ actor, params }) => webhooks.redeliver(actor, params.id),
  });
}

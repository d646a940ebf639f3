import { z } from 'zod';
import { OUTBOX_STATUSES } from '../../domain/ports/outbox.js';
import { ALERT_RULE_KINDS, EMAIL_CATEGORIES, EMAIL_LANGUAGES, NOTIFICATION_CATEGORIES, OUTBOX_CATEGORIES } from '../../shared/alerts.js';
import type { RouteRegistry } from '../define-route.js';
import type { HttpContext } from '../http-context.js';
import { unsubscribeErrorPage, unsubscribePage, unsubscribePageHeaders } from '../unsubscribe-page.js';
import { BooleanQuery, IdParams, PageQuery, pageOf } from '../schemas.js';

const Iso = z.string().describe('ISO 8601 time');

const AlertRuleSchema = z
  .object({
    id: z.string(),
    orgId: z.string(),
    kind: z.enum(ALERT_RULE_KINDS),
    count: z.number().int(),
    thresholdPct: z.number().nullable(),
    windowDays: z.number().int().nullable(),
    createdAt: z.date(),
  })
  .describe('An at-risk alert rule of the organisation (docs/notifications.md)');

const CreateRuleBody = z
  .object({
    kind: z.enum(ALERT_RULE_KINDS),
    count: z
      .number()
      .int()
      .min(1)
      .max(100)
      .describe('Absences in a row, lates in the window, or the fewest sessions in the window before attendance is judged'),
    thresholdPct: z.number().min(1).max(100).nullable().default(null).describe('low-attendance only: fires under this percentage'),
    windowDays: z
      .number()
      .int()
      .min(1)
      .max(365)
      .nullable()
      .default(null)
      .describe('low-attendance and repeated-lateness: the rolling window in days'),
  })
  .strict();

export const AlertPayloadSchema = z.object({
  ruleId: z.string(),
  rule: z.enum(ALERT_RULE_KINDS),
  subjectId: z.string(),
  subjectCode: z.string(),
  subjectName: z.string(),
  studentId: z.string(),
  studentName: z.string(),
  count: z.number().int(),
  thresholdPct: z.number().nullable(),
  windowDays: z.number().int().nullable(),
  observed: z.number().describe('Absences in a row, attendance percentage, or lates in the window'),
});

const NotificationSchema = z
  .object({
    id: z.string(),
    category: z.enum(NOTIFICATION_CATEGORIES),
    alert: AlertPayloadSchema,
    createdAt: Iso,
    readAt: Iso.nullable(),
  })
  .describe('A notification of the caller');

const NotificationQuery = PageQuery.extend({ unread: BooleanQuery.optional().describe('Only unread ones') });

const ReadBody = z
  .object({
    ids: z
      .array(z.string().min(1).max(100))
      .min(1)
      .max(200)
      .optional()
      .describe('The notifications to mark; all unread ones when left out'),
  })
  .strict();

const PreferencesSchema = z
  .object({
    language: z
      .enum(EMAIL_LANGUAGES)
      .nullable()
      .describe("The caller's language for emails and the student and login pages; null: the organisation's (settings.language)"),
    unsubscribed: z.array(z.enum(EMAIL_CATEGORIES)).max(EMAIL_CATEGORIES.length).describe('Email categories not wanted'),
  })
  .strict()
  .describe("The caller's email preferences");

const OutboxRowSchema = z
  .object({
    id: z.string(),
    orgId: z.string(),
    category: z.enum(OUTBOX_CATEGORIES),
    to: z.string(),
    subject: z.string(),
    status: z.enum(OUTBOX_STATUSES),
    attempts: z.number().int(),
    lastError: z.string().nullable().describe("The SMTP server's answer to the last failed attempt"),
    nextAttemptAt: z.date(),
    createdAt: z.date(),
    sentAt: z.date().nullable(),
  })
  .describe('An email of the outbox (without its body): a notification, an invitation or a password reset');

const OutboxQuery = PageQuery.extend({
  status: z.enum(OUTBOX_STATUSES).optional(),
  recipient: z
    .string()
    .trim()
    .min(1)
    .max(320)
    .optional()
    .describe(
      'Emails whose recipient address starts with this (a whole address finds its own), case ignored; `%`, `_` and `*` are plain characters',
    ),
});

// Tokens are `u1.<base64url>.<base64url>` (a user) or `g1.…` (a guardian contact): only those characters, so a link stays a short ASCII line.
const UnsubscribeQuery = z.object({
  token: z
    .string()
    .min(1)
    .max(2_000)
    .regex(/^[A-Za-z0-9_.-]+$/),
});

/** RFC 8058 §3.1: the one-click POST carries exactly this pair. */
const OneClickBody = z.object({ 'List-Unsubscribe': z.literal('One-Click') });

/** Alert rules (the organisation's admins), every user's own notifications and email preferences, and the email outbox. */
export function alertRoutes(routes: RouteRegistry, ctx: HttpContext): void {
  const { alerts, emails } = ctx.services;
  {
    routes.define({
      method: 'get',
      path: '/alert-rules',
      summary: "The organisation's alert rules, oldest first",
      tags: ['alerts'],
      access: ['admin'],
      response: { status: 200, description: 'Every rule', schema: z.object({ items: z.array(AlertRuleSchema) }) },
      handler: async ({ actor }) => ({ items: await alerts.listRules(actor) }),
    });

    routes.define({
      method: 'post',
      path: '/alert-rules',
      summary: 'Add an alert rule',
      description: 'Evaluated for every student of every subject when a session closes or a record is corrected; alerts once per crossing.',
      tags: ['alerts'],
      access: ['admin'],
      body: CreateRuleBody,
      response: { status: 201, description: 'The new rule', schema: AlertRuleSchema },
      errors: ['CONFLICT'],
      handler: ({ actor, body }) => alerts.createRule(actor, body),
    });

    routes.define({
      method: 'delete',
      path: '/alert-rules/:id',
      summary: 'Remove an alert rule (and what it remembers of crossings)',
      tags: ['alerts'],
      access: ['admin'],
      params: IdParams,
      response: { status: 204, description: 'Removed' },
      errors: ['NOT_FOUND'],
      handler: ({ actor, params }) => alerts.deleteRule(actor, params.id),
    });

    routes.define({
      method: 'get',
      path: '/me/notifications',
      summary: "The caller's notifications, newest first, with the unread count",
      tags: ['alerts'],
      access: 'authenticated',
      query: NotificationQuery,
      response: {
        status: 200,
        description: 'A page of notifications',
        schema: z.object({
          items: z.array(NotificationSchema),
          total: z.number().int(),
          unread: z.number().int(),
          limit: z.number().int(),
          offset: z.number().int(),
        }),
      },
      handler: async ({ actor, query }) => ({
        ...(await alerts.listNotifications(actor, { limit: query.limit, offset: query.offset, unreadOnly: query.unread ?? false })),
        limit: query.limit,
        offset: query.offset,
      }),
    });

    routes.define({
      method: 'post',
      path: '/me/notifications/read',
      summary: "Mark the caller's notifications read",
      tags: ['alerts'],
      access: 'authenticated',
      body: ReadBody,
      response: {
        status: 200,
        description: 'How many were marked, and the unread count left',
        schema: z.object({ marked: z.number().int(), unread: z.number().int() }),
      },
      handler: ({ actor, body }) => alerts.markRead(actor, body.ids ?? null),
    });

    routes.define({
      method: 'get',
      path: '/me/notification-preferences',
      summary: "The caller's email preferences",
      tags: ['alerts'],
      access: 'authenticated',
      response: {
        status: 200,
        description: 'Language and unsubscribed categories (English and every category by default)',
        schema: PreferencesSchema,
      },
      handler: ({ actor }) => emails.preferences(actor),
    });

    routes.define({
      method: 'put',
      path: '/me/notification-preferences',
      summary: "Replace the caller's email preferences",
      tags: ['alerts'],
      access: 'authenticated',
      body: PreferencesSchema,
      response: { status: 200, description: 'The stored preferences', schema: PreferencesSchema },
      handler: ({ actor, body }) => emails.setPreferences(actor, body),
    });

    // An email's link: GET only shows a page (mail scanners prefetch links); the page's button,
    // or a mail provider's RFC 8058 one-click POST, unsubscribes; the next page can undo it.
    // No CSRF token: the signed token in the URL is the credential, no cookie is read here.
    const linkDescription =
      "The signed token names the category and the recipient: a user, or a guardian contact of a student (by the address's key). " +
      "Answers a page in the recipient's language (English or French); a client accepting HTML gets errors as a page too.";
    routes.define({
      method: 'get',
      path: '/unsubscribe',
      summary: "The page of an email's unsubscribe link: asks to confirm, changes nothing",
      description: `${linkDescription} Once unsubscribed, the page offers to subscribe again.`,
      tags: ['alerts'],
      access: 'public',
      query: UnsubscribeQuery,
      response: { status: 200, description: 'A page with an Unsubscribe button (a POST form)', contentType: 'text/html' },
      errors: ['UNSUBSCRIBE_LINK_INVALID'],
      errorPage: unsubscribeErrorPage,
      handler: async ({ query, res }) => {
        unsubscribePageHeaders(res);
        return unsubscribePage('confirm', await emails.unsubscribeLink(query.token), query.token, ctx.config.basePath);
      },
    });

    routes.define({
      method: 'post',
      path: '/unsubscribe',
      summary: "Unsubscribe from one category of email (the page's button, or RFC 8058 one-click)",
      description:
        `${linkDescription} The body is \`List-Unsubscribe=One-Click\` as a form (urlencoded or multipart) or JSON; ` +
        'the emails carry `List-Unsubscribe-Post: List-Unsubscribe=One-Click`, so a mail provider may POST it without the page. ' +
        'Again: no further change.',
      tags: ['alerts'],
      access: 'public',
      query: UnsubscribeQuery,
      body: OneClickBody,
      formBody: true,
      response: { status: 200, description: 'A page saying so, with a Subscribe again button', contentType: 'text/html' },
      errors: ['UNSUBSCRIBE_LINK_INVALID'],
      errorPage: unsubscribeErrorPage,
      handler: async ({ query, res }) => {
        unsubscribePageHeaders(res);
        return unsubscribePage('unsubscribed', await emails.unsubscribe(query.token), query.token, ctx.config.basePath);
      },
    });

    routes.define({
      method: 'post',
      path: '/resubscribe',
      summary: 'Subscribe again with the same link (the button of the unsubscribed page)',
      description: `${linkDescription} Again: no further change.`,
      tags: ['alerts'],
      access: 'public',
      query: UnsubscribeQuery,
      formBody: true,
      response: { status: 200, description: 'A page saying so, with an Unsubscribe button', contentType: 'text/html' },
      errors: ['UNSUBSCRIBE_LINK_INVALID'],
      errorPage: unsubscribeErrorPage,
      handler: async ({ query, res }) => {
        unsubscribePageHeaders(res);
        return unsubscribePage('resubscribed', await emails.resubscribe(query.token), query.token, ctx.config.basePath);
      },
    });

    routes.define({
      method: 'get',
      path: '/outbox',
      summary: "The organisation's notification emails, newest first, with their delivery status",
      description: 'Filtered by status and by recipient (an address or its start, case ignored), both at once if given.',
      tags: ['alerts'],
      access: ['admin'],
      query: OutboxQuery,
      response: { status: 200, description: 'A page of emails', schema: pageOf(OutboxRowSchema) },
      handler: async ({ actor, query }) => ({
        ...(await emails.outbox(actor, {
          limit: query.limit,
          offset: query.offset,
          ...(query.status ? { status: query.status } : {}),
          ...(query.recipient ? { recipient: query.recipient } : {}),
        })),
        limit: query.limit,
        offset: query.offset,
      }),
    });

    routes.define({
      method: 'post',
      path: '/outbox/:id/retry',
      summary: 'Send again an email failed for good',
      description:
        'Queues it at once for one more attempt (its attempts and last error kept: refused again, it is failed again). ' +
        'Only a `failed` email of the organisation; any other answers 404. ' +
        'It meets the bounds of a new email: an invitation or reset whose user already has one of its kind queued is answered by that one (another id; the failed one stays failed), ' +
        'and a full outbox (`MAIL_OUTBOX_MAX` emails queued or sending, password resets a quarter of it) answers 503 BUSY, the email left failed.',
      tags: ['alerts'],
      access: ['admin'],
      params: IdParams,
      response: { status: 200, description: 'The email, queued', schema: OutboxRowSchema },
      errors: ['NOT_FOUND', 'BUSY'],
      handler: ({ actor, params }) => emails.retry(actor, params.id),
    });
  }
}

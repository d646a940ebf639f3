import { z } from 'zod';
import { SETTING_LIMITS } from '../../domain/organisations/organisation-service.js';
import { LOCATION_MODES, SHARED_DEVICE_RULES } from '../../domain/ports/organisations.js';
import { LANGUAGES } from '../../shared/i18n/languages.js';
import { DefaultPolicySchema } from '../../shared/policy.js';
import { NOTHING_TO_CHANGE } from '../schemas.js';
import type { RouteRegistry } from '../define-route.js';
import type { HttpContext } from '../http-context.js';

const limited = (l: { min: number; max: number }) => z.number().int().min(l.min).max(l.max);

const DefaultPolicyWireSchema = DefaultPolicySchema.extend({ maxAttempts: limited(SETTING_LIMITS.maxAttempts).optional() }).describe(
  'Checks of a session whose teacher names none; a field left out keeps the built-in default',
);

const days = limited(SETTING_LIMITS.retentionDays);

const RetentionSchema = z
  .object({
    probeDays: days.describe('Days after the session closes before selfie embeddings are deleted from its records (default 7)'),
    locationDays: days.describe(
      'Days after the session closes before exact coordinates are cleared; distance and result stay (default 30)',
    ),
    locationMode: z
      .enum(LOCATION_MODES)
      .describe('`keep` (default) stores coordinates until locationDays; `never` stores only the distance and the result'),
    ipDays: days.describe(
      'Days after the session closes before check-in addresses are cut to their network, IPv4 /24 and IPv6 /48 (default 30)',
    ),
  })
  .describe('How long check-in details are kept (docs/privacy.md)');

const SettingsSchema = z
  .object({
    sessionMinutes: limited(SETTING_LIMITS.sessionMinutes).nullable().describe('Default session length; null: 60'),
    lateGraceMinutes: limited(SETTING_LIMITS.lateGraceMinutes)
      .nullable()
      .describe('Minutes after the start before check-ins are late; null: 10'),
    codePeriodS: limited(SETTING_LIMITS.codePeriodS).nullable().describe('Rotating-code period; null: the server default (CODE_PERIOD_S)'),
    defaultPolicy: DefaultPolicyWireSchema,
    sharedDevice: z
      .enum(SHARED_DEVICE_RULES)
      .describe(
        'One device checking in several accounts of a session: `flag` (default) sends it to the teacher flagged SHARED_DEVICE, `refuse` rejects it',
      ),
    retention: RetentionSchema,
    riskThreshold: limited(SETTING_LIMITS.riskThreshold).describe(
      'Attendance percentage under which reports list a subject or student at risk (default 75)',
    ),
    notifyStudent: z
      .boolean()
      .optional()
      .describe('At-risk alerts also go to the student concerned, in-app and by email (absent: off; docs/notifications.md)'),
    notifyGuardians: z
      .boolean()
      .optional()
      .describe("At-risk alerts also go by email to the student's guardian contacts, in their language (absent: off)"),
    language: z
      .enum(LANGUAGES)
      .optional()
      .describe("Default language of emails and of the student and login pages; a user's own choice wins (absent: en; docs/languages.md)"),
  })
  .describe('Session defaults and check-in rules; session defaults apply when the teacher opening a session leaves a value out');

const OrganisationSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    slug: z.string(),
    timezone: z.string().describe('IANA time zone of calendar days, pages and exports'),
    active: z.boolean(),
    settings: SettingsSchema,
  })
  .describe("The caller's organisation");

export const PatchBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    timezone: z.string().trim().min(1).max(100).describe('An IANA time zone, e.g. Europe/Paris'),
    settings: SettingsSchema.extend({ retention: RetentionSchema.partial() })
      .partial()
      .describe('The fields given replace the stored ones (retention field by field); defaultPolicy is replaced as a whole'),
  })
  .partial()
  .refine((b) => Object.keys(b).length > 0, NOTHING_TO_CHANGE);

/** The caller's organisation: its name, time zone and session defaults. */
export function organisationRoutes(routes: RouteRegistry, ctx: HttpContext): void {
  const { organisations } = ctx.services;

  routes.define({
    method: 'get',
    path: '/organisation',
    summary: "The caller's organisation",
    tags: ['organisation'],
    access: 'authenticated',
    response: { status: 200, description: 'Name, time zone and settings', schema: OrganisationSchema },
    handler: ({ actor }) => organisations.get(actor),
  });

  routes.define({
    method: 'patch',
    path: '/organisation',
    summary: "Change the organisation's name, time zone or session defaults",
    description: 'Sessions opened afterwards use the new defaults; open ones keep theirs. Every change is audited.',
    tags: ['organisation'],
    access: ['admin'],
    body: PatchBody,
    response: { status: 200, description: 'The changed organisation', schema: OrganisationSchema },
    handler: ({ actor, body }) => organisations.update(actor, body),
  });
}

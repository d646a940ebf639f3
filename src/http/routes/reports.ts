import { z } from 'zod';
import { BUCKET_SIZES } from '../../domain/reports/buckets.js';
import {
  DEFAULT_RISK_THRESHOLD,
  MAX_AUDIT_EXPORT,
  MAX_MONTHS,
  type AuditQuery as AuditSelection,
} from '../../domain/reports/report-service.js';
import { AUDIT_ACTIONS } from '../../shared/audit.js';
import { RECORD_STATES, SESSION_STATES, STAFF_ROLES as STAFF } from '../../shared/events.js';
import { ExportLanguage } from '../attendance-export.js';
import { AUDIT_COLUMNS, auditCsv } from '../audit-export.js';
import type { RouteRegistry } from '../define-route.js';
import type { HttpContext } from '../http-context.js';
import { IdParams, PageQuery, pageOf, CalendarDay as Day } from '../schemas.js';
import { issueRule } from '../../shared/validation-issues.js';

const RangeQuery = z.object({
  from: Day.optional().describe('First day counted; absent: no lower bound'),
  to: Day.optional().describe('Last day counted; absent: no upper bound'),
});
const RiskQuery = RangeQuery.extend({
  threshold: z.coerce
    .number()
    .min(0)
    .max(100)
    .optional()
    .describe(
      `Percentage under which a subject or student is listed; absent: the organisation's settings.riskThreshold (default ${DEFAULT_RISK_THRESHOLD})`,
    ),
});
const Threshold = z.number().describe('The threshold applied, in percent');
const TrendQuery = z.object({
  from: Day,
  to: Day,
  bucket: z.enum(BUCKET_SIZES).default('day').describe('One point per day, per week (Monday to Sunday) or per calendar month'),
});

const Counts = {
  present: z.number().int(),
  late: z.number().int(),
  absent: z.number().int().describe('Absent, plus pending, rejected and not-yet records a close settled as absent'),
  excused: z.number().int(),
  total: z.number().int(),
  percentage: z.number().describe('(present + late) / (total - excused) * 100, one decimal; 0 when nobody was expected'),
};
const LastSeen = z.date().nullable().describe('Latest present or late check-in');

const StudentSubjectSchema = z
  .object({ subjectId: z.string(), subjectCode: z.string(), subjectName: z.string(), ...Counts, lastSeenAt: LastSeen })
  .describe("A student's attendance in one subject");
const SubjectStudentSchema = z
  .object({
    studentId: z.string(),
    name: z.string(),
    studentNumber: z.string().nullable(),
    enrolled: z.boolean().describe('False for a student with records who has since been unenrolled'),
    ...Counts,
    lastSeenAt: LastSeen,
  })
  .describe("One student's attendance in the subject");
const TrendSchema = z
  .object({ from: z.string(), to: z.string(), days: z.number().int().describe('Days with settled sessions'), ...Counts })
  .describe('One bucket of the trend');
const SubjectRiskSchema = z.object({ subjectId: z.string(), subjectCode: z.string(), subjectName: z.string(), ...Counts });
const WeekSchema = z.object({ from: z.string(), to: z.string(), ...Counts });
const DashboardSchema = z.object({
  today: z.string().describe("Today in the organisation's time zone"),
  sessionsToday: z.object({ ...Object.fromEntries(SESSION_STATES.map((s) => [s, z.number().int()])), total: z.number().int() }),
  live: z.object({
    openSessions: z.number().int(),
    checkins: z
      .object(Object.fromEntries(RECORD_STATES.map((s) => [s, z.number().int()])))
      .describe('Records of the open sessions by status'),
  }),
  thisWeek: WeekSchema.describe('Monday to today, settled sessions only'),
  lastWeek: WeekSchema,
});

/** Characters of every audit action once, comma-separated, with room for actions to come. */
const ACTION_LIST_MAX = 1_500;
const ENTITY_TYPES = ['record', 'session', 'user', 'subject', 'organisation', 'excuse'] as const;
const AuditSelector = z.object({
  entityType: z.enum(ENTITY_TYPES).optional().describe('With entityId: entries about this object'),
  entityId: z.string().min(1).max(100).optional(),
  sessionId: z.string().min(1).max(100).optional().describe("Every entry of a session (the session's and its records')"),
  actorId: z.string().min(1).max(100).optional().describe('Entries this user made (admins only)'),
});
/** Filters any selector takes; days are the organisation's, inclusive. */
const AuditFilters = z.object({
  action: z
    .string()
    // Every action once fits (1,207 characters); a repeated one counts once. In action names'
    // alphabet, so the longest value the document allows is as many bytes in the URL: 2,000
    // characters of anything took up to 24 KB percent-encoded, past the 16 KiB a request line and
    // headers may have (Node's maxHeaderSize), and a documented request got 431 unread.
    .max(ACTION_LIST_MAX)
    .regex(/^[A-Za-z.,-]*$/)
    .transform((s) => [...new Set(s.split(','))])
    .pipe(z.array(z.enum(AUDIT_ACTIONS)))
    .optional()
    .describe('Comma-separated action names of docs/reports.md; only entries of one of them'),
  from: Day.optional().describe("First day whose entries count, in the organisation's time zone"),
  to: Day.optional().describe('Last day whose entries count, inclusive'),
});
const RANGE_RULE = { ...issueRule('endBeforeStart', '`from` must not be after `to`'), path: ['from'] };
const rangeInOrder = (q: { from?: string | undefined; to?: string | undefined }) =>
  q.from === undefined || q.to === undefined || q.from <= q.to;
type Selector = z.infer<typeof AuditSelector>;
// None: the organisation's whole trail (admins only, ReportService.audit says who may).
const atMostOneSelector = (q: Selector) =>
  [q.entityType !== undefined && q.entityId !== undefined, q.sessionId !== undefined, q.actorId !== undefined].filter(Boolean).length <=
    1 && (q.entityType === undefined) === (q.entityId === undefined);
const SELECTOR_RULE = 'Give at most one of entityType with entityId, sessionId, or actorId';
const AuditQuery = AuditSelector.extend(AuditFilters.shape)
  .extend(PageQuery.shape)
  .refine(atMostOneSelector, SELECTOR_RULE)
  .refine(rangeInOrder, RANGE_RULE);
const AuditCsvQuery = AuditSelector.extend(AuditFilters.shape)
  .extend({
    lang: ExportLanguage.describe(
      'For a person: headings, what an entry is about and its action in this language, times as `YYYY-MM-DD HH:MM:SS` in the organisation’s zone, a byte order mark, and the separator its spreadsheets expect (`;` in French). Without it: the keys and codes as documented, unchanged.',
    ),
  })
  .refine(atMostOneSelector, SELECTOR_RULE)
  .refine(rangeInOrder, RANGE_RULE);

const AuditSchema = z.object({
  id: z.string(),
  entityType: z.enum(ENTITY_TYPES),
  entityId: z.string(),
  sessionId: z.string().nullable(),
  actorId: z.string().nullable(),
  action: z.string(),
  from: z.unknown().describe('The changed fields before'),
  to: z.unknown().describe('The changed fields after'),
  reason: z.string().nullable(),
  ip: z.string().nullable().describe("The actor's address; null for every entry a teacher reads (admins only)"),
  at: z.date(),
  // Names for reading, beside the ids: null when there is none to give, or the account is gone (erased).
  actorName: z.string().nullable().describe("The actor's name; null for the server, or an account since erased"),
  userName: z.string().nullable().describe("The person it is about: the user, the record's student or the excuse's student"),
  subjectCode: z.string().nullable().describe("The subject it is about: the subject, or its session's"),
  subjectName: z.string().nullable(),
  sessionStartsAt: z.date().nullable().describe("When its session (the entry's, or the record's) starts"),
});

const selectorOf = (q: Selector & z.infer<typeof AuditFilters>): AuditSelection => ({
  ...(q.entityType !== undefined ? { entityType: q.entityType } : {}),
  ...(q.entityId !== undefined ? { entityId: q.entityId } : {}),
  ...(q.sessionId !== undefined ? { sessionId: q.sessionId } : {}),
  ...(q.actorId !== undefined ? { actorId: q.actorId } : {}),
  ...(q.action !== undefined ? { actions: q.action } : {}),
  ...(q.from !== undefined ? { fromDay: q.from } : {}),
  ...(q.to !== undefined ? { toDay: q.to } : {}),
});

/** Reporting: per-student figures, trends, at-risk lists, the dashboard and the audit trail (docs/reports.md). */
export function reportRoutes(routes: RouteRegistry, ctx: HttpContext): void {
  const { reports } = ctx.services;
  routes.define({
    method: 'get',
    path: '/reports/students/:id',
    cost: 'heavy',
    summary: "A student's attendance per subject",
    description: 'A student reads their own; teachers the subjects they teach the student in; admins every subject.',
    tags: ['reports'],
    access: 'authenticated',
    params: IdParams,
    query: RangeQuery,
    response: { status: 200, description: 'One entry per subject, by code', schema: z.object({ items: z.array(StudentSubjectSchema) }) },
    errors: ['NOT_FOUND', 'NOT_SUBJECT_TEACHER'],
    handler: async ({ actor, params, query }) => ({ items: await reports.studentSubjects(actor, params.id, query) }),
  });

  routes.define({
    method: 'get',
    path: '/reports/subjects/:id/students',
    cost: 'heavy',
    summary: "Every student's attendance in a subject",
    tags: ['reports'],
    access: STAFF,
    params: IdParams,
    query: RangeQuery,
    response: { status: 200, description: 'One entry per student, by name', schema: z.object({ items: z.array(SubjectStudentSchema) }) },
    errors: ['NOT_FOUND', 'NOT_SUBJECT_TEACHER'],
    handler: async ({ actor, params, query }) => ({ items: await reports.subjectStudents(actor, params.id, query) }),
  });

  routes.define({
    method: 'get',
    path: '/reports/subjects/:id/trend',
    cost: 'heavy',
    summary: "A subject's attendance per day, week or month over a day range",
    description: 'Buckets without settled sessions are left out.',
    tags: ['reports'],
    access: STAFF,
    params: IdParams,
    query: TrendQuery,
    response: { status: 200, description: 'Buckets, oldest first', schema: z.object({ items: z.array(TrendSchema) }) },
    errors: ['NOT_FOUND', 'NOT_SUBJECT_TEACHER'],
    handler: async ({ actor, params, query }) => ({
      items: await reports.subjectTrend(actor, params.id, query.from, query.to, query.bucket),
    }),
  });

  routes.define({
    method: 'get',
    path: '/reports/at-risk/subjects',
    cost: 'heavy',
    summary: 'Subjects whose attendance is under a threshold',
    description: "Admins: the organisation's subjects; teachers: those they teach. Lowest first.",
    tags: ['reports'],
    access: STAFF,
    query: RiskQuery,
    response: {
      status: 200,
      description: 'Subjects under the threshold, and the threshold used',
      schema: z.object({ threshold: Threshold, items: z.array(SubjectRiskSchema) }),
    },
    handler: async ({ actor, query }) => {
      const threshold = await reports.riskThreshold(actor, query.threshold);
      return { threshold, items: await reports.riskSubjects(actor, threshold, query) };
    },
  });

  routes.define({
    method: 'get',
    path: '/reports/subjects/:id/at-risk',
    cost: 'heavy',
    summary: "A subject's students whose attendance is under a threshold",
    tags: ['reports'],
    access: STAFF,
    params: IdParams,
    query: RiskQuery,
    response: {
      status: 200,
      description: 'Students under the threshold, lowest first, and the threshold used',
      schema: z.object({ threshold: Threshold, items: z.array(SubjectStudentSchema) }),
    },
    errors: ['NOT_FOUND', 'NOT_SUBJECT_TEACHER'],
    handler: async ({ actor, params, query }) => {
      const threshold = await reports.riskThreshold(actor, query.threshold);
      return { threshold, items: await reports.riskStudents(actor, params.id, threshold, query) };
    },
  });

  routes.define({
    method: 'get',
    path: '/reports/dashboard',
    cost: 'heavy',
    summary: "The organisation's figures: today's sessions, live check-ins, this week against last",
    tags: ['reports'],
    access: ['admin'],
    response: { status: 200, description: 'Dashboard figures', schema: DashboardSchema },
    handler: ({ actor }) => reports.dashboard(actor),
  });

  routes.define({
    method: 'get',
    path: '/reports/months',
    cost: 'heavy',
    summary: "The organisation's attendance per calendar month, all subjects together",
    description: `Months of the range (at most ${MAX_MONTHS}); a month without settled sessions answers total 0.`,
    tags: ['reports'],
    access: ['admin'],
    query: z.object({ from: Day, to: Day }),
    response: { status: 200, description: 'Months, oldest first', schema: z.object({ items: z.array(WeekSchema) }) },
    handler: async ({ actor, query }) => ({ items: await reports.organisationMonths(actor, query.from, query.to) }),
  });

  routes.define({
    method: 'get',
    path: '/reports/audit',
    cost: 'heavy',
    summary: "Audit entries of a record, session, subject or user, or the organisation's, oldest first",
    description:
      "Without a selector: the organisation's whole trail (admins only). Admins read any; teachers those of their subjects' records, sessions and subjects.",
    tags: ['reports'],
    access: STAFF,
    query: AuditQuery,
    response: { status: 200, description: 'A page of audit entries', schema: pageOf(AuditSchema) },
    errors: ['NOT_FOUND', 'NOT_SUBJECT_TEACHER', 'SESSION_NOT_FOUND', 'RECORD_NOT_FOUND'],
    handler: async ({ actor, query }) => ({
      ...(await reports.audit(actor, selectorOf(query), { limit: query.limit, offset: query.offset })),
      limit: query.limit,
      offset: query.offset,
    }),
  });

  routes.define({
    method: 'get',
    path: '/reports/audit.csv',
    cost: 'heavy',
    summary: `Audit entries as CSV (at most ${MAX_AUDIT_EXPORT}), oldest first`,
    tags: ['reports'],
    access: STAFF,
    query: AuditCsvQuery,
    response: {
      status: 200,
      description: `CSV with columns ${AUDIT_COLUMNS.join(', ')}; times in the organisation's zone`,
      contentType: 'text/csv',
    },
    errors: ['NOT_FOUND', 'NOT_SUBJECT_TEACHER', 'SESSION_NOT_FOUND', 'RECORD_NOT_FOUND'],
    handler: async ({ actor, query, res }) => {
      const page = await reports.audit(actor, selectorOf(query), { limit: MAX_AUDIT_EXPORT, offset: 0 });
      const zone = await reports.timeZone(actor.orgId);
      res.attachment('audit.csv');
      return auditCsv(page.items, zone, query.lang);
    },
  });
}

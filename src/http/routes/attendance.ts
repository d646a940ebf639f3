import { z } from 'zod';
import { LocationSchema } from '../../domain/subjects/subject-input.js';
import { codedPattern } from '../../shared/coded-pattern.js';
import type { RouteRegistry } from '../define-route.js';
import type { HttpContext } from '../http-context.js';
import { EXPORT_COLUMNS, ExportLanguage, exportCsv, exportCsvStream } from '../attendance-export.js';
import {
  MARK_STATUSES,
  RECORD_STATES,
  ROSTER_STATUSES,
  SESSION_STATES,
  STAFF_ROLES as STAFF,
  VERIFICATION_BANDS,
  VERIFICATION_STATES,
} from '../../shared/events.js';
import { PolicyViewSchema } from '../../shared/policy.js';
import { AbsenceCategoryCode } from '../../domain/excuses/absence-categories.js';
import { IdParams, PageQuery, pageOf, CalendarDay as Day } from '../schemas.js';

const Iso = z.string().describe('ISO 8601 time');

export const SessionViewSchema = z
  .object({
    id: z.string(),
    subjectId: z.string(),
    subjectCode: z.string(),
    subjectName: z.string(),
    teacherId: z.string(),
    status: z.enum(SESSION_STATES),
    policy: PolicyViewSchema,
    startsAt: Iso,
    lateAfter: Iso,
    closesAt: Iso,
    closedAt: Iso.nullable(),
    day: z.string(),
    room: z
      .object({
        location: LocationSchema.nullable().describe("Geofence centre and radius; null: the subject's classroom location"),
        allowedIpRanges: z.array(z.string()).describe("The room's networks; empty: the subject's"),
      })
      .nullable()
      .describe("Where it is held when not in the subject's classroom (a meeting's room, or given at opening); null: the classroom"),
  })
  .describe('An attendance session');

export const RosterEntrySchema = z
  .object({
    studentId: z.string(),
    name: z.string(),
    studentNumber: z.string().nullable(),
    status: z.enum(ROSTER_STATUSES),
    reason: z.string().nullable(),
    flags: z.array(z.string()),
    distanceM: z.number().nullable(),
    accuracyM: z.number().nullable(),
    attempts: z.number().int(),
    submittedAt: Iso.nullable(),
    decidedAt: Iso.nullable(),
    decidedBy: z.string().nullable(),
    note: z.string().nullable(),
    correctionReason: z.string().nullable(),
    absenceCategory: z.string().nullable().describe('Absence category code of an excused record (docs/absences.md)'),
    recordId: z.string().nullable(),
    recordVersion: z.number().int(),
    verification: z
      .object({
        state: z.enum(VERIFICATION_STATES),
        band: z.enum(VERIFICATION_BANDS).nullable(),
        flags: z.array(z.string()),
      })
      .nullable(),
  })
  .describe("A student's attendance in one session");

const SummarySchema = z.object({
  subjectId: z.string(),
  day: z.string(),
  present: z.number().int(),
  late: z.number().int(),
  absent: z.number().int(),
  excused: z.number().int(),
  total: z.number().int(),
  percentage: z.number().describe('(present + late) / (total - excused) * 100, one decimal'),
  updatedAt: z.date(),
});

const HistorySchema = z.object({
  sessionId: z.string(),
  subjectId: z.string(),
  subjectCode: z.string(),
  subjectName: z.string(),
  day: z.string(),
  startsAt: z.string(),
  status: z.enum(RECORD_STATES),
  sessionStatus: z
    .enum(SESSION_STATES)
    .nullable()
    .describe("The session's state: a cancelled session is void and counts in no figure, whatever status says"),
  reason: z.string().nullable(),
  submittedAt: Iso.nullable(),
  decidedAt: Iso.nullable(),
  note: z.string().nullable(),
});

/** Characters of the session list's status filter: every status once, with room to repeat some. */
const STATUS_LIST_MAX = 100;
export const SessionListQuery = PageQuery.extend({
  // The pattern puts the list's rule in the document too (the pipe below is not exported to it).
  status: codedPattern(
    // Every status once is 39 characters; without a bound the document allowed a request line
    // past the 16 KiB Node reads (431 unread).
    z.string().max(STATUS_LIST_MAX),
    new RegExp(`^(${SESSION_STATES.join('|')})(,(${SESSION_STATES.join('|')}))*$`),
    'notOneOf',
    'comma-separated session statuses',
    { values: SESSION_STATES.join(', ') },
  )
    .transform((s) => s.split(','))
    .pipe(z.array(z.enum(SESSION_STATES)))
    .optional()
    .describe('Comma-separated statuses'),
  from: Day.optional(),
  to: Day.optional(),
});
const RangeQuery = z.object({ from: Day, to: Day });
const RecordParams = IdParams.extend({ studentId: z.string().min(1).max(100).describe("The student's user id") });
const CorrectionBody = z.object({
  status: z.enum(MARK_STATUSES),
  reason: z.string().trim().min(1).max(500).describe("Why: kept in the audit trail and, after closing, as the record's correctionReason"),
  absenceCategory: AbsenceCategoryCode.optional().describe('With status excused only: an absence category code of the organisation'),
  note: z.string().trim().max(500).optional().describe("Replaces the record's note"),
  expectedVersion: z
    .number()
    .int()
    .min(0)
    .max(2_147_483_647)
    .optional()
    .describe("The roster entry's recordVersion the change was decided on; another answers RECORD_CHANGED"),
});
const ExportQuery = z.object({ lang: ExportLanguage });
const RangeExportQuery = RangeQuery.extend({ lang: ExportLanguage });

/** Session history, records, a student's own history, daily summaries and CSV exports. */
export function attendanceRoutes(routes: RouteRegistry, ctx: HttpContext): void {
  const { queries } = ctx.services;
  const { checkins } = ctx.services.attendance;
  routes.define({
    method: 'get',
    path: '/subjects/:id/sessions',
    summary: "A subject's sessions, newest first",
    tags: ['attendance'],
    access: STAFF,
    params: IdParams,
    query: SessionListQuery,
    response: { status: 200, description: 'A page of sessions', schema: pageOf(SessionViewSchema) },
    errors: ['NOT_SUBJECT_TEACHER'],
    handler: async ({ actor, params, query }) => ({
      ...(await queries.sessionsOfSubject(actor, params.id, query)),
      limit: query.limit,
      offset: query.offset,
    }),
  });

  routes.define({
    method: 'get',
    path: '/sessions/:id/records',
    cost: 'heavy',
    summary: "A session's records (with not-yet students while open)",
    tags: ['attendance'],
    access: STAFF,
    params: IdParams,
    response: {
      status: 200,
      description: 'The session and its records',
      schema: z.object({ session: SessionViewSchema, entries: z.array(RosterEntrySchema) }),
    },
    errors: ['SESSION_NOT_FOUND', 'NOT_SUBJECT_TEACHER'],
    handler: ({ actor, params }) => queries.sessionRecords(actor, params.id),
  });

  routes.define({
    method: 'post',
    path: '/sessions/:id/records/:studentId/correction',
    summary: "Set a student's status in a session by hand (a correction once it is closed)",
    description:
      "What the teacher console's checkin:mark does, with the same rules: a teacher of the session's subject or an admin; " +
      'while the session is open a mark (reason MARKED_BY_TEACHER), once closed a correction (reason CORRECTED_BY_TEACHER, ' +
      'the daily summary recomputed). Audited (record.mark or record.correct, the reason kept), sent to the roster watchers ' +
      'on every node and as a record.created or record.changed webhook. A closing session answers RECORD_CHANGED: retry.',
    tags: ['attendance'],
    access: STAFF,
    params: RecordParams,
    body: CorrectionBody,
    response: { status: 200, description: "The student's roster entry as changed", schema: RosterEntrySchema },
    errors: [
      'SESSION_NOT_FOUND',
      'NOT_SUBJECT_TEACHER',
      'NOT_ENROLLED',
      'SESSION_CANCELLED',
      'RECORD_CHANGED',
      'ABSENCE_CATEGORY_UNKNOWN',
      'ACCOUNT_DISABLED',
    ],
    handler: ({ actor, params, body }) =>
      checkins.mark(actor, { ...body, sessionId: params.id, studentId: params.studentId, ip: actor.ip ?? null }),
  });

  routes.define({
    method: 'get',
    path: '/sessions/:id/records.csv',
    cost: 'heavy',
    summary: "A session's records as CSV",
    tags: ['attendance'],
    access: STAFF,
    params: IdParams,
    query: ExportQuery,
    response: { status: 200, description: `CSV with columns ${EXPORT_COLUMNS.join(', ')}`, contentType: 'text/csv' },
    errors: ['SESSION_NOT_FOUND', 'NOT_SUBJECT_TEACHER'],
    handler: async ({ actor, params, query, res }) => {
      const rows = await queries.exportSession(actor, params.id);
      res.attachment(`session-${params.id}.csv`);
      return exportCsv(rows, query.lang);
    },
  });

  routes.define({
    method: 'get',
    path: '/subjects/:id/summaries',
    cost: 'heavy',
    summary: "A subject's daily summaries over a day range",
    tags: ['attendance'],
    access: STAFF,
    params: IdParams,
    query: RangeQuery,
    response: { status: 200, description: 'Summaries, oldest first', schema: z.object({ items: z.array(SummarySchema) }) },
    errors: ['NOT_SUBJECT_TEACHER'],
    handler: async ({ actor, params, query }) => ({ items: await queries.summaries(actor, params.id, query.from, query.to) }),
  });

  routes.define({
    method: 'get',
    path: '/subjects/:id/attendance.csv',
    cost: 'heavy',
    summary: "Every record of a subject's sessions over a day range, as CSV",
    tags: ['attendance'],
    access: STAFF,
    params: IdParams,
    query: RangeExportQuery,
    response: { status: 200, description: `CSV with columns ${EXPORT_COLUMNS.join(', ')}`, contentType: 'text/csv' },
    errors: ['NOT_SUBJECT_TEACHER'],
    handler: async ({ actor, params, query, res }) => {
      const rows = await queries.exportSubject(actor, params.id, query.from, query.to);
      res.attachment(`attendance-${params.id}-${query.from}-${query.to}.csv`);
      return exportCsv(rows, query.lang);
    },
  });

  routes.define({
    method: 'get',
    path: '/attendance.csv',
    cost: 'heavy',
    summary: "Every record of the organisation's sessions over a day range, as CSV (streamed)",
    tags: ['attendance'],
    access: ['admin'],
    query: RangeExportQuery,
    response: { status: 200, description: `CSV with columns ${EXPORT_COLUMNS.join(', ')}, oldest session first`, contentType: 'text/csv' },
    errors: ['FORBIDDEN'],
    handler: async ({ actor, query, res }) => {
      const chunks = await queries.exportOrganisation(actor, query.from, query.to);
      res.attachment(`attendance-${query.from}-${query.to}.csv`);
      return exportCsvStream(chunks, query.lang);
    },
  });

  routes.define({
    method: 'get',
    path: '/me/attendance',
    summary: "The calling student's own attendance history, newest session first",
    description:
      "Ordered by the session's start, newest first, not by when a record was written: a teacher's later mark or correction of an old session leaves it in its place. Sessions starting at the same moment are ordered by record id (newest first), so pages neither repeat nor skip an entry.",
    tags: ['attendance'],
    access: ['student'],
    query: PageQuery,
    response: { status: 200, description: 'A page of history entries', schema: pageOf(HistorySchema) },
    handler: async ({ actor, query }) => ({ ...(await queries.myHistory(actor, query)), limit: query.limit, offset: query.offset }),
  });
}

import { z } from 'zod';
import { POLICY_PRESETS } from '../../shared/policy-presets.js';
import { DefaultPolicySchema } from '../../shared/policy.js';
import { SETTING_LIMITS } from '../../domain/organisations/organisation-service.js';
import { TIMETABLE_OPEN_MODES, type TeacherSettings } from '../../domain/ports/timetable.js';
import { MAX_UPCOMING_DAYS } from '../../domain/timetable/timetable-service.js';
import { codedPattern } from '../../shared/coded-pattern.js';
import type { RouteRegistry } from '../define-route.js';
import type { HttpContext } from '../http-context.js';
import { CsvImportBody, CsvImportQuery, IdParams, RowProblemSchema, CalendarDay as Day } from '../schemas.js';
import { MAX_MEETING_IMPORT_ROWS } from '../../domain/timetable/meeting-import.js';
import { AllowedIpRangesSchema, LocationSchema } from '../../domain/subjects/subject-input.js';
import { SessionViewSchema } from './attendance.js';

export const TimeOfDay = codedPattern(z.string(), /^([01]\d|2[0-3]):[0-5]\d$/, 'time', "Expected a time 'HH:MM'.").describe(
  "Wall-clock time 'HH:MM' in the organisation's time zone",
);
const Name = z.string().trim().min(1).max(200);

const DayRangeBody = z.object({ name: Name, startDay: Day, endDay: Day.describe('Inclusive') });
const DayRangeSchema = z.object({
  id: z.string(),
  orgId: z.string(),
  name: z.string(),
  startDay: z.string(),
  endDay: z.string(),
  createdAt: z.date(),
});

const MeetingFields = {
  weekday: z.number().int().min(1).max(7).describe('ISO weekday: 1 = Monday ... 7 = Sunday'),
  startTime: TimeOfDay,
  endTime: TimeOfDay,
  teacherId: z
    .string()
    .min(1)
    .max(100)
    .nullish()
    .describe(
      "Whose sessions they are while they teach the subject; null or left out (or once they no longer teach it): the subject's first teacher",
    ),
  preset: z.enum(POLICY_PRESETS).nullish().describe("The checks of its sessions; null or left out: the organisation's defaults"),
  location: LocationSchema.nullish().describe(
    "The room's geofence when it is not the subject's classroom; null or left out: the subject's",
  ),
  allowedIpRanges: AllowedIpRangesSchema.optional().describe("The room's networks; empty or left out: the subject's"),
};
const TeacherOverlap = z
  .boolean()
  .optional()
  .describe(
    "true: keep the meeting (and move its sessions) even where its teacher has another subject's meeting or session at that time (refused TEACHER_DOUBLE_BOOKED otherwise)",
  );
const MeetingBody = z.object({ termId: z.string().min(1).max(100), ...MeetingFields, teacherOverlap: TeacherOverlap });
/** A field left out keeps its value; null unsets the teacher, the preset or the location, [] the networks. */
const MeetingPatchBody = z
  .strictObject(MeetingFields)
  .partial()
  .extend({
    parallel: z
      .boolean()
      .optional()
      .describe("true: move the meeting's sessions even onto other sessions of the subject (refused SESSION_ALREADY_OPEN otherwise)"),
    teacherOverlap: TeacherOverlap,
  })
  .describe('The fields to change; the term stays');
const MeetingSchema = z
  .object({
    id: z.string(),
    orgId: z.string(),
    subjectId: z.string(),
    termId: z.string(),
    weekday: z.number().int(),
    startTime: z.string(),
    endTime: z.string(),
    teacherId: z.string().nullable(),
    preset: z.enum(POLICY_PRESETS).nullable(),
    location: LocationSchema.nullable().describe("null: the subject's classroom location"),
    allowedIpRanges: z.array(z.string()).describe("Empty: the subject's networks"),
    revision: z.number().int().describe('How many edits of it have completed: 0 when added, +1 with each edit that changed it'),
    createdAt: z.date(),
  })
  .describe('A weekly meeting of a subject within a term');

const MeetingUpdateSchema = z
  .object({
    meeting: MeetingSchema,
    rescheduled: z.array(z.string()).describe('Its sessions not yet open that follow the change'),
    cancelled: z
      .array(z.string())
      .describe(
        'Its sessions not yet open that were cancelled: the weekday changed (the timetable run creates the new days), or the change cannot be held that day',
      ),
    abandoned: z
      .object({ rescheduled: z.array(z.string()), cancelled: z.array(z.string()) })
      .describe(
        'Sessions that another edit of the meeting as it stood moved (and this one left as they were) or cancelled, before that edit was refused and given up: cancelled ones stay cancelled. Also in the `meeting.update` audit entry (`to.abandoned`) when not empty',
      ),
  })
  .describe('The edited meeting and what became of its scheduled sessions');

const UpcomingSchema = z
  .object({
    meetingId: z.string().describe('The weekly meeting this is one day of'),
    day: z.string().describe("The day, YYYY-MM-DD, in the organisation's time zone"),
    startsAt: z.string().describe("The meeting's start that day, an ISO 8601 instant (UTC)"),
    closesAt: z.string().describe("The meeting's end that day, an ISO 8601 instant (UTC): its session closes then"),
    teacherId: z.string().nullable().describe("The meeting's own teacher; null: the subject's first teacher's"),
    preset: z.enum(POLICY_PRESETS).nullable().describe("The meeting's policy preset; null: the teacher's and the organisation's defaults"),
    state: z
      .enum(['planned', 'created', 'cancelled'])
      .describe('planned: no session yet; created: sessionId is its session; cancelled: called off'),
    sessionId: z
      .string()
      .nullable()
      .describe('The session made for it (created), or the one cancelled with it (cancelled, when one had been made); null while planned'),
  })
  .describe('One dated meeting of the timetable');

const limited = (l: { min: number; max: number }) => z.number().int().min(l.min).max(l.max);

const TeacherPolicySchema = DefaultPolicySchema.extend({
  preset: z.enum(POLICY_PRESETS).optional().describe('Stands for all four checks; a check given beside it overrides it'),
  maxAttempts: limited(SETTING_LIMITS.maxAttempts).optional(),
}).describe("Checks of the teacher's sessions that name none; a field left out falls back to the organisation's defaultPolicy");

const SettingsSchema = z.object({
  timetableOpen: z
    .enum(TIMETABLE_OPEN_MODES)
    .describe("auto: timetable sessions are created ahead and open at their time; tap: they wait for the teacher's one tap"),
  defaultPolicy: TeacherPolicySchema,
  lateGraceMinutes: limited(SETTING_LIMITS.lateGraceMinutes)
    .nullable()
    .describe("Minutes after the start before check-ins are late; null: the organisation's setting"),
  codePeriodS: limited(SETTING_LIMITS.codePeriodS).nullable().describe("Rotating-code period; null: the organisation's setting"),
});

/** A field left out keeps its value; null unsets a number; defaultPolicy replaces the whole policy ({} unsets it). */
const SettingsBody = SettingsSchema.partial();

const settingsView = (s: TeacherSettings) => ({
  timetableOpen: s.timetableOpen,
  defaultPolicy: s.defaultPolicy,
  lateGraceMinutes: s.lateGraceMinutes,
  codePeriodS: s.codePeriodS,
});

const DayBody = z.object({ day: Day });
const UpcomingQuery = z.object({ days: z.coerce.number().int().min(1).max(MAX_UPCOMING_DAYS).default(7) });

const STAFF = ['admin', 'teacher'] as const;
const MeetingImportRow = z.object({
  line: z.number().int().describe('The row in the file (the header is line 1)'),
  subjectCode: z.string().nullable(),
  reason: z.string(),
  problems: z.array(RowProblemSchema),
});
const MeetingImportResult = z.object({
  added: z.number().int().describe('Meetings added (0 on a dry run)'),
  toAdd: z.number().int().describe('Rows that add a meeting (a dry run: would), the skipped ones not counted'),
  checked: z.number().int().describe('Rows found fine: all of them (nothing is written otherwise)'),
  doubleBooked: z.number().int().describe('Rows in `warnings`'),
  meetings: z.array(MeetingSchema),
  skipped: z
    .array(MeetingImportRow)
    .describe(
      'Rows the same as a meeting the subject already has (problem meetingExists): not added again, so a file sent twice adds nothing twice',
    ),
  warnings: z
    .array(MeetingImportRow)
    .describe(
      "Rows whose teacher has another subject's meeting at that time (problem teacherDoubleBooked, with the count; on a dry run also an earlier row of the file): added all the same",
    ),
  refused: z
    .array(MeetingImportRow)
    .describe(
      'Rows not added because another admin changed something between the check and the write (problem refused with the coded error: the subject archived, the term deleted, the teacher taken off the subject); the others are added',
    ),
});

const SUBJECT_ERRORS = ['NOT_SUBJECT_TEACHER' as const, 'NOT_FOUND' as const];

/** Terms, holidays, subjects' weekly meetings and the sessions they become (docs/timetable.md). */
export function timetableRoutes(routes: RouteRegistry, ctx: HttpContext): void {
  const { timetable, meetingImport } = ctx.services;
  {
    routes.define({
      method: 'get',
      path: '/timetable/calendar',
      summary: "The organisation's terms and holidays",
      tags: ['timetable'],
      access: STAFF,
      response: {
        status: 200,
        description: 'Terms and holidays, by start day',
        schema: z.object({ terms: z.array(DayRangeSchema), holidays: z.array(DayRangeSchema) }),
      },
      handler: ({ actor }) => timetable.calendar(actor),
    });

    for (const kind of ['terms', 'holidays'] as const) {
      const create = kind === 'terms' ? timetable.createTerm.bind(timetable) : timetable.createHoliday.bind(timetable);
      const remove = kind === 'terms' ? timetable.deleteTerm.bind(timetable) : timetable.deleteHoliday.bind(timetable);
      routes.define({
        method: 'post',
        path: `/timetable/${kind}`,
        summary: kind === 'terms' ? 'Add a term' : 'Add a holiday or closure (one day or a range)',
        tags: ['timetable'],
        access: ['admin'],
        body: DayRangeBody,
        response: { status: 201, description: 'Created', schema: DayRangeSchema },
        handler: ({ actor, body }) => create(actor, body),
      });
      routes.define({
        method: 'delete',
        path: `/timetable/${kind}/:id`,
        summary: kind === 'terms' ? 'Delete a term and its meetings' : 'Delete a holiday',
        description:
          'Sessions already created stay as they are. Its dated occurrences (claimed, created, called off) are deleted with it: imported or added again, it is a new meeting whose sessions the timetable run creates.',
        tags: ['timetable'],
        access: ['admin'],
        params: IdParams,
        response: { status: 204, description: 'Deleted' },
        errors: ['NOT_FOUND'],
        handler: ({ actor, params }) => remove(actor, params.id),
      });
    }

    routes.define({
      method: 'post',
      path: '/timetable/meetings/import',
      cost: 'heavy',
      summary: 'Import weekly meetings from CSV',
      description:
        'Columns: subject_code,term,weekday,start,end (the subject by its code, the term by its name, weekday 1 = Monday to 7 or a day name, times HH:MM) ' +
        "and optionally teacher_email (one of the subject's teachers; empty: its first), preset, latitude,longitude,radius_m and allowed_networks (the room; empty: the subject's classroom). " +
        `At most ${MAX_MEETING_IMPORT_ROWS} rows a request. Checked whole first: when any row is bad (no such subject or term, a bad time, a teacher not of the subject, a preset the room cannot run), ` +
        'nothing is written and the 400 answer lists the first 100 bad rows in `details.rows` as { line, subjectCode, reason, problems }, with `details.rowsInvalid`, ' +
        '`details.problemCounts` and `details.lines`, as the subjects import does. Each meeting is then added as `POST /subjects/{id}/meetings` adds one (its checks, ' +
        "under the teacher's lease, audited `meeting.create`). A row the same as a meeting the subject already has is skipped (`skipped`); a teacher double-booked " +
        "(another subject's meeting at that time) is a warning on the row (`warnings`), the meeting added as with `teacherOverlap: true`. With `dryRun=true` nothing is written. " +
        'The store keeps a meeting once: the same file sent twice at once (a double click, a retry after a timeout, two admins, on any node) adds each meeting once, ' +
        "a row the other request stored first being skipped (`meetingExists`) by this one's write: each answer's `added` plus its `skipped` is the file's rows.",
      tags: ['timetable'],
      access: ['admin'],
      query: CsvImportQuery,
      body: CsvImportBody,
      textBody: { contentType: 'text/csv', field: 'csv' },
      response: {
        status: 201,
        description: 'The meetings were added (those not skipped)',
        schema: MeetingImportResult,
        also: [{ status: 200, description: 'Dry run: every row is fine and nothing was written (`added` 0)' }],
      },
      handler: async ({ actor, query, body, setStatus }) => {
        const result = await meetingImport.run(actor, body.csv, { dryRun: query.dryRun === true });
        if (query.dryRun) setStatus(200);
        return result;
      },
    });

    routes.define({
      method: 'get',
      path: '/subjects/:id/meetings',
      summary: "A subject's weekly meetings",
      tags: ['timetable'],
      access: STAFF,
      params: IdParams,
      response: { status: 200, description: 'By weekday, then start time', schema: z.array(MeetingSchema) },
      errors: SUBJECT_ERRORS,
      handler: ({ actor, params }) => timetable.meetings(actor, params.id),
    });

    routes.define({
      method: 'post',
      path: '/subjects/:id/meetings',
      summary: 'Add a weekly meeting to a subject',
      description:
        "A meeting whose teacher (its own, else the subject's first) already has another subject's meeting on that weekday at an overlapping time, in an overlapping term, is refused (409 TEACHER_DOUBLE_BOOKED, `details.meetingIds`; a meeting of a subject the caller does not teach is only counted, `details.withheld`), unless `teacherOverlap: true`. " +
        "The check and the write are one step against the teacher's other meeting changes and opens on any node (of two racing adds one is stored, the other refused); one that waits too long for another answers 409 CONFLICT (retry). " +
        'A meeting equal in every field (term, weekday, times, teacher, preset, room) to one the subject already has is refused, nothing written: 409 CONFLICT with `details.existingMeetingId` (of two equal adds at once, on any node, one is stored).',
      tags: ['timetable'],
      access: STAFF,
      params: IdParams,
      body: MeetingBody,
      response: { status: 201, description: 'Created', schema: MeetingSchema },
      errors: [
        ...SUBJECT_ERRORS,
        'POLICY_UNSUPPORTED',
        'SUBJECT_LOCATION_MISSING',
        'SUBJECT_NETWORK_MISSING',
        'TEACHER_DOUBLE_BOOKED',
        'SUBJECT_ARCHIVED',
        'CONFLICT',
      ],
      handler: ({ actor, params, body }) => timetable.createMeeting(actor, params.id, body),
    });

    routes.define({
      method: 'patch',
      path: '/meetings/:id',
      summary: 'Edit a weekly meeting',
      description:
        "Changes its weekday, times, teacher, preset or room. Its sessions already created and not yet open follow the change; when the weekday changes they are cancelled and the timetable run creates the new days' sessions. Sessions already open keep what they opened with. " +
        'A session moved onto another scheduled or open session of the subject refuses the whole edit (409 SESSION_ALREADY_OPEN, `details.clashes` naming each: day, the moved session, the one in the way), unless `parallel: true`. ' +
        "A new time or teacher that double-books the teacher (another subject's meeting, or a session they hold in another subject, at that time) refuses it too (409 TEACHER_DOUBLE_BOOKED, `details.meetingIds` or `details.clashes`; one of a subject the caller does not teach is only counted, `details.withheld`), unless `teacherOverlap: true`. " +
        'The check and the moves are one step against opens and edits on any node; one that waits too long for another answers 409 CONFLICT (retry). ' +
        "An edit that would make the meeting equal in every field to another of the subject's is refused before anything moves: 409 CONFLICT with `details.existingMeetingId`. " +
        'A refusal that comes after some sessions already followed the edit (a node paused past its locks, then refused on running it again) says so in `details.partlyApplied` (`{ rescheduled, cancelled }`, session ids, and `rescheduledDays`, `cancelledDays`, their days): the meeting is unchanged until the edit is sent again, as the refusal asks, which finishes it. ' +
        'The answer lists every session the edit cancelled, also those an interrupted earlier run or request of the same edit cancelled; `abandoned` names what a different edit, refused and not sent again, left moved or cancelled, and a refusal of any edit names it too (`details.abandoned`).',
      tags: ['timetable'],
      access: STAFF,
      params: IdParams,
      body: MeetingPatchBody,
      response: { status: 200, description: 'The meeting and its followed sessions', schema: MeetingUpdateSchema },
      errors: [
        ...SUBJECT_ERRORS,
        'POLICY_UNSUPPORTED',
        'SUBJECT_LOCATION_MISSING',
        'SUBJECT_NETWORK_MISSING',
        'SESSION_ALREADY_OPEN',
        'TEACHER_DOUBLE_BOOKED',
        'CONFLICT',
      ],
      handler: ({ actor, params, body }) => timetable.updateMeeting(actor, params.id, body),
    });

    routes.define({
      method: 'delete',
      path: '/meetings/:id',
      summary: 'Delete a weekly meeting',
      description: 'Sessions already created stay as they are.',
      tags: ['timetable'],
      access: STAFF,
      params: IdParams,
      response: { status: 204, description: 'Deleted' },
      errors: SUBJECT_ERRORS,
      handler: ({ actor, params }) => timetable.deleteMeeting(actor, params.id),
    });

    routes.define({
      method: 'post',
      path: '/meetings/:id/cancel',
      summary: 'Call off one dated meeting',
      description: 'No session is created for it; a session already created for it is cancelled.',
      tags: ['timetable'],
      access: STAFF,
      params: IdParams,
      body: DayBody,
      response: { status: 200, description: 'The called-off meeting', schema: UpcomingSchema },
      errors: [...SUBJECT_ERRORS, 'SESSION_CLOSED'],
      handler: ({ actor, params, body }) => timetable.cancelOccurrence(actor, params.id, body.day),
    });

    routes.define({
      method: 'post',
      path: '/meetings/:id/start',
      summary: "Start a dated meeting's session (the one tap)",
      description:
        "Creates the session of the meeting on that day: open now, or scheduled for its start when tapped ahead. Tapping again answers the same session. The session is the meeting's teacher's (else the subject's first teacher's), whoever of the staff taps, as the timetable run would make it.",
      tags: ['timetable'],
      access: STAFF,
      params: IdParams,
      body: DayBody,
      response: { status: 200, description: 'The session', schema: SessionViewSchema },
      errors: [...SUBJECT_ERRORS, 'SESSION_CLOSED', 'SESSION_CANCELLED', 'SESSION_ALREADY_OPEN', 'SUBJECT_ARCHIVED', 'CONFLICT'],
      handler: ({ actor, params, body }) => timetable.start(actor, params.id, body.day),
    });

    routes.define({
      method: 'get',
      path: '/subjects/:id/upcoming',
      summary: "A subject's dated meetings over the next days, from the timetable",
      tags: ['timetable'],
      access: STAFF,
      params: IdParams,
      query: UpcomingQuery,
      response: { status: 200, description: 'By start', schema: z.array(UpcomingSchema) },
      errors: SUBJECT_ERRORS,
      handler: ({ actor, params, query }) => timetable.upcoming(actor, params.id, query.days),
    });

    routes.define({
      method: 'get',
      path: '/timetable/settings',
      summary: "The caller's timetable settings",
      tags: ['timetable'],
      access: STAFF,
      response: { status: 200, description: 'Settings', schema: SettingsSchema },
      handler: async ({ actor }) => settingsView(await timetable.settings(actor)),
    });

    routes.define({
      method: 'put',
      path: '/timetable/settings',
      summary: "Change the caller's timetable settings and session defaults",
      tags: ['timetable'],
      access: STAFF,
      body: SettingsBody,
      response: { status: 200, description: 'Settings', schema: SettingsSchema },
      handler: async ({ actor, body }) => settingsView(await timetable.updateSettings(actor, body)),
    });
  }
}

import { z } from 'zod';
import { normalizeIp, rangeOfAddress } from '../../domain/checks/network.js';
import { AllowedIpRangesSchema, LocationSchema, SubjectCodeSchema, SubjectNameSchema } from '../../domain/subjects/subject-input.js';
import type { RouteRegistry } from '../define-route.js';
import type { HttpContext } from '../http-context.js';
import { ARCHIVE_SUBJECTS_MAX } from '../../domain/subjects/subject-archive.js';
import { ROLLOVER_OUTCOMES, ROLLOVER_PROBLEMS, ROLLOVER_SUBJECTS_MAX, ROLLOVER_TERMS_MAX } from '../../domain/subjects/subject-rollover.js';
import {
  CsvImportBody,
  CsvImportQuery,
  BooleanQuery,
  IdParams,
  PageQuery,
  PublicUserSchema,
  RowProblemSchema,
  SubjectSchema,
  pageOf,
  NOTHING_TO_CHANGE,
} from '../schemas.js';
import { MAX_ROW_STUDENTS, MAX_SUBJECT_IMPORT_ROWS } from '../../domain/subjects/subject-import.js';
import { STAFF_ROLES as STAFF } from '../../shared/events.js';

const Ids = z.array(z.string().min(1).max(100)).max(1_000);

const ListQuery = PageQuery.extend({
  q: z.string().trim().min(1).max(200).optional().describe('Substring of code or name'),
  teacherId: z.string().min(1).max(100).optional().describe('Admins only: subjects of this teacher'),
  archived: BooleanQuery.optional().describe('true: only archived subjects; absent or false: only those in use'),
});

const SubjectIdsBody = z.object({ subjectIds: z.array(z.string().min(1).max(100)).min(1).max(ARCHIVE_SUBJECTS_MAX) });
const ArchiveResult = z.object({
  changed: z.array(SubjectSchema).describe('The subjects this request changed, by code'),
  unchangedIds: z.array(z.string()).describe('Listed subjects already so, left as they were'),
});

const CodePart = z.string().max(32);
const RolloverBody = z.object({
  subjectIds: z.array(z.string().min(1).max(100)).min(1).max(ROLLOVER_SUBJECTS_MAX),
  codes: z
    .object({
      prefix: CodePart.optional(),
      suffix: CodePart.optional(),
      replace: z.object({ from: CodePart.min(1), to: CodePart }).optional(),
    })
    .describe("How next year's code is made from this year's: `replace` (every occurrence) first, then `prefix` and `suffix`"),
  previousSuffix: CodePart.min(1)
    .optional()
    .describe("Renames each source (archived ones only) to its code with this suffix, so next year's takes last year's code back"),
  carryStudents: z.boolean().describe("Enrol the source's students still active in next year's subject"),
  terms: z
    .array(z.object({ from: z.string().min(1).max(100), to: z.string().min(1).max(100) }))
    .max(ROLLOVER_TERMS_MAX)
    .optional()
    .describe("Copy the source's weekly meetings of each `from` term into the `to` term; meetings of other terms are not copied"),
});
const RolloverRowSchema = z.object({
  subjectId: z.string(),
  code: z.string().describe("The source's code as found"),
  newCode: z.string().nullable(),
  outcome: z
    .enum(ROLLOVER_OUTCOMES)
    .describe(
      'new: created (a dry run: would be); exists: a subject in use has the new code already, nothing done; ' +
        'finished: that subject is an earlier roll-over of this one cut short, and this run enrolled the students and copied the meetings it lacked ' +
        '(a dry run: would), counted in students and meetings; refused: see problem',
    ),
  problem: z.enum(ROLLOVER_PROBLEMS).nullable(),
  newSubjectId: z.string().nullable(),
  renamedTo: z.string().nullable().describe("The source's new code when this request renames it"),
  teacherIds: z.array(z.string()),
  teachersLeftOut: z.array(z.string()).describe('Teachers deactivated (or no longer teachers): not carried'),
  students: z.number().int(),
  studentsLeftOut: z.array(z.string()).describe('Deactivated students: not enrolled'),
  meetings: z
    .number()
    .int()
    .describe(
      "Meetings the new subject gets in the mapped terms; two of last year's that differ only by a teacher left out are one (the subject's first teacher takes it)",
    ),
  meetingsRefused: z.array(z.object({ meetingId: z.string(), code: z.string() })),
});
const RolloverResult = z.object({ dryRun: z.boolean(), rows: z.array(RolloverRowSchema) });

const CreateBody = z.object({
  code: SubjectCodeSchema,
  name: SubjectNameSchema,
  teacherIds: Ids.optional().describe(
    'Admins choose (the first teaches meetings without a teacher of their own). A teacher teaches what they create alone: omit it, leave it empty or name only themself (anyone else: 403 FORBIDDEN)',
  ),
  location: LocationSchema.nullish(),
  allowedIpRanges: AllowedIpRangesSchema.optional(),
});

export const PatchBody = z
  .object({
    code: SubjectCodeSchema,
    name: SubjectNameSchema,
    teacherIds: Ids.describe("Admins only. The first is the teacher of the subject's meetings without one of their own"),
    teacherOverlap: z
      .boolean()
      .describe(
        "true: keep a new first teacher even where the meetings and scheduled sessions they take over meet their other subjects' (refused TEACHER_DOUBLE_BOOKED otherwise)",
      ),
  })
  .partial()
  .refine((b) => Object.keys(b).some((k) => k !== 'teacherOverlap'), NOTHING_TO_CHANGE);

const StudentIdsBody = z.object({ studentIds: Ids.min(1) });
const NetworkBody = z.object({ allowedIpRanges: AllowedIpRangesSchema.describe('Empty clears the restriction') });

const EnrolResult = z.object({
  enrolled: z.number().int().describe('Newly enrolled'),
  total: z.number().int().describe('Enrolled after the change'),
  refusedStudentIds: z
    .array(z.string())
    .optional()
    .describe(
      'Present only when some were refused: students deactivated or removed by another admin between the check and the write, not enrolled (the others are)',
    ),
});
const UnenrolResult = z.object({
  removed: z.number().int(),
  notEnrolledIds: z.array(z.string()),
  total: z.number().int(),
});

const ImportRowError = z.object({
  line: z.number().int(),
  code: z.string().nullable(),
  reason: z.string(),
  problems: z.array(RowProblemSchema),
});
const ImportResult = z.object({
  created: z.number().int(),
  enrolled: z.number().int().describe('Enrolments made, over every subject created'),
  subjects: z.array(SubjectSchema),
  checked: z.number().int().describe('Rows found fine: all of them (nothing is imported otherwise)'),
  refused: z
    .array(ImportRowError)
    .describe('Rows whose code another admin took between the check and the write: not created, the others are'),
  studentsRefused: z
    .array(ImportRowError)
    .describe(
      'Rows created whose students were not all enrolled: a student deactivated or removed by another admin between the check and the write ' +
        "(problems studentNumbersDeactivated, studentNumbersUnknown, naming the numbers); the row's other students are enrolled. " +
        "Also a row whose subject another admin deleted or archived after this import created it, up to the enrolment's own write (problem subjectDeletedSince or " +
        'subjectArchivedSince, with the count): none of its students is enrolled or counted in `enrolled`, the subject stays counted in `created`',
    ),
});

const MyNetwork = z.object({
  ip: z.string().nullable().describe('The address this request came from, as the network check will see it (TRUST_PROXY applies)'),
  range: z.string().nullable().describe('The range to allow for it: the IPv4 address itself (/32) or the IPv6 /64'),
});

/**
 * The list's item: a staff caller's subject whole, a student's without the classroom's
 * geofence and networks (docs/authorization.md, "What a student reads of a class").
 */
const ListedSubjectSchema = SubjectSchema.extend({
  location: SubjectSchema.shape.location
    .optional()
    .describe("Geofence centre and radius (null: none set). Staff only: absent from a student's list"),
  allowedIpRanges: SubjectSchema.shape.allowedIpRanges
    .optional()
    .describe("The school's networks allowed for check-ins (CIDR). Staff only: absent from a student's list"),
}).describe(
  "A subject. Admins and teachers get it whole; a student gets id, orgId, code, name, teacherIds, archivedAt, createdAt and updatedAt: where the classroom is and which networks it allows stay with staff (a session's `policy` says which checks apply)",
);

const SUBJECT_ERRORS = ['NOT_SUBJECT_TEACHER' as const];

/** Subjects, enrolment, classroom location and allowed networks. */
export function subjectRoutes(routes: RouteRegistry, ctx: HttpContext): void {
  const { subjects, subjectImport, subjectArchive, subjectRollover } = ctx.services;

  routes.define({
    method: 'get',
    path: '/subjects',
    summary: 'List subjects',
    description:
      'Admins see every subject of the organisation, teachers those they teach, students those they are enrolled in; ' +
      "archived subjects only with `archived=true`. A student's items leave out `location` and `allowedIpRanges` (the classroom's " +
      "coordinates and the school's networks stay with staff).",
    tags: ['subjects'],
    access: 'authenticated',
    query: ListQuery,
    response: { status: 200, description: 'A page of subjects', schema: pageOf(ListedSubjectSchema) },
    handler: async ({ actor, query }) => ({ ...(await subjects.list(actor, query)), limit: query.limit, offset: query.offset }),
  });

  routes.define({
    method: 'post',
    path: '/subjects',
    summary: 'Create a subject',
    tags: ['subjects'],
    access: STAFF,
    body: CreateBody,
    response: { status: 201, description: 'The new subject', schema: SubjectSchema },
    errors: ['SUBJECT_CODE_TAKEN'],
    handler: ({ actor, body }) => subjects.create(actor, body),
  });

  routes.define({
    method: 'post',
    path: '/subjects/import',
    cost: 'heavy',
    summary: 'Import subjects with their teachers and students from CSV',
    description:
      'Columns: code,name,teacher_email (the first teacher; empty: none yet) and optionally co_teacher_emails and student_numbers ' +
      `(several in a cell, separated by spaces; at most ${MAX_ROW_STUDENTS} numbers a row, ${MAX_SUBJECT_IMPORT_ROWS} rows a request). ` +
      'Optionally the classroom too: latitude,longitude,radius_m (all three or none; radius in metres, at most 10000) and allowed_networks ' +
      "(IP ranges or addresses, several in a cell), checked as the subject form's `location` and `allowedIpRanges`. " +
      'Checked whole first: when any row is bad (a code taken or repeated in the file, an email of no teacher of the organisation or of a deactivated one, ' +
      'a student number of no active student), nothing is written and the 400 answer lists the first 100 bad rows in `details.rows` as { line, code, reason, problems }, ' +
      'with `details.rowsInvalid`, `details.problemCounts` and `details.lines`, as the users import does. Each subject is then created and its students enrolled ' +
      'as `POST /subjects` and `POST /subjects/{id}/enrolments` do (audited `subject.create` and `subject.enrol`). What another admin changed between ' +
      'the check and the write is answered row by row, the other rows written: a code taken since leaves its row out (`refused`), a student deactivated ' +
      'or removed since leaves that student out of its created row (`studentsRefused`), as does a subject deleted or archived since this import created it ' +
      "(all of its row's students, `studentsRefused`). With `dryRun=true` nothing is written.",
    tags: ['subjects'],
    access: ['admin'],
    query: CsvImportQuery,
    body: CsvImportBody,
    textBody: { contentType: 'text/csv', field: 'csv' },
    response: {
      status: 201,
      description: 'The subjects were created',
      schema: ImportResult,
      also: [{ status: 200, description: 'Dry run: every row is fine and nothing was written (`created` 0)' }],
    },
    handler: async ({ actor, query, body, setStatus }) => {
      const result = await subjectImport.run(actor, body.csv, { dryRun: query.dryRun === true });
      if (query.dryRun) setStatus(200);
      return result;
    },
  });

  routes.define({
    method: 'post',
    path: '/subjects/archive',
    summary: "Archive subjects (last year's)",
    description:
      `At most ${ARCHIVE_SUBJECTS_MAX} ids. All or nothing: an id that is no subject of the organisation refuses the request ` +
      '(details.unknownSubjectIds), and so does a subject with a session open or scheduled (409 SUBJECT_HAS_SESSIONS, ' +
      'details.subjectIds and details.sessionIds): close or cancel those first. An archived subject keeps its records, ' +
      'reports, exports and audit; it takes no new session, meeting or enrolment (409 SUBJECT_ARCHIVED), its meetings ' +
      'create no session, and lists leave it out unless `archived=true`. One subject.archive audit entry each.',
    tags: ['subjects'],
    access: ['admin'],
    body: SubjectIdsBody,
    response: { status: 200, description: 'The subjects archived', schema: ArchiveResult },
    errors: ['SUBJECT_HAS_SESSIONS'],
    handler: ({ actor, body }) => subjectArchive.archive(actor, body.subjectIds),
  });

  routes.define({
    method: 'post',
    path: '/subjects/unarchive',
    summary: 'Unarchive subjects',
    description: `At most ${ARCHIVE_SUBJECTS_MAX} ids, all or nothing as archiving. The subjects are in use again (subject.unarchive audit entry each).`,
    tags: ['subjects'],
    access: ['admin'],
    body: SubjectIdsBody,
    response: { status: 200, description: 'The subjects unarchived', schema: ArchiveResult },
    handler: ({ actor, body }) => subjectArchive.unarchive(actor, body.subjectIds),
  });

  routes.define({
    method: 'post',
    path: '/subjects/rollover',
    cost: 'heavy',
    summary: "Next year's subjects from last year's",
    description:
      `At most ${ROLLOVER_SUBJECTS_MAX} subjects a request. Each is made again with the code the rule gives, its teachers still active, ` +
      'its classroom location and networks, with `carryStudents` its students still active, and with `terms` its weekly meetings (checks, rooms) ' +
      'of the mapped terms; deactivated teachers and students are left out and listed. Each row answers on its own (`outcome`): ' +
      '`refused` for a new code invalid (`codeInvalid`), made by two rows (`codeRepeated`), held by an archived subject (`codeTaken`), ' +
      "equal to the source's own (`codeUnchanged`), or a source in use to rename (`sourceInUse`); `exists` when a subject in use already has it: " +
      'a retry creates nothing twice; `finished` when that subject is an earlier roll-over of this one cut short (a node died or the store failed ' +
      'after its create): the students not yet enrolled and the meetings not yet copied (same term, weekday and times) are carried now, nothing twice; ' +
      'two retries at once (two admins, two nodes) copy each meeting once, each counting in `meetings` the copies it made. Codes stay unique over archived subjects too, so reports and exports name one subject: ' +
      "`previousSuffix` renames last year's so next year's may take its code. With `dryRun=true` nothing is written. " +
      'Audited as `subject.create`, `subject.enrol`, `meeting.create`, plus two `subject.rollover` per new subject: one right after its create (what it is to carry, `carried: false`), which is how a retry knows a roll-over cut short and finishes it, and one once its class is carried (`carried: true`, what was done), after which a retry carries nothing again.',
    tags: ['subjects'],
    access: ['admin'],
    query: CsvImportQuery,
    body: RolloverBody,
    response: {
      status: 201,
      description: 'Each row done',
      schema: RolloverResult,
      also: [{ status: 200, description: 'Dry run: each row as it would be, nothing written' }],
    },
    handler: async ({ actor, query, body, setStatus }) => {
      const result = await subjectRollover.run(actor, { ...body, dryRun: query.dryRun === true });
      if (query.dryRun) setStatus(200);
      return result;
    },
  });

  routes.define({
    method: 'get',
    path: '/subjects/:id',
    summary: 'Get a subject',
    tags: ['subjects'],
    access: STAFF,
    params: IdParams,
    response: { status: 200, description: 'The subject', schema: SubjectSchema },
    errors: SUBJECT_ERRORS,
    handler: ({ actor, params }) => subjects.get(actor, params.id),
  });

  routes.define({
    method: 'patch',
    path: '/subjects/:id',
    summary: 'Change a subject',
    tags: ['subjects'],
    access: STAFF,
    params: IdParams,
    body: PatchBody,
    description:
      "A new first teacher takes over the subject's meetings without a teacher of their own and their sessions still scheduled; where those meet another subject's meeting or session of theirs, the change is refused (409 TEACHER_DOUBLE_BOOKED, `details.meetingIds` with `details.meetingClashes`, or `details.sessionIds` with `details.clashes`; either with `details.doubleBookings`, each clash named as docs/timetable.md says) unless `teacherOverlap: true`.",
    response: { status: 200, description: 'The changed subject', schema: SubjectSchema },
    errors: [...SUBJECT_ERRORS, 'SUBJECT_CODE_TAKEN', 'TEACHER_DOUBLE_BOOKED', 'CONFLICT'],
    handler: ({ actor, params, body }) => subjects.update(actor, params.id, body),
  });

  routes.define({
    method: 'delete',
    path: '/subjects/:id',
    summary: 'Delete a subject and its enrolments',
    tags: ['subjects'],
    access: STAFF,
    params: IdParams,
    response: { status: 204, description: 'Deleted' },
    errors: SUBJECT_ERRORS,
    handler: ({ actor, params }) => subjects.delete(actor, params.id),
  });

  routes.define({
    method: 'get',
    path: '/subjects/:id/students',
    summary: 'Students enrolled in a subject',
    tags: ['subjects'],
    access: STAFF,
    params: IdParams,
    query: PageQuery,
    response: { status: 200, description: 'A page of students', schema: pageOf(PublicUserSchema) },
    errors: SUBJECT_ERRORS,
    handler: async ({ actor, params, query }) => ({
      ...(await subjects.listStudents(actor, params.id, query)),
      limit: query.limit,
      offset: query.offset,
    }),
  });

  routes.define({
    method: 'post',
    path: '/subjects/:id/enrolments',
    summary: 'Enrol students',
    description:
      'All or nothing: ids that are not students of the organisation are listed in details.unknownStudentIds, deactivated ' +
      'students (who cannot log in, and would be marked absent at every close) in details.deactivatedStudentIds. An archived subject refuses (409 SUBJECT_ARCHIVED). ' +
      'A student deactivated or removed by another admin between that check and the write is not enrolled (the store refuses them in the write): ' +
      'the answer lists them in `refusedStudentIds` (present only then), the others are enrolled. ' +
      'A subject another admin deleted or archived in that time enrols nobody, checked in the same write: 404 NOT_FOUND or 409 SUBJECT_ARCHIVED, as before the check.',
    tags: ['subjects'],
    access: STAFF,
    params: IdParams,
    body: StudentIdsBody,
    response: { status: 200, description: 'Enrolment counts', schema: EnrolResult },
    errors: [...SUBJECT_ERRORS, 'SUBJECT_ARCHIVED'],
    handler: ({ actor, params, body }) => subjects.enrol(actor, params.id, body.studentIds),
  });

  routes.define({
    method: 'delete',
    path: '/subjects/:id/enrolments',
    summary: 'Remove students from a subject',
    tags: ['subjects'],
    access: STAFF,
    params: IdParams,
    body: StudentIdsBody,
    response: { status: 200, description: 'Removal counts', schema: UnenrolResult },
    errors: SUBJECT_ERRORS,
    handler: ({ actor, params, body }) => subjects.unenrol(actor, params.id, body.studentIds),
  });

  routes.define({
    method: 'put',
    path: '/subjects/:id/location',
    summary: 'Set the classroom location (geofence centre and radius in metres)',
    tags: ['subjects'],
    access: STAFF,
    params: IdParams,
    body: LocationSchema,
    response: { status: 200, description: 'The changed subject', schema: SubjectSchema },
    errors: SUBJECT_ERRORS,
    handler: ({ actor, params, body }) => subjects.setLocation(actor, params.id, body),
  });

  routes.define({
    method: 'put',
    path: '/subjects/:id/network',
    summary: 'Set the allowed IP ranges (CIDR) of check-ins',
    tags: ['subjects'],
    access: STAFF,
    params: IdParams,
    body: NetworkBody,
    response: { status: 200, description: 'The changed subject', schema: SubjectSchema },
    errors: SUBJECT_ERRORS,
    handler: ({ actor, params, body }) => subjects.setNetwork(actor, params.id, body.allowedIpRanges),
  });

  routes.define({
    method: 'get',
    path: '/me/network',
    summary: 'The caller\'s address and the range to allow for it ("add my current network")',
    tags: ['subjects'],
    access: 'authenticated',
    response: { status: 200, description: 'Address and range', schema: MyNetwork },
    handler: async ({ actor }) => {
      const ip = actor.ip ? normalizeIp(actor.ip) : null;
      return { ip, range: ip ? rangeOfAddress(ip) : null };
    },
  });
}

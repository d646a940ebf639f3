import { z } from 'zod';
import { MAX_CONFIRM_STUDENTS } from '../../domain/face/class-photo-service.js';
import { ATTENDED_STATUSES, ROSTER_STATUSES, STAFF_ROLES as STAFF } from '../../shared/events.js';
import type { RouteRegistry } from '../define-route.js';
import type { HttpContext } from '../http-context.js';
import { IdParams } from '../schemas.js';

const BoxSchema = z.object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() });

const ProposedFaceSchema = z
  .object({
    box: BoxSchema.describe('Where the face is, in pixels of `image` (the analysed, possibly downscaled, photo)'),
    band: z
      .enum(['confident', 'uncertain'])
      .nullable()
      .describe('How sure the match is; null when the face has no student. Distances are never sent.'),
    studentId: z.string().nullable(),
    name: z.string().nullable(),
    studentNumber: z.string().nullable(),
    currentStatus: z.enum(ROSTER_STATUSES).nullable().describe("The student's status in the session now"),
    unmatchedReason: z
      .enum(['too-small', 'no-match'])
      .nullable()
      .describe('too-small: below FACE_MIN_FACE_PX, not matched; no-match: no enrolled student within the uncertain band'),
  })
  .describe('One detected face and the student it is proposed as');

const ProposalSchema = z
  .object({
    sessionId: z.string(),
    image: z.object({ width: z.number().int(), height: z.number().int() }),
    faces: z.array(ProposedFaceSchema),
    summary: z.object({
      faces: z.number().int(),
      matched: z.number().int(),
      confident: z.number().int(),
      uncertain: z.number().int(),
      unmatched: z.number().int(),
      tooSmall: z.number().int(),
      students: z.number().int().describe('Students enrolled in the subject'),
      withoutEnrolment: z.number().int().describe('Enrolled students without a usable face enrolment'),
      alreadyPresent: z.number().int().describe('Matched students already present or late'),
      truncated: z
        .boolean()
        .describe('True when as many faces as FACE_MAX_FACES were found: the detector stopped there and some faces may be missing'),
    }),
  })
  .describe('A proposal: no record was changed');

const ConfirmBody = z.object({
  studentIds: z.array(z.string().min(1).max(100)).min(1).max(MAX_CONFIRM_STUDENTS),
  status: z
    .enum(ATTENDED_STATUSES)
    .optional()
    .describe("What the students are marked as; by default late once the session's lateAfter has passed, else present"),
});

const ConfirmationSchema = z
  .object({
    sessionId: z.string(),
    results: z.array(
      z.object({
        studentId: z.string(),
        result: z.enum(['marked', 'unchanged', 'refused']),
        status: z.enum(ROSTER_STATUSES).nullable(),
        code: z.string().nullable().describe('Why a student was refused: NOT_ENROLLED or RECORD_CHANGED'),
      }),
    ),
    summary: z.object({ marked: z.number().int(), unchanged: z.number().int(), refused: z.number().int() }),
  })
  .describe('What each chosen student became');

/** Class photo attendance: a proposal from one photo, then the teacher's confirmation. */
export function classPhotoRoutes(routes: RouteRegistry, ctx: HttpContext): void {
  const { classPhoto } = ctx.services.attendance;
  routes.define({
    method: 'post',
    path: '/sessions/:id/class-photo',
    cost: 'heavy',
    summary: 'Propose who is in a class photo (changes no record)',
    description:
      "Every face of the photo is matched against the students of the session's subject, one face per student. " +
      'The answer is a proposal for the teacher to review; confirm it with POST /sessions/{id}/class-photo/confirm.',
    tags: ['attendance'],
    access: STAFF,
    params: IdParams,
    files: {
      field: 'photo',
      min: 1,
      max: 1,
      maxBytes: ctx.config.face.image.maxBytes,
      description: 'The class photo (JPEG, PNG or WebP).',
      admit: (actor, params) => classPhoto.admit(actor, params.id),
    },
    response: { status: 200, description: 'The proposal', schema: ProposalSchema },
    errors: ['SESSION_NOT_FOUND', 'NOT_SUBJECT_TEACHER', 'SESSION_CLOSED', 'PHOTO_REFUSED', 'RATE_LIMITED', 'BUSY', 'UNAVAILABLE'],
    handler: ({ actor, params, files }) => classPhoto.propose(actor, params.id, files[0]!),
  });

  routes.define({
    method: 'post',
    path: '/sessions/:id/class-photo/confirm',
    summary: 'Mark the students the teacher kept from a class photo present or late',
    description:
      'Stateless: any enrolled student may be listed. `status` chooses present or late; without it, students are late ' +
      "once the session's lateAfter has passed. Students already present or late are left unchanged; " +
      'students not enrolled are refused on their own line (NOT_ENROLLED) while the others are marked.',
    tags: ['attendance'],
    access: STAFF,
    params: IdParams,
    body: ConfirmBody,
    response: { status: 200, description: 'One result per distinct student id', schema: ConfirmationSchema },
    errors: ['SESSION_NOT_FOUND', 'NOT_SUBJECT_TEACHER', 'SESSION_CLOSED'],
    handler: ({ actor, params, body }) => classPhoto.confirm(actor, params.id, body.studentIds, body.status),
  });
}

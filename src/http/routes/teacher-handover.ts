import { z } from 'zod';
import type { RouteRegistry } from '../define-route.js';
import type { HttpContext } from '../http-context.js';
import { IdParams, SubjectSchema } from '../schemas.js';

/** More than any one teacher teaches; the domain reads them all. */
const SUBJECT_IDS_MAX = 1000;
const HandedSubjectSchema = z.object({
  subjectId: z.string(),
  code: z.string(),
  before: z.array(z.string()).describe('Its teachers before the hand-over, first teacher first'),
  after: z.array(z.string()).describe('Its teachers after it'),
});
const PendingSchema = z.object({
  id: z.string().describe('The `user.handover` audit entry'),
  toTeacherId: z.string(),
  keepAbsent: z.boolean(),
  at: z.date(),
  subjects: z.array(HandedSubjectSchema),
});
const HandOverBody = z.object({
  toTeacherId: z.string().min(1).max(100),
  subjectIds: z
    .array(z.string().min(1).max(100))
    .min(1)
    .max(SUBJECT_IDS_MAX)
    .optional()
    .describe('Some of their subjects; all when absent'),
  keepAbsent: z.boolean().default(false).describe('Keep the absent teacher on each subject, after the colleague'),
  teacherOverlap: z.boolean().default(false).describe('Keep the change where it double-books the colleague'),
});
const HandBackBody = z.object({
  teacherOverlap: z.boolean().default(false).describe('Keep the change where it double-books the returning teacher'),
});

/** A teacher away for a while: their subjects, handed to a colleague at once and back on their return. */
export function teacherHandoverRoutes(routes: RouteRegistry, ctx: HttpContext): void {
  const { handover } = ctx.services;

  routes.define({
    method: 'get',
    path: '/users/:id/taught-subjects',
    summary: 'The subjects a teacher teaches, and what of theirs is handed over',
    description: 'Ordered by code. `handover` is the last hand-over not yet handed back, null when none.',
    tags: ['users'],
    access: ['admin'],
    params: IdParams,
    response: {
      status: 200,
      description: "The teacher's subjects",
      schema: z.object({ items: z.array(SubjectSchema), handover: PendingSchema.nullable() }),
    },
    handler: async ({ actor, params }) => ({
      items: await handover.subjectsOf(actor, params.id),
      handover: await handover.pending(actor, params.id),
    }),
  });

  routes.define({
    method: 'post',
    path: '/users/:id/handover',
    summary: "Hand a teacher's subjects to a colleague",
    description:
      "The colleague takes the teacher's place on each subject (first where they were first: meetings and scheduled sessions follow, " +
      'docs/timetable.md); `keepAbsent` keeps the teacher after them. All or nothing: any subject refused (TEACHER_DOUBLE_BOOKED ' +
      'unless `teacherOverlap`) leaves every subject as it was, each refusal named in `details.refused` ({ subjectId, code, error, message, and for ' +
      'TEACHER_DOUBLE_BOOKED `doubleBookings`: each clash as { code, meeting, day, withCode, withMeeting }, docs/timetable.md}): every subject is checked ' +
      'before any is written (subjects given to the same colleague also against each other: two meeting at the same time refuse the later, ' +
      'both named), then all are written as one store change. One hand-over at a time per teacher, on every node ' +
      '(CONFLICT while one is pending or being made). Audited on the teacher (`user.handover`) and once on each subject (`subject.update`), ' +
      'the entries written by the same store change (docs/timetable.md).',
    tags: ['users'],
    access: ['admin'],
    params: IdParams,
    body: HandOverBody,
    response: { status: 200, description: 'The hand-over, as `POST /users/{id}/handover/back` will restore it', schema: PendingSchema },
    errors: ['CONFLICT', 'TEACHER_DOUBLE_BOOKED'],
    handler: ({ actor, params, body }) => handover.handOver(actor, params.id, body),
  });

  routes.define({
    method: 'post',
    path: '/users/:id/handover/back',
    summary: 'Hand back what the last hand-over gave a colleague',
    description:
      'Restores each subject of the last hand-over to its teachers before it; one already as before it is passed over. All or nothing: ' +
      'a subject whose teachers changed otherwise since (or that was deleted) refuses with CONFLICT, named in `details.refused`, and ' +
      'nothing is restored. Audited (`user.handback`, with the subjects).',
    tags: ['users'],
    access: ['admin'],
    params: IdParams,
    body: HandBackBody,
    response: { status: 200, description: 'The hand-over handed back', schema: PendingSchema },
    errors: ['CONFLICT', 'TEACHER_DOUBLE_BOOKED'],
    handler: ({ actor, params, body }) => handover.handBack(actor, params.id, body.teacherOverlap),
  });
}

import { z } from 'zod';
import { UNSTAFFED_WHY } from '../../domain/subjects/unstaffed-sessions.js';
import type { RouteRegistry } from '../define-route.js';
import type { HttpContext } from '../http-context.js';
import { CursorQuery, encodeCursor, NextCursor } from '../keyset-cursor.js';
import { IdParams, PageQuery, pageOf } from '../schemas.js';
import { issueRule } from '../../shared/validation-issues.js';
import { SessionViewSchema } from './attendance.js';

const UnstaffedSchema = z.object({
  session: SessionViewSchema,
  teacherName: z.string().nullable().describe('The name of the account holding it; null when that account is gone'),
  why: z
    .enum(UNSTAFFED_WHY)
    .describe(
      'Why that account cannot run it: `deactivated`, `notTeacher` (a student or an admin: made one, or an admin who started a meeting ahead for a subject with no active teacher), `offSubject` (an active teacher no longer ' +
        'teaching its subject), `gone` (erased)',
    ),
  teachers: z
    .array(z.object({ id: z.string(), name: z.string() }))
    .describe("The subject's active teachers, first teacher first: whom it may be given to (free then or not)"),
});

const ListQuery = PageQuery.extend({
  cursor: CursorQuery.optional(),
  offset: PageQuery.shape.offset.describe(
    'Sessions to skip from the first; a session given, cancelled or started meanwhile shifts it, so follow `nextCursor` instead. Not with `cursor`',
  ),
}).refine((q) => q.cursor === undefined || q.offset === 0, {
  ...issueRule('invalid', 'Page with cursor or with offset, not both.'),
  path: ['offset'],
});

const GiveBody = z.object({
  teacherId: z.string().min(1).max(100).describe('An active teacher of the subject with no other class at that time'),
});

/** The upcoming sessions whose teacher can no longer run them (docs/authorization.md, "Sessions left without a teacher"). */
export function unstaffedSessionRoutes(routes: RouteRegistry, ctx: HttpContext): void {
  const { unstaffed } = ctx.services;

  routes.define({
    method: 'get',
    path: '/unstaffed-sessions',
    summary: 'Upcoming sessions left without a teacher',
    description:
      "The organisation's `scheduled` sessions, earliest first, whose `teacherId` is not an active teacher of their subject (deactivated, " +
      'made a student or an admin, taken off the subject, erased): those a hand-over found no teacher free to take (`session.unstaffed`), ' +
      'and any other. Computed at each request, never stored: one drops off when given, cancelled, opened, or when its teacher can teach ' +
      "it again. Paged as every list (`limit`, up to 200; `total` counts the whole list): each page's `nextCursor`, sent back as " +
      '`cursor`, gives the sessions after its last one (its start, then id), so a session given or cancelled meanwhile neither skips ' +
      'one nor shows one twice.',
    tags: ['attendance'],
    access: ['admin'],
    query: ListQuery,
    response: { status: 200, description: 'A page of sessions', schema: pageOf(UnstaffedSchema).extend({ nextCursor: NextCursor }) },
    handler: async ({ actor, query }) => {
      const after = query.cursor ? { startsAt: query.cursor.createdAt, id: query.cursor.id } : undefined;
      const { next, ...page } = await unstaffed.list(actor, { limit: query.limit, offset: query.offset, after });
      return {
        ...page,
        limit: query.limit,
        offset: query.offset,
        // The cursor's time is the session's start here (the list is earliest first).
        nextCursor: next ? encodeCursor({ createdAt: next.startsAt, id: next.id }) : null,
      };
    },
  });

  routes.define({
    method: 'post',
    path: '/unstaffed-sessions/:id/teacher',
    summary: 'Give a session left without a teacher to a teacher of its subject',
    description:
      "Keeps its times, checks and room; audited `session.reschedule`, reason `STAFFED_BY_ADMIN`, and announced to the subject's staff " +
      "as any change. Made under the subject's lock and the teacher's, as an open: the teacher must be an active teacher of the subject " +
      '(`VALIDATION_FAILED`, `teacherId`: `notSubjectTeacher`) with no class of another subject at that time (`TEACHER_DOUBLE_BOOKED`, ' +
      '`details.sessionIds`). `CONFLICT` when the session is not on the list any more (given, cancelled or opened meanwhile, or its ' +
      'teacher can run it again).',
    tags: ['attendance'],
    access: ['admin'],
    params: IdParams,
    body: GiveBody,
    response: { status: 200, description: "The session, now the teacher's", schema: SessionViewSchema },
    errors: ['SESSION_NOT_FOUND', 'CONFLICT', 'TEACHER_DOUBLE_BOOKED'],
    handler: ({ actor, params, body }) => unstaffed.give(actor, params.id, body.teacherId),
  });

  routes.define({
    method: 'post',
    path: '/unstaffed-sessions/:id/cancel',
    summary: 'Cancel a session left without a teacher',
    description:
      "Audited `session.cancel`, reason `UNSTAFFED`; a meeting's session keeps its day taken, so the timetable does not make it again. " +
      '`CONFLICT` when the session is not on the list any more.',
    tags: ['attendance'],
    access: ['admin'],
    params: IdParams,
    response: { status: 200, description: 'The session, cancelled', schema: SessionViewSchema },
    errors: ['SESSION_NOT_FOUND', 'CONFLICT'],
    handler: ({ actor, params }) => unstaffed.cancel(actor, params.id),
  });
}

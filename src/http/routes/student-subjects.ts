import { z } from 'zod';
import { SubjectCodeSchema } from '../../domain/subjects/subject-input.js';
import type { RouteRegistry } from '../define-route.js';
import type { HttpContext } from '../http-context.js';
import { IdParams, SubjectSchema } from '../schemas.js';

/** As many codes as a student's timetable may hold, with room to spare. */
const CODES_MAX = 100;
const CodesBody = z.object({
  codes: z.array(SubjectCodeSchema).min(1).max(CODES_MAX).describe('Exact subject codes'),
});
const SubjectsSchema = z.object({ items: z.array(SubjectSchema) });
/** More subjects than any one student is enrolled in. */
const SUBJECT_IDS_MAX = 1000;
const SubjectIdsBody = z.object({
  subjectIds: z.array(z.string().min(1).max(100)).min(1).max(SUBJECT_IDS_MAX).describe('The subjects to leave'),
});

/** One student's subjects, for the admin console's Users page (a student moving class, one arriving late). */
export function studentSubjectRoutes(routes: RouteRegistry, ctx: HttpContext): void {
  const { subjects } = ctx.services;

  routes.define({
    method: 'get',
    path: '/users/:id/subjects',
    summary: 'The subjects a student is enrolled in',
    description: 'Ordered by code; empty for a user who is enrolled in none (teachers and admins are never enrolled).',
    tags: ['users'],
    access: ['admin'],
    params: IdParams,
    response: { status: 200, description: "The student's subjects", schema: SubjectsSchema },
    handler: async ({ actor, params }) => ({ items: await subjects.subjectsOfStudent(actor, params.id) }),
  });

  routes.define({
    method: 'post',
    path: '/users/:id/subjects',
    summary: 'Enrol a student in subjects by their codes',
    description:
      `At most ${CODES_MAX} codes, matched exactly. All or nothing: codes no subject has are listed in \`details.unknownCodes\` ` +
      'and nothing is written; a user who is not a student is refused with `details.unknownStudentIds`, a deactivated student ' +
      'with `details.deactivatedStudentIds` (as `POST /subjects/{id}/enrolments`). Already enrolled is fine. ' +
      'Audited on each subject (`subject.enrol`), as enrolling from the subject. Leaving is `DELETE /users/{id}/subjects`.',
    tags: ['users'],
    access: ['admin'],
    params: IdParams,
    body: CodesBody,
    response: { status: 200, description: "The student's subjects afterwards", schema: SubjectsSchema },
    errors: ['SUBJECT_ARCHIVED'],
    handler: async ({ actor, params, body }) => ({ items: await subjects.enrolStudentByCodes(actor, params.id, body.codes) }),
  });

  routes.define({
    method: 'delete',
    path: '/users/:id/subjects',
    summary: 'Take a student out of several subjects at once',
    description:
      `At most ${SUBJECT_IDS_MAX} subject ids. All or nothing: ids that are not subjects of the organisation are listed in ` +
      '`details.unknownSubjectIds` and nothing is removed; then one store write removes them all (a leaver, a student moving ' +
      'class). A subject they are not enrolled in is fine. Their records are kept. Audited on each subject left ' +
      '(`subject.unenrol`), as removing from the subject.',
    tags: ['users'],
    access: ['admin'],
    params: IdParams,
    body: SubjectIdsBody,
    response: { status: 200, description: "The student's subjects afterwards", schema: SubjectsSchema },
    handler: async ({ actor, params, body }) => ({ items: await subjects.unenrolStudentFrom(actor, params.id, body.subjectIds) }),
  });
}

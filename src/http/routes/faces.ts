import { z } from 'zod';
import { AppError } from '../../domain/app-error.js';
import { MAX_ENROLMENT_PHOTOS, MIN_ENROLMENT_PHOTOS } from '../../domain/face/enrolment-service.js';
import type { RouteRegistry } from '../define-route.js';
import type { HttpContext } from '../http-app.js';
import { IdParams } from '../schemas.js';

/** Parsing through this schema is what keeps embeddings and photos out of every answer. */
const EnrolmentStatusSchema = z
  .object({
    userId: z.string(),
    enrolled: z.boolean(),
    modelId: z.string().nullable().describe('Face model the embeddings belong to; another model counts as no enrolment'),
    modelVersion: z.string().nullable(),
    photoCount: z.number().int().describe('Reference photos the enrolment was made from'),
    photosKept: z.boolean().describe('Whether the photos themselves are stored (FACE_KEEP_PHOTOS)'),
    updatedAt: z.date().nullable(),
  })
  .describe('A student\'s face enrolment (never its embeddings or photos)');

const WHO =
  'Allowed: the student themself, a teacher of one of the student\'s subjects (else NOT_SUBJECT_TEACHER), ' +
  'an admin of the organisation. Another student gets FORBIDDEN; a user that is not a student of this ' +
  'organisation is NOT_FOUND.';

/** Face enrolment of one student: the reference faces selfie check-ins are matched against. */
export function faceRoutes(routes: RouteRegistry, ctx: HttpContext): void {
  const { faces } = ctx.services;

  // PUT, not POST: an upload replaces the whole enrolment (never adds to it), and sending the
  // same photos again leaves the same state.
  routes.define({
    method: 'put',
    path: '/users/:id/face',
    cost: 'heavy',
    summary: 'Enrol (or re-enrol) a student\'s face',
    description:
      `Upload ${MIN_ENROLMENT_PHOTOS} to ${MAX_ENROLMENT_PHOTOS} reference photos as multipart/form-data under "photos". ` +
      'Each photo must show exactly one usable face and all of them the same person. All or nothing: when any ' +
      'photo is refused nothing is stored and the 422 answer lists every refused photo in `details.photos` as ' +
      '{ index (0-based, in upload order), reason, message }. A new enrolment replaces the previous one. ' +
      'BUSY (503, Retry-After) when the face workers are saturated; UNAVAILABLE when face verification is off. ' +
      WHO,
    tags: ['faces'],
    access: 'authenticated',
    params: IdParams,
    files: {
      field: 'photos',
      min: MIN_ENROLMENT_PHOTOS,
      max: MAX_ENROLMENT_PHOTOS,
      maxBytes: ctx.config.face.image.maxBytes,
      description: 'JPEG, PNG or WebP photos of the student, one face each.',
    },
    response: { status: 200, description: 'The stored enrolment', schema: EnrolmentStatusSchema },
    errors: ['FACE_ENROLMENT_REFUSED', 'RATE_LIMITED', 'BUSY', 'UNAVAILABLE', 'NOT_SUBJECT_TEACHER', 'FORBIDDEN'],
    handler: ({ actor, params, files }) => faces.enrol(actor, params.id, files),
  });

  routes.define({
    method: 'get',
    path: '/users/:id/face',
    summary: 'Get a student\'s face enrolment status',
    description: WHO,
    tags: ['faces'],
    access: 'authenticated',
    params: IdParams,
    response: { status: 200, description: 'Whether and how the student is enrolled', schema: EnrolmentStatusSchema },
    errors: ['NOT_SUBJECT_TEACHER', 'FORBIDDEN'],
    handler: ({ actor, params }) => faces.status(actor, params.id),
  });

  routes.define({
    method: 'delete',
    path: '/users/:id/face',
    summary: 'Remove a student\'s face enrolment',
    description:
      'Later selfie check-ins of the student go to the teacher for review (FACE_NOT_ENROLLED). ' +
      'NOT_FOUND when the student had no enrolment. ' +
      WHO,
    tags: ['faces'],
    access: 'authenticated',
    params: IdParams,
    response: { status: 204, description: 'The enrolment was removed' },
    errors: ['NOT_SUBJECT_TEACHER', 'FORBIDDEN'],
    handler: async ({ actor, params }) => {
      if (!(await faces.remove(actor, params.id))) throw new AppError('NOT_FOUND', 'The student has no face enrolment.');
    },
  });
}

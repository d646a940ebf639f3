import { z } from 'zod';
import { AppError } from '../../shared/app-error.js';
import { MAX_ENROLMENT_PHOTOS, MIN_ENROLMENT_PHOTOS } from '../../domain/face/enrolment-service.js';
import { sniffImageType } from '../../face/image-input.js';
import type { RouteRegistry } from '../define-route.js';
import type { HttpContext } from '../http-context.js';
import { IdParams, PageQuery } from '../schemas.js';
import { ROLES } from '../../shared/events.js';

const ProposalSummarySchema = z.object({
  proposedBy: z.string().describe('Id of the teacher or student who proposed it'),
  createdAt: z.date(),
  photoCount: z.number().int(),
});

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
    reenrolNeeded: z
      .boolean()
      .describe(
        'The enrolment was made with another face model than the one running (FACE_EMBEDDER): it is not used until the student is enrolled again',
      ),
    proposal: ProposalSummarySchema.nullable().describe(
      'A replacement waiting for an admin; the enrolment above stays in force until it is approved',
    ),
  })
  .describe("A student's face enrolment (never its embeddings or photos)");

const EnrolResultSchema = z.object({
  outcome: z
    .enum(['enrolled', 'proposed'])
    .describe("`enrolled`: the reference changed now (201); `proposed`: it waits for an admin's approval (202)"),
  status: EnrolmentStatusSchema,
});

const ProposalViewSchema = ProposalSummarySchema.extend({
  userId: z.string(),
  studentName: z.string(),
  studentNumber: z.string().nullable(),
  proposerName: z.string(),
  proposerRole: z.enum(ROLES).nullable(),
  matchesCurrent: z
    .enum(['confident', 'uncertain', 'mismatch'])
    .nullable()
    .describe('The proposed face against the reference in force: `mismatch` is another person. Null when there is none to compare.'),
}).describe('A face reference waiting for an admin');

const PhotoParams = IdParams.extend({
  index: z.coerce
    .number()
    .int()
    .min(0)
    .max(MAX_ENROLMENT_PHOTOS - 1),
});

const WHO =
  'Who may set, replace and remove a face reference: an admin of the organisation, directly. A teacher of one of the ' +
  "student's subjects proposes (the reference in force stays until an admin approves). The student themself makes " +
  'their own first enrolment when FACE_SELF_ENROLMENT is `direct` (the default) and proposes later ones; with ' +
  '`approval` every upload of theirs is a proposal; with `off` they get FORBIDDEN. Another student gets FORBIDDEN, ' +
  'any other teacher NOT_SUBJECT_TEACHER, a user that is not a student of this organisation NOT_FOUND.';

/** Face references of students (what selfie check-ins are matched against) and the proposals an admin decides. */
export function faceRoutes(routes: RouteRegistry, ctx: HttpContext): void {
  const { faces } = ctx.services;

  // PUT, not POST: an upload replaces the whole enrolment (never adds to it).
  routes.define({
    method: 'put',
    path: '/users/:id/face',
    cost: 'heavy',
    summary: "Enrol, replace or propose a student's face reference",
    description:
      `Upload ${MIN_ENROLMENT_PHOTOS} to ${MAX_ENROLMENT_PHOTOS} reference photos as multipart/form-data under "photos". ` +
      'Each photo must show exactly one usable face and all of them the same person. All or nothing: when any ' +
      'photo is refused nothing is stored and the 422 answer lists every refused photo in `details.photos` as ' +
      '{ index (0-based, in upload order), reason, message }. The answer says whether the reference changed ' +
      '(`outcome: enrolled`) or waits for an admin (`outcome: proposed`, replacing any earlier pending proposal); ' +
      'either way the student is told over the socket (`face:changed`) and an audit entry is written. Access, the ' +
      'right to upload and the upload budget are checked before the photos are read. BUSY (503, Retry-After) when ' +
      "the face workers or this server's upload slots are saturated; UNAVAILABLE when face verification is off. " +
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
      admit: (actor, params) => faces.admit(actor, params.id),
    },
    response: {
      status: 201,
      description: 'The reference changed (outcome `enrolled`)',
      schema: EnrolResultSchema,
      also: [{ status: 202, description: 'A proposal waits for an admin (outcome `proposed`); the reference in force is unchanged' }],
    },
    errors: [
      'FACE_ENROLMENT_REFUSED',
      'FACE_CONSENT_REQUIRED',
      'RATE_LIMITED',
      'BUSY',
      'UNAVAILABLE',
      'NOT_SUBJECT_TEACHER',
      'FORBIDDEN',
      'PAYLOAD_TOO_LARGE',
    ],
    handler: async ({ actor, params, files, setStatus }) => {
      const result = await faces.enrol(actor, params.id, files);
      if (result.outcome === 'proposed') setStatus(202);
      return result;
    },
  });

  routes.define({
    method: 'get',
    path: '/users/:id/face',
    summary: "Get a student's face enrolment status",
    description: "Allowed: the student themself, a teacher of one of the student's subjects, an admin. " + WHO,
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
    summary: "Remove a student's face enrolment (admins)",
    description:
      'Later selfie check-ins of the student go to the teacher for review (FACE_NOT_ENROLLED). ' +
      'NOT_FOUND when the student had no enrolment. Only an admin removes a reference. ' +
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

  routes.define({
    method: 'get',
    path: '/face-proposals',
    summary: 'List pending face proposals (admins)',
    description: 'Oldest first. Each says who proposed it and how it compares with the reference in force.',
    tags: ['faces'],
    access: ['admin'],
    query: PageQuery,
    response: {
      status: 200,
      description: 'A page of proposals',
      schema: z.object({ items: z.array(ProposalViewSchema), total: z.number().int() }),
    },
    handler: ({ actor, query }) => faces.listProposals(actor, query),
  });

  routes.define({
    method: 'get',
    path: '/users/:id/face/proposal',
    summary: "Get a student's pending face proposal (admins)",
    tags: ['faces'],
    access: ['admin'],
    params: IdParams,
    response: { status: 200, description: 'The proposal', schema: ProposalViewSchema },
    handler: ({ actor, params }) => faces.getProposal(actor, params.id),
  });

  routes.define({
    method: 'get',
    path: '/users/:id/face/proposal/photos/:index',
    summary: 'One photo of a pending face proposal (admins)',
    description: 'The admin approves a face they have seen. The bytes are served as uploaded, with their image type.',
    tags: ['faces'],
    access: ['admin'],
    params: PhotoParams,
    response: { status: 200, description: 'The photo (image/jpeg, image/png or image/webp)', contentType: 'image/*' },
    handler: async ({ actor, params, res }) => {
      const photo = await faces.proposalPhoto(actor, params.id, params.index);
      res.setHeader('Cache-Control', 'private, no-store');
      const type = sniffImageType(photo);
      res.type(type ? `image/${type}` : 'application/octet-stream');
      return photo;
    },
  });

  routes.define({
    method: 'post',
    path: '/users/:id/face/proposal/approve',
    summary: "Approve a pending face proposal: it becomes the student's reference (admins)",
    description: 'Audited with the previous reference and the proposer; the student is told (`face:changed`).',
    tags: ['faces'],
    access: ['admin'],
    params: IdParams,
    response: { status: 200, description: 'The enrolment now in force', schema: EnrolmentStatusSchema },
    errors: ['FACE_CONSENT_REQUIRED'],
    handler: ({ actor, params }) => faces.approve(actor, params.id),
  });

  routes.define({
    method: 'delete',
    path: '/users/:id/face/proposal',
    summary: 'Reject (admin) or withdraw (its proposer) a pending face proposal',
    description: 'The reference in force is unchanged. Audited; the student is told (`face:changed`).',
    tags: ['faces'],
    access: 'authenticated',
    params: IdParams,
    response: { status: 204, description: 'The proposal was discarded' },
    errors: ['NOT_SUBJECT_TEACHER', 'FORBIDDEN'],
    handler: ({ actor, params }) => faces.rejectProposal(actor, params.id),
  });
}

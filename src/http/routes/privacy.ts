import { z } from 'zod';
import { EXCUSE_DOCUMENT_TYPES, EXCUSE_STATUSES } from '../../domain/ports/excuses.js';
import { CONSENT_PURPOSES } from '../../domain/ports/privacy.js';
import { EMAIL_CATEGORIES, EMAIL_LANGUAGES, NOTIFICATION_CATEGORIES } from '../../shared/alerts.js';
import type { RouteRegistry } from '../define-route.js';
import type { HttpContext } from '../http-context.js';
import { IdParams, PublicUserSchema } from '../schemas.js';
import { AlertPayloadSchema } from './alerts.js';

const ConsentSchema = z
  .object({
    id: z.string(),
    userId: z.string().describe('The student the consent is about'),
    purpose: z.enum(CONSENT_PURPOSES),
    textVersion: z.string().describe('Version of the consent text shown, as the school names it'),
    givenBy: z.enum(['student', 'guardian']),
    guardianName: z.string().nullable(),
    recordedBy: z.string().describe('User id of whoever recorded it'),
    givenAt: z.date(),
    withdrawnAt: z.date().nullable(),
    withdrawnBy: z.string().nullable(),
  })
  .describe('A consent to face verification; the newest one not withdrawn is the one in force');

const ConsentBody = z.object({
  textVersion: z.string().trim().min(1).max(64),
  givenBy: z.enum(['student', 'guardian']).describe('`student` when the student records it, `guardian` when an admin does'),
  guardianName: z.string().trim().min(1).max(200).nullish().describe("Required for a guardian's consent, and only then"),
});

const WithdrawResult = z.object({
  withdrawn: z.number().int().describe('Consents withdrawn (0 when none was in force)'),
  faceDeleted: z.boolean().describe('Whether a face reference or a pending proposal was deleted with it'),
});

const VerificationExport = z.object({
  state: z.string(),
  band: z.string().nullable(),
  distance: z.number().nullable(),
  flags: z.array(z.string()),
  reason: z.string().nullable(),
  completedAt: z.date().nullable(),
});

const RecordExport = z.object({
  id: z.string(),
  sessionId: z.string(),
  subjectId: z.string(),
  status: z.string(),
  reason: z.string().nullable(),
  flags: z.array(z.string()),
  distanceM: z.number().nullable(),
  location: z.object({ lat: z.number(), lon: z.number(), accuracyM: z.number(), timestamp: z.date() }).nullable(),
  ip: z.string().nullable(),
  attempts: z.number().int(),
  submittedAt: z.date().nullable(),
  decidedAt: z.date().nullable(),
  decidedBy: z.string().nullable(),
  note: z.string().nullable(),
  verification: VerificationExport.nullable().describe("Outcome of face verification, never the selfie's embedding"),
  createdAt: z.date(),
  updatedAt: z.date(),
});

const AuditExport = z.object({
  id: z.string(),
  entityType: z.string(),
  entityId: z.string(),
  sessionId: z.string().nullable(),
  actorId: z.string().nullable(),
  action: z.string(),
  from: z.unknown(),
  to: z.unknown(),
  reason: z.string().nullable(),
  ip: z.string().nullable(),
  at: z.date(),
});

const ExcuseExport = z.object({
  id: z.string(),
  studentId: z.string(),
  submittedBy: z.string(),
  subjectId: z.string().nullable(),
  sessionId: z.string().nullable(),
  fromDay: z.string(),
  toDay: z.string(),
  category: z.string(),
  text: z.string(),
  document: z
    .object({ fileName: z.string(), contentType: z.enum(EXCUSE_DOCUMENT_TYPES), size: z.number().int() })
    .nullable()
    .describe('What the attached document is; its bytes are fetched from GET /excuses/{id}/document'),
  status: z.enum(EXCUSE_STATUSES),
  decidedBy: z.string().nullable(),
  decidedAt: z.date().nullable(),
  decisionNote: z.string().nullable(),
  createdAt: z.date(),
  updatedAt: z.date(),
});

const NotificationExport = z.object({
  id: z.string(),
  category: z.enum(NOTIFICATION_CATEGORIES),
  alert: AlertPayloadSchema,
  createdAt: z.date(),
  readAt: z.date().nullable(),
});

/** Parsing through this schema is what keeps passwords, token hashes and embeddings out. */
const PersonExportSchema = z
  .object({
    exportedAt: z.date(),
    organisation: z.object({ id: z.string(), name: z.string() }),
    profile: PublicUserSchema,
    subjects: z.array(z.object({ id: z.string(), code: z.string(), name: z.string(), relation: z.enum(['enrolled', 'teaches']) })),
    records: z.array(RecordExport).describe('Attendance records of the person, newest first'),
    consents: z.array(ConsentSchema),
    face: z.object({
      enrolled: z.boolean(),
      modelId: z.string().nullable(),
      modelVersion: z.string().nullable(),
      photoCount: z.number().int(),
      photosKept: z.boolean(),
      updatedAt: z.date().nullable(),
      proposal: z.object({ proposedBy: z.string(), createdAt: z.date(), photoCount: z.number().int() }).nullable(),
    }),
    logins: z.array(
      z.object({
        startedAt: z.date(),
        lastUsedAt: z.date(),
        userAgent: z.string().nullable(),
        ip: z.string().nullable(),
        expiresAt: z.date(),
      }),
    ),
    audit: z.array(AuditExport).describe('Audit entries about the person, by them, or naming them; oldest first'),
    excuses: z.array(ExcuseExport).describe('Excuses of the person, newest first, documents described but not included'),
    guardians: z
      .array(
        z.object({
          name: z.string(),
          relation: z.string(),
          email: z.string(),
          language: z.string(),
          unsubscribed: z.array(z.enum(EMAIL_CATEGORIES)).optional().describe('Email categories the address stopped; absent when none'),
        }),
      )
      .describe('Their guardian contacts'),
    notifications: z.array(NotificationExport).describe('Notifications addressed to the person, newest first'),
    emailPreferences: z
      .object({ language: z.enum(EMAIL_LANGUAGES).nullable(), unsubscribed: z.array(z.enum(EMAIL_CATEGORIES)), updatedAt: z.date() })
      .nullable()
      .describe('Null when never set (English, every category)'),
  })
  .describe('Everything held about one person (subject access request)');

const EraseBody = z.object({
  reason: z
    .string()
    .trim()
    .min(3)
    .max(500)
    .describe('Why (e.g. "erasure request of 2026-05-02, ticket 1234"); kept in the audit tombstone'),
});

const EraseResult = z.object({
  tombstoneId: z.string().describe('The random id that now stands for the person in the records kept for statistics'),
  counts: z.record(z.string(), z.number().int()).describe('What changed, per collection'),
});

const CONSENT_WHO =
  "The student themself (givenBy `student`), or an admin recording a guardian's consent (givenBy `guardian`, with " +
  "guardianName). Whether a student is old enough to consent alone is the school's call (docs/privacy.md). Teachers " +
  'and other students get FORBIDDEN; a user that is not a student of this organisation is NOT_FOUND.';

/** Consent to face verification, subject access (export) and erasure. */
export function privacyRoutes(routes: RouteRegistry, ctx: HttpContext): void {
  const { privacy } = ctx.services;

  routes.define({
    method: 'get',
    path: '/users/:id/consents',
    summary: "A student's face-verification consents, withdrawn ones included",
    description: `Oldest first. Who may read them: the student themself and admins.`,
    tags: ['privacy'],
    access: 'authenticated',
    params: IdParams,
    response: { status: 200, description: 'The consents', schema: z.object({ items: z.array(ConsentSchema) }) },
    handler: async ({ actor, params }) => ({ items: await privacy.listConsents(actor, params.id) }),
  });

  routes.define({
    method: 'post',
    path: '/users/:id/consents',
    summary: 'Record a consent to face verification',
    description:
      "Until one is recorded (with FACE_CONSENT_REQUIRED, the default) the student's face reference cannot be set " +
      'or proposed (FACE_CONSENT_REQUIRED) and their selfie check-ins go to the teacher as FACE_NO_CONSENT. ' +
      CONSENT_WHO,
    tags: ['privacy'],
    access: 'authenticated',
    params: IdParams,
    body: ConsentBody,
    response: { status: 201, description: 'The recorded consent', schema: ConsentSchema },
    errors: ['FORBIDDEN'],
    handler: ({ actor, params, body }) => privacy.recordConsent(actor, params.id, body),
  });

  routes.define({
    method: 'delete',
    path: '/users/:id/consents',
    summary: 'Withdraw the consent to face verification',
    description:
      "Withdraws the consent in force and deletes the student's face reference and any pending proposal at once " +
      '(idempotent). Later selfie check-ins go to the teacher as FACE_NO_CONSENT. Who may: the student themself and admins.',
    tags: ['privacy'],
    access: 'authenticated',
    params: IdParams,
    response: { status: 200, description: 'What was withdrawn and deleted', schema: WithdrawResult },
    handler: ({ actor, params }) => privacy.withdrawConsent(actor, params.id),
  });

  routes.define({
    method: 'get',
    path: '/users/:id/export',
    cost: 'heavy',
    summary: 'Export everything held about one person (subject access)',
    description:
      'Profile, subjects, attendance records, consents, face enrolment status (never embeddings or photos), active ' +
      'logins and the audit entries about them, as one JSON document. Admins only.',
    tags: ['privacy'],
    access: ['admin'],
    params: IdParams,
    response: { status: 200, description: 'The bundle', schema: PersonExportSchema },
    handler: ({ actor, params }) => privacy.exportPerson(actor, params.id),
  });

  routes.define({
    method: 'post',
    path: '/users/:id/erase',
    cost: 'heavy',
    summary: 'Erase a person',
    description:
      "Hard-deletes the person's account, tokens, face data, consents and enrolments; their attendance records stay " +
      'for statistics under a random tombstone id with location, address, note and verification cleared; audit ' +
      'entries about them lose their values. An audit entry `user.erase` names the admin and the reason. Cannot be ' +
      'undone. Admins only, and not on their own account (FORBIDDEN).',
    tags: ['privacy'],
    access: ['admin'],
    params: IdParams,
    body: EraseBody,
    response: { status: 200, description: 'The erasure', schema: EraseResult },
    errors: ['FORBIDDEN'],
    handler: ({ actor, params, body }) => privacy.erasePerson(actor, params.id, body.reason),
  });
}

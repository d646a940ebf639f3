import { z } from 'zod';
import { issueRule } from '../../shared/validation-issues.js';
import { AbsenceCategoryCode, MAX_ABSENCE_CATEGORIES } from '../../domain/excuses/absence-categories.js';
import { MAX_EXCUSE_DOCUMENT_BYTES } from '../../domain/excuses/excuse-document.js';
import { MAX_EXCUSE_DAYS } from '../../domain/excuses/excuse-service.js';
import { EXCUSE_DOCUMENT_TYPES, EXCUSE_STATUSES } from '../../domain/ports/excuses.js';
import type { RouteRegistry } from '../define-route.js';
import type { HttpContext } from '../http-context.js';
import { IdParams, PageQuery, pageOf, CalendarDay as Day } from '../schemas.js';
import { CursorQuery, encodeCursor, NextCursor } from '../keyset-cursor.js';

export const CategorySchema = z
  .object({
    code: AbsenceCategoryCode.describe('Upper-case code carried by records, summaries and exports, e.g. MEDICAL'),
    label: z.string().trim().min(1).max(100),
    authorised: z.boolean().describe('An authorised absence (illness, school trip) or not'),
  })
  .describe('An absence category');

const CategoriesSchema = z.object({ items: z.array(CategorySchema) });

const CategoriesBody = z.object({
  categories: z.array(CategorySchema).min(1).max(MAX_ABSENCE_CATEGORIES).describe('The whole list; it replaces the stored one'),
});

const ExcuseSchema = z
  .object({
    id: z.string(),
    studentId: z.string(),
    studentName: z.string(),
    studentNumber: z.string().nullable(),
    submittedBy: z.string(),
    subjectId: z.string().nullable().describe('The subject excused; null: every subject of the student'),
    sessionId: z.string().nullable().describe('The one session excused; null: every session of the day range'),
    fromDay: z.string(),
    toDay: z.string(),
    category: z.string(),
    text: z.string(),
    document: z
      .object({ fileName: z.string(), contentType: z.enum(EXCUSE_DOCUMENT_TYPES), size: z.number().int() })
      .nullable()
      .describe('The attached document (GET /excuses/{id}/document), null when none'),
    status: z.enum(EXCUSE_STATUSES),
    decidedBy: z.string().nullable(),
    decidedAt: z.date().nullable(),
    decisionNote: z.string().nullable(),
    createdAt: z.date(),
    updatedAt: z.date(),
  })
  .describe("A student's excuse request");

export const SubmitBody = z
  .object({
    sessionId: z.string().min(1).max(100).optional().describe('One session, past or future'),
    subjectId: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe("With fromDay and toDay: only this subject (default: all the student's subjects)"),
    fromDay: Day.optional(),
    toDay: Day.optional().describe(`At most ${MAX_EXCUSE_DAYS} days after fromDay`),
    category: z.string().trim().min(1).max(32).describe('An absence category code of the organisation'),
    text: z.string().max(2_000).default(''),
  })
  .refine((b) => b.sessionId !== undefined || (b.fromDay !== undefined && b.toDay !== undefined), {
    ...issueRule('sessionOrDays', 'Give a sessionId, or fromDay and toDay'),
    path: ['fromDay'],
  })
  .refine((b) => b.sessionId === undefined || (b.fromDay === undefined && b.toDay === undefined && b.subjectId === undefined), {
    ...issueRule('sessionOrDays', 'A sessionId excludes subjectId, fromDay and toDay'),
    path: ['sessionId'],
  });

const ListQuery = PageQuery.extend({
  status: z.enum(EXCUSE_STATUSES).optional(),
  studentId: z.string().min(1).max(100).optional().describe("Staff only: one student's excuses"),
  cursor: CursorQuery.optional(),
  offset: PageQuery.shape.offset
    .describe('Deprecated: page with `cursor` (an offset shifts when an excuse is decided meanwhile). Not with `cursor`')
    .meta({ deprecated: true }),
}).refine((q) => q.cursor === undefined || q.offset === 0, {
  ...issueRule('invalid', 'Page with cursor or with offset, not both.'),
  path: ['offset'],
});

const DecisionBody = z.object({
  note: z.string().trim().max(1_000).optional().describe('Told to the student with the decision'),
  updatedAt: z.iso
    .datetime({ offset: true })
    .optional()
    .describe(
      "The excuse's `updatedAt` the decider was shown: a different one (the student edited it since) answers `RECORD_CHANGED` " +
        'with the current excuse in `details.excuse`, nothing decided. Without it, the excuse as read when the request arrives.',
    ),
});

const DecisionSchema = z.object({
  excuse: ExcuseSchema,
  recordsChanged: z
    .number()
    .int()
    .describe('Records of settled sessions made excused by this approval; sessions still to close apply it when they close'),
});

const WHO =
  'A student sees their own excuses; a teacher those for subjects they teach; an admin every excuse of the organisation ' +
  "(an excuse for all subjects is seen and decided by admins only). Another student's excuse answers EXCUSE_NOT_FOUND.";

/** Absence categories and excuse requests (docs/absences.md). */
export function excuseRoutes(routes: RouteRegistry, ctx: HttpContext): void {
  const { excuses, absenceCategories } = ctx.services;

  routes.define({
    method: 'get',
    path: '/absence-categories',
    summary: "The organisation's absence categories",
    tags: ['excuses'],
    access: 'authenticated',
    response: {
      status: 200,
      description: 'The categories (the defaults MEDICAL, SCHOOL_TRIP, UNAUTHORISED until an admin sets some)',
      schema: CategoriesSchema,
    },
    handler: async ({ actor }) => ({ items: await absenceCategories.list(actor) }),
  });

  routes.define({
    method: 'put',
    path: '/absence-categories',
    summary: "Replace the organisation's absence categories",
    description: 'Records already excused keep their category code. Audited.',
    tags: ['excuses'],
    access: ['admin'],
    body: CategoriesBody,
    response: { status: 200, description: 'The stored categories', schema: CategoriesSchema },
    handler: async ({ actor, body }) => ({ items: await absenceCategories.replace(actor, body.categories) }),
  });

  routes.define({
    method: 'post',
    path: '/excuses',
    summary: 'Submit an excuse for a session or a range of days (students)',
    description:
      'Pending until a teacher of the subject or an admin decides. Attach a document with PUT /excuses/{id}/document. ' +
      'While the student has a pending excuse of the same scope (the same session; or the same subject, or all, and the same ' +
      'days), a submission creates nothing and answers that excuse with 200, so staff decide it once: unchanged when sent again ' +
      "as it stands (a double tap, a retry); with the category and text just sent otherwise (the student's edit, audited " +
      '`excuse.edit`; a document attached stays). Once it is decided, a new one may be submitted. A student has at most ' +
      'MAX_PENDING_EXCUSES (20) excuses waiting: a new scope beyond answers 409 EXCUSES_PENDING_LIMIT (details.maxPending) ' +
      'until staff decide some.',
    tags: ['excuses'],
    access: ['student'],
    body: SubmitBody,
    response: {
      status: 201,
      description: 'The new pending excuse',
      schema: ExcuseSchema,
      also: [
        {
          status: 200,
          description: 'The pending excuse of the same scope already submitted (nothing created), with the category and text just sent',
        },
      ],
    },
    errors: ['ABSENCE_CATEGORY_UNKNOWN', 'SESSION_NOT_FOUND', 'NOT_ENROLLED', 'EXCUSES_PENDING_LIMIT', 'CONFLICT'],
    handler: async ({ actor, body, setStatus }) => {
      const { excuse, created } = await excuses.submit(actor, body);
      if (!created) setStatus(200);
      return excuse;
    },
  });

  routes.define({
    method: 'get',
    path: '/excuses',
    summary: 'Excuses the caller may see, newest first',
    description:
      `${WHO} Paged by \`cursor\`: each page's \`nextCursor\`, sent back, gives the excuses after its last one, so a decision ` +
      'taken meanwhile (on another screen) neither skips one nor shows one twice. `total` counts every excuse of the filter.',
    tags: ['excuses'],
    access: 'authenticated',
    query: ListQuery,
    response: { status: 200, description: 'A page of excuses', schema: pageOf(ExcuseSchema).extend({ nextCursor: NextCursor }) },
    handler: async ({ actor, query }) => {
      const { next, ...page } = await excuses.list(actor, { ...query, after: query.cursor });
      return { ...page, limit: query.limit, offset: query.offset, nextCursor: next ? encodeCursor(next) : null };
    },
  });

  routes.define({
    method: 'get',
    path: '/excuses/:id',
    summary: 'One excuse',
    description: WHO,
    tags: ['excuses'],
    access: 'authenticated',
    params: IdParams,
    response: { status: 200, description: 'The excuse', schema: ExcuseSchema },
    errors: ['EXCUSE_NOT_FOUND', 'NOT_SUBJECT_TEACHER'],
    handler: ({ actor, params }) => excuses.get(actor, params.id),
  });

  routes.define({
    method: 'put',
    path: '/excuses/:id/document',
    cost: 'heavy',
    summary: 'Attach the document of a pending excuse (its student)',
    description:
      'One file under `document`: a PDF, JPEG or PNG of at most 5 MB, recognised by its first bytes (the name and type ' +
      'sent are ignored). It replaces an earlier one. Stored in the store; never opened by the server. At most 20 of a ' +
      "student's pending excuses carry a document: a document for another answers 409 EXCUSES_PENDING_LIMIT before it is read " +
      '(and, for one stored meanwhile, after).',
    tags: ['excuses'],
    access: ['student'],
    params: IdParams,
    files: {
      field: 'document',
      min: 1,
      max: 1,
      maxBytes: MAX_EXCUSE_DOCUMENT_BYTES,
      description: 'The document (PDF, JPEG or PNG, at most 5 MB).',
      admit: async (actor, params) => void (await excuses.assertMayAttach(actor, params.id)),
    },
    response: { status: 200, description: 'The excuse with its document', schema: ExcuseSchema },
    errors: ['EXCUSE_NOT_FOUND', 'EXCUSE_DECIDED', 'DOCUMENT_UNSUPPORTED_TYPE', 'PAYLOAD_TOO_LARGE', 'EXCUSES_PENDING_LIMIT'],
    handler: ({ actor, params, files }) => excuses.attachDocument(actor, params.id, files[0]!),
  });

  routes.define({
    method: 'get',
    path: '/excuses/:id/document',
    summary: "An excuse's document, as a download",
    description: `${WHO} Served as an attachment with its checked type, nosniff and a sandboxing Content-Security-Policy.`,
    tags: ['excuses'],
    access: 'authenticated',
    params: IdParams,
    response: {
      status: 200,
      description: 'The document (application/pdf, image/jpeg or image/png)',
      contentType: 'application/octet-stream',
    },
    errors: ['EXCUSE_NOT_FOUND', 'NOT_SUBJECT_TEACHER', 'NOT_FOUND'],
    handler: async ({ actor, params, res }) => {
      const doc = await excuses.document(actor, params.id);
      res.setHeader('Cache-Control', 'private, no-store');
      res.setHeader('X-Content-Type-Options', 'nosniff');
      // Opened in a tab anyway, the document can run nothing in the application's origin.
      res.setHeader('Content-Security-Policy', "sandbox; default-src 'none'");
      res.attachment(doc.fileName);
      res.type(doc.contentType);
      return doc.bytes;
    },
  });

  for (const decision of ['approve', 'decline'] as const) {
    routes.define({
      method: 'post',
      path: `/excuses/:id/${decision}`,
      summary:
        decision === 'approve' ? 'Approve an excuse: the absences it covers become excused' : 'Decline an excuse (no record changes)',
      description:
        (decision === 'approve'
          ? "The student's absent, pending or rejected records in settled sessions it covers become `excused` with its category " +
            '(audited record changes, daily summaries recomputed); sessions still to close apply it when they close. Present and late stay.'
          : 'The excuse is closed as declined; records are left as they are.') +
        ' Decided only as the decider saw it: a change of its category, text or document since (`updatedAt` in the body, else the ' +
        'read when the request arrives) answers `RECORD_CHANGED` with the excuse as it stands in `details.excuse`; decide again on it.',
      tags: ['excuses'],
      access: ['teacher', 'admin'],
      params: IdParams,
      body: DecisionBody,
      response: { status: 200, description: 'The decided excuse', schema: DecisionSchema },
      errors: ['EXCUSE_NOT_FOUND', 'EXCUSE_DECIDED', 'RECORD_CHANGED', 'NOT_SUBJECT_TEACHER'],
      handler: ({ actor, params, body }) =>
        excuses.decide(actor, params.id, decision, body.note ?? null, body.updatedAt === undefined ? undefined : new Date(body.updatedAt)),
    });
  }
}

import { z } from 'zod';
import { ErrorCodes, type ErrorCode } from '../shared/errors.js';
import { ROLES } from '../domain/ports/common.js';
import { ROW_PROBLEMS, type RowProblemCode } from '../shared/row-problems.js';
import { LocationSchema } from '../domain/subjects/subject-input.js';
import { issueRule } from '../shared/validation-issues.js';

/** Schemas shared by several route groups. Dates are Date objects here and ISO strings on the wire. */

export const RoleSchema = z.enum(ROLES);

/** A row's problem as a code the pages word (src/shared/row-problems.ts), beside its English `reason`. */
export const RowProblemSchema = z
  .object({
    code: z.enum(Object.keys(ROW_PROBLEMS) as [RowProblemCode, ...RowProblemCode[]]),
    params: z.record(z.string(), z.union([z.string(), z.number()])).describe('The values the sentence names, by placeholder'),
    column: z.string().optional().describe('The column the problem is in, for a problem of one cell (never the cell itself)'),
  })
  .describe('The reason as a code and its parameters (`refused`: a coded error, its `code` and `message`)');

/** A change (PATCH) naming no field: `.refine(hasSomeField, NOTHING_TO_CHANGE)`. */
export const NOTHING_TO_CHANGE = issueRule('nothingToChange', 'Give at least one field to change');

export const IdParams = z.object({ id: z.string().min(1).max(100) });

export const PAGE_DEFAULT = 50;
export const PAGE_MAX = 200;

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(PAGE_MAX).default(PAGE_DEFAULT),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

/**
 * A calendar day 'YYYY-MM-DD' in the organisation's time zone. Years 1900-2999 only: the time
 * zone database (Intl) has no offsets for the years before, and no school record lies outside.
 */
export const CalendarDay = z.iso
  .date()
  .refine(
    (day) => day >= '1900-01-01' && day <= '2999-12-31',
    issueRule('dayOutOfRange', 'Must be a day between 1900-01-01 and 2999-12-31.', { minimum: '1900-01-01', maximum: '2999-12-31' }),
  )
  .describe("Calendar day YYYY-MM-DD in the organisation's time zone (1900-01-01 to 2999-12-31)");

export const BooleanQuery = z.enum(['true', 'false']).transform((v) => v === 'true');

/** A CSV import's file, as the `csv` field of JSON or the whole text/csv body. */
export const CsvImportBody = z.object({ csv: z.string().min(1).max(5_000_000) });

/** A CSV import checked whole (users, subjects): `dryRun` checks and writes nothing. */
export const CsvImportQuery = z.object({
  dryRun: BooleanQuery.optional().describe('true: check every row and write nothing (200 with `checked`, or the same 400)'),
});

/** `{ items, total, limit, offset }` of the given item schema. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    total: z.number().int(),
    limit: z.number().int(),
    offset: z.number().int(),
  });
}

export const PublicUserSchema = z
  .object({
    id: z.string(),
    orgId: z.string(),
    email: z.string(),
    name: z.string(),
    role: RoleSchema,
    studentNumber: z.string().nullable(),
    active: z.boolean(),
    hasPassword: z.boolean().describe('False until a password is set; such users cannot log in.'),
    mustChangePassword: z
      .boolean()
      .describe('True until the user changes the password an admin set; other routes answer PASSWORD_CHANGE_REQUIRED meanwhile.'),
    createdAt: z.date(),
    updatedAt: z.date(),
  })
  .describe('A user (never the password hash)');

export const SubjectSchema = z
  .object({
    id: z.string(),
    orgId: z.string(),
    code: z.string(),
    name: z.string(),
    teacherIds: z.array(z.string()),
    location: LocationSchema.nullable(),
    allowedIpRanges: z.array(z.string()),
    archivedAt: z
      .date()
      .nullable()
      .describe('When an admin archived it (records kept; no new session, meeting or enrolment); null: in use'),
    createdAt: z.date(),
    updatedAt: z.date(),
  })
  .describe('A subject with its teachers, classroom location and allowed networks');

export const ErrorResponseSchema = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(ErrorCodes) as [ErrorCode, ...ErrorCode[]]),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .describe('Error response');

import { z } from 'zod';
import { PASSWORD_MAX_BYTES, PASSWORD_MIN_LENGTH } from '../../domain/accounts/passwords.js';
import type { RouteRegistry } from '../define-route.js';
import type { HttpContext } from '../http-context.js';
import { DEACTIVATE_USERS_MAX } from '../../domain/users/bulk-deactivation.js';
import {
  BooleanQuery,
  CsvImportBody,
  CsvImportQuery,
  IdParams,
  PageQuery,
  PublicUserSchema,
  RoleSchema,
  pageOf,
  NOTHING_TO_CHANGE,
} from '../schemas.js';

const Email = z.email().max(320);
const PASSWORD_RULE = `At least ${PASSWORD_MIN_LENGTH} characters and at most ${PASSWORD_MAX_BYTES} bytes in UTF-8`;
// The schema only bounds the body; the byte rule is the domain's (tooManyBytes), as on the
// set-password routes, so one password is refused with one code whichever route chose it.
const Password = z.string().min(PASSWORD_MIN_LENGTH).max(200).describe(PASSWORD_RULE);
const StudentNumber = z.string().trim().max(64);

const ListQuery = PageQuery.extend({
  role: RoleSchema.optional(),
  active: BooleanQuery.optional(),
  hasPassword: BooleanQuery.optional().describe('false: only users who have not chosen a password yet (an invitation not accepted)'),
  q: z.string().trim().min(1).max(200).optional().describe('Substring of name, email or student number, accents and case ignored'),
});

const CreateBody = z.object({
  name: z.string().trim().min(1).max(200),
  email: Email,
  role: RoleSchema,
  studentNumber: StudentNumber.nullish().describe('Required for students'),
  password: Password.optional().describe(`${PASSWORD_RULE}. Omit to create an account that cannot log in yet (then invite the user)`),
  mustChangePassword: z.boolean().optional().describe('The user must change this password at first login (default false)'),
});

export const PatchBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    email: Email,
    role: RoleSchema,
    studentNumber: StudentNumber.nullable(),
    password: Password,
    active: z.boolean(),
    mustChangePassword: z.boolean().describe('True: the user must change their password before anything else'),
  })
  .partial()
  .refine((b) => Object.keys(b).length > 0, NOTHING_TO_CHANGE);

/** As many as one enrolment request takes. */
export const STUDENT_NUMBERS_MAX = 1_000;
const StudentNumbersBody = z.object({
  studentNumbers: z.array(StudentNumber.min(1)).min(1).max(STUDENT_NUMBERS_MAX).describe('Exact student numbers'),
});

const DeactivateBody = z.object({
  userIds: z.array(z.string().min(1).max(100)).min(1).max(DEACTIVATE_USERS_MAX),
  removeFromSubjects: z
    .boolean()
    .optional()
    .describe(
      'true: the students listed also leave every subject in use they are enrolled in (archived subjects keep their class list); records are kept either way',
    ),
});
const DeactivateResult = z.object({
  deactivatedIds: z.array(z.string()).describe('Deactivated by this request'),
  alreadyInactiveIds: z.array(z.string()).describe('Deactivated already: left as they were'),
  notFoundIds: z.array(z.string()).describe('No user of this organisation: nothing done'),
  selfId: z.string().nullable().describe('Your own id when listed: left active, the others done all the same'),
  unenrolled: z.number().int().describe('Enrolments removed (removeFromSubjects)'),
});

const ImportResult = z.object({
  created: z.number().int(),
  users: z.array(PublicUserSchema),
  checked: z.number().int().describe('Rows found fine: all of them (nothing is imported otherwise)'),
});

const ADMIN = ['admin'] as const;

/** Admin management of the organisation's accounts. */
export function userRoutes(routes: RouteRegistry, ctx: HttpContext): void {
  const { users, userImport, deactivation } = ctx.services;

  routes.define({
    method: 'get',
    path: '/users',
    summary: 'List users',
    tags: ['users'],
    access: ADMIN,
    query: ListQuery,
    response: { status: 200, description: 'A page of users', schema: pageOf(PublicUserSchema) },
    handler: async ({ actor, query }) => {
      const page = await users.list(actor, query);
      return { ...page, limit: query.limit, offset: query.offset };
    },
  });

  routes.define({
    method: 'post',
    path: '/users',
    summary: 'Create a user',
    tags: ['users'],
    access: ADMIN,
    body: CreateBody,
    response: { status: 201, description: 'The new user', schema: PublicUserSchema },
    errors: ['EMAIL_TAKEN'],
    handler: ({ actor, body }) => users.create(actor, body),
  });

  routes.define({
    method: 'post',
    path: '/users/import',
    cost: 'heavy',
    summary: 'Import users from CSV',
    description:
      'Columns: name,email,role,student_number and optionally password. All or nothing: when any row is bad, ' +
      'nothing is written and the 400 answer lists the first 100 bad rows in `details.rows` as { line, email, reason, problems } (`reason` in English, `problems` as codes), ' +
      'with `details.rowsInvalid` (how many rows are bad), `details.problemCounts` (each problem code over all of them) and `details.lines` (every bad line) ' +
      '(the header is line 1). Users imported without a password cannot log in until they follow an invitation or an admin sets one; the password of a row is theirs at once, with no forced change. ' +
      'With `dryRun=true` every row is checked the same way and nothing is written: the admin console checks a ' +
      'whole file first, then sends it in chunks to show progress.',
    tags: ['users'],
    access: ADMIN,
    query: CsvImportQuery,
    body: CsvImportBody,
    textBody: { contentType: 'text/csv', field: 'csv' },
    response: {
      status: 201,
      description: 'Every row was imported',
      schema: ImportResult,
      also: [{ status: 200, description: 'Dry run: every row is fine and nothing was written (`created` 0)' }],
    },
    errors: ['EMAIL_TAKEN'],
    handler: async ({ actor, query, body, setStatus }) => {
      const result = await userImport.run(actor, body.csv, { dryRun: query.dryRun === true });
      if (query.dryRun) setStatus(200);
      return result;
    },
  });

  routes.define({
    method: 'post',
    path: '/users/by-student-number',
    summary: 'Find users by exact student numbers',
    description:
      `At most ${STUDENT_NUMBERS_MAX} numbers (a POST, so that a class list fits). Every user holding one of them, ` +
      'deactivated ones too (a number held twice gives both); an unknown number gives none. The admin console ' +
      'enrols a class by its student numbers this way instead of reading every student.',
    tags: ['users'],
    access: ADMIN,
    body: StudentNumbersBody,
    response: { status: 200, description: 'The users found', schema: z.object({ items: z.array(PublicUserSchema) }) },
    handler: async ({ actor, body }) => ({ items: await users.findByStudentNumbers(actor, body.studentNumbers) }),
  });

  routes.define({
    method: 'post',
    path: '/users/deactivate',
    cost: 'heavy',
    summary: 'Deactivate many users (leavers)',
    description:
      `At most ${DEACTIVATE_USERS_MAX} ids. Each on its own, not all or nothing: every listed user of the organisation ` +
      'who is active is deactivated as by POST /users/{id}/deactivate (refresh tokens revoked, set-password links voided, ' +
      'open sockets cut on every node, one user.deactivate audit entry each); the answer lists the ids left alone: ' +
      'already inactive, not found (another organisation, or deleted), and your own. Records are kept.',
    tags: ['users'],
    access: ADMIN,
    body: DeactivateBody,
    response: { status: 200, description: 'What was done with each id', schema: DeactivateResult },
    handler: ({ actor, body }) => deactivation.run(actor, body.userIds, body.removeFromSubjects === true),
  });

  routes.define({
    method: 'get',
    path: '/users/:id',
    summary: 'Get a user',
    tags: ['users'],
    access: ADMIN,
    params: IdParams,
    response: { status: 200, description: 'The user', schema: PublicUserSchema },
    handler: ({ actor, params }) => users.get(actor, params.id),
  });

  routes.define({
    method: 'patch',
    path: '/users/:id',
    summary: 'Change a user',
    description: 'Setting active to false is the same as deactivating. Admins cannot deactivate or demote themselves.',
    tags: ['users'],
    access: ADMIN,
    params: IdParams,
    body: PatchBody,
    response: { status: 200, description: 'The changed user', schema: PublicUserSchema },
    errors: ['EMAIL_TAKEN', 'CONFLICT'],
    handler: ({ actor, params, body }) => users.update(actor, params.id, body),
  });

  routes.define({
    method: 'post',
    path: '/users/:id/deactivate',
    summary: 'Deactivate a user and revoke their refresh tokens',
    tags: ['users'],
    access: ADMIN,
    params: IdParams,
    response: { status: 200, description: 'The deactivated user', schema: PublicUserSchema },
    errors: ['CONFLICT'],
    handler: ({ actor, params }) => users.deactivate(actor, params.id),
  });
}

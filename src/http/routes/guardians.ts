import { z } from 'zod';
import { LANGUAGE_PATTERN, MAX_GUARDIANS } from '../../domain/guardians/guardian-service.js';
import { EMAIL_CATEGORIES } from '../../shared/alerts.js';
import { codedPattern } from '../../shared/coded-pattern.js';
import type { RouteRegistry } from '../define-route.js';
import type { HttpContext } from '../http-context.js';
import { CsvImportBody, IdParams } from '../schemas.js';

export const ContactSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    relation: z.string().trim().min(1).max(50).describe('mother, father, guardian, ...'),
    email: z.email().max(320),
    language: codedPattern(z.string(), LANGUAGE_PATTERN, 'language', 'not a language tag such as en or fr').describe(
      'Language of their messages, a BCP 47 tag such as en or fr',
    ),
  })
  .describe('A guardian contact');

const ContactViewSchema = ContactSchema.extend({
  unsubscribed: z
    .array(z.enum(EMAIL_CATEGORIES))
    .optional()
    .describe('Email categories this address stopped for this student (the link in a guardian email); absent when none'),
}).describe('A guardian contact');

const ContactsSchema = z.object({ items: z.array(ContactViewSchema) });
const ContactsBody = z.object({
  contacts: z.array(ContactSchema).max(MAX_GUARDIANS).describe('The whole list; it replaces the stored one ([] removes it)'),
});
const ImportResult = z.object({ students: z.number().int(), contacts: z.number().int() });

/** Guardian contacts on student profiles (docs/absences.md). */
export function guardianRoutes(routes: RouteRegistry, ctx: HttpContext): void {
  const { guardians } = ctx.services;

  routes.define({
    method: 'get',
    path: '/users/:id/guardians',
    summary: "A student's guardian contacts (admins, the student themself)",
    tags: ['users'],
    access: 'authenticated',
    params: IdParams,
    response: { status: 200, description: 'The contacts, empty when none', schema: ContactsSchema },
    handler: async ({ actor, params }) => ({ items: await guardians.get(actor, params.id) }),
  });

  routes.define({
    method: 'put',
    path: '/users/:id/guardians',
    summary: "Replace a student's guardian contacts (admins)",
    description:
      'Audited on the user (`user.guardians`). An address that unsubscribed (the link in a guardian email) stays unsubscribed ' +
      'through a replacement or an import.',
    tags: ['users'],
    access: ['admin'],
    params: IdParams,
    body: ContactsBody,
    response: { status: 200, description: 'The stored contacts', schema: ContactsSchema },
    handler: async ({ actor, params, body }) => ({ items: await guardians.put(actor, params.id, body.contacts) }),
  });

  routes.define({
    method: 'post',
    path: '/guardians/import',
    cost: 'heavy',
    summary: 'Import guardian contacts from CSV (admins)',
    description:
      'Columns: name, relation, email, optional language (default en), and student_number or student_email naming the ' +
      "student. Each student named gets exactly the file's rows as their contacts. All or nothing: when any row is bad, " +
      'nothing is written and the 400 answer lists the first 100 bad rows in `details.rows` as { line, reason, problems } (`reason` in English, `problems` as codes), ' +
      'with `details.rowsInvalid` (how many rows are bad), `details.problemCounts` (each problem code over all of them) and `details.lines` (every bad line).',
    tags: ['users'],
    access: ['admin'],
    body: CsvImportBody,
    textBody: { contentType: 'text/csv', field: 'csv' },
    response: { status: 200, description: 'Students whose contacts were replaced, and contacts written', schema: ImportResult },
    handler: ({ actor, body }) => guardians.importCsv(actor, body.csv),
  });
}

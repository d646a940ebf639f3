import { z } from 'zod';
import { BUNDLE_FILES, MAX_ROWS_PER_FILE } from '../../domain/oneroster/bundle.js';
import { ATTENDANCE_COLUMNS } from '../../domain/oneroster/attendance-export.js';
import { ROW_ACTIONS } from '../../domain/oneroster/oneroster-import.js';
import { toCsvStream } from '../csv.js';
import type { RouteRegistry } from '../define-route.js';
import type { HttpContext } from '../http-context.js';
import { BooleanQuery, CalendarDay as Day, RowProblemSchema } from '../schemas.js';

const CsvText = z.string().max(20_000_000);
const BundleBody = z
  .object({
    manifest: CsvText.optional().describe('manifest.csv: checked when sent (OneRoster 1.1, bulk files only)'),
    orgs: CsvText.optional().describe('orgs.csv'),
    academicSessions: CsvText.optional().describe('academicSessions.csv'),
    users: CsvText.optional().describe('users.csv'),
    classes: CsvText.optional().describe('classes.csv'),
    enrollments: CsvText.optional().describe('enrollments.csv'),
  })
  .describe('The text of each CSV file of the bundle, by its name without .csv');
const ImportQuery = z.object({
  dryRun: BooleanQuery.optional().describe('true: check and match every row and write nothing; the report says what a real run would do'),
});
const Counts = z.object(
  Object.fromEntries(ROW_ACTIONS.map((a) => [a, z.number().int()])) as Record<(typeof ROW_ACTIONS)[number], z.ZodNumber>,
);
const ReportSchema = z.object({
  dryRun: z.boolean(),
  files: z.object(Object.fromEntries(BUNDLE_FILES.map((f) => [f, Counts])) as Record<(typeof BUNDLE_FILES)[number], typeof Counts>),
  rows: z.array(
    z.object({
      file: z.enum(BUNDLE_FILES),
      line: z.number().int().describe('Line in the file; the header is line 1'),
      sourcedId: z.string(),
      action: z.enum(ROW_ACTIONS),
      reason: z.string().nullable().describe('Why a row was skipped or refused, or what an update changes (English)'),
      problem: RowProblemSchema.nullable(),
    }),
  ),
});
const ExportQuery = z.object({
  from: Day.describe('First day of the sessions exported'),
  to: Day.describe('Last day of the sessions exported'),
  subjectId: z.string().min(1).max(100).optional().describe('Only this subject'),
});

const ADMIN = ['admin'] as const;

/** OneRoster 1.1 CSV: the school information system's rosters in, attendance results out (docs/oneroster.md). */
export function oneRosterRoutes(routes: RouteRegistry, ctx: HttpContext): void {
  const { oneRosterImport, oneRosterExport } = ctx.services;

  routes.define({
    method: 'post',
    path: '/oneroster/import',
    cost: 'heavy',
    summary: 'Import a OneRoster 1.1 CSV bundle',
    description:
      'Creates or updates students and teachers (users), classes (subjects), enrollments (enrolments and subject ' +
      'teachers), and keeps orgs and academicSessions, matched by sourcedId, then by email or class code. Idempotent: ' +
      'a second run of the same bundle changes nothing. A bad row is reported (`action` error with its reason) and ' +
      `the others are imported; a bundle whose files lack a column read, exceed ${MAX_ROWS_PER_FILE} rows, or whose ` +
      'manifest names delta files or another version, is refused whole (400, `details.files`). Nothing is ever deleted.',
    tags: ['oneroster'],
    access: ADMIN,
    query: ImportQuery,
    body: BundleBody,
    response: { status: 200, description: 'What was done (or, with dryRun, would be done) with each row', schema: ReportSchema },
    handler: ({ actor, query, body }) => oneRosterImport.run(actor, body, { dryRun: query.dryRun === true }),
  });

  routes.define({
    method: 'get',
    path: '/oneroster/attendance.csv',
    cost: 'heavy',
    summary: 'Attendance results for the school information system, as CSV',
    description:
      'One row per student per settled (closing or closed) session of the day range, oldest session first, with the ' +
      'OneRoster sourcedIds of the class and the student where an import linked them. Times in the organisation zone.',
    tags: ['oneroster'],
    access: ADMIN,
    query: ExportQuery,
    response: { status: 200, description: `CSV with columns ${ATTENDANCE_COLUMNS.join(', ')}`, contentType: 'text/csv' },
    errors: ['NOT_FOUND'],
    handler: async ({ actor, query, res }) => {
      const rows = await oneRosterExport.open(actor, query);
      res.attachment('attendance.csv');
      return toCsvStream(ATTENDANCE_COLUMNS, rows);
    },
  });
}

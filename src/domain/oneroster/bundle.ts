import { parse } from 'csv-parse/sync';
import { AppError } from '../../shared/app-error.js';
import { englishProblem, rowProblem, type RowProblem } from '../../shared/row-problems.js';
import type { PartialInput } from '../../shared/partial-input.js';

/** The files of a OneRoster 1.1 CSV bundle the import reads, in the order it applies them. */
export const BUNDLE_FILES = ['orgs', 'academicSessions', 'users', 'classes', 'enrollments'] as const;
export type BundleFile = (typeof BUNDLE_FILES)[number];

/** A bundle as sent: the text of each CSV file by its name without `.csv`. */
export type Bundle = PartialInput<Record<BundleFile | 'manifest', string>>;

/**
 * Columns the import reads (OneRoster 1.1 CSV headers, case-sensitive). Every 1.1 file carries
 * all of its spec's headers; the others (dateLastModified, grades, periods...) are ignored.
 */
export const READ_COLUMNS: Record<BundleFile, readonly string[]> = {
  orgs: ['sourcedId', 'name', 'type'],
  academicSessions: ['sourcedId', 'title', 'type', 'startDate', 'endDate'],
  users: ['sourcedId', 'enabledUser', 'role', 'username', 'givenName', 'familyName', 'email'],
  classes: ['sourcedId', 'title', 'termSourcedIds'],
  enrollments: ['sourcedId', 'classSourcedId', 'userSourcedId', 'role'],
};

export const MAX_ROWS_PER_FILE = 20_000;

/** One data row; `line` is its line in the file (the header is line 1). */
export interface BundleRow {
  line: number;
  fields: Record<string, string>;
}

export type ParsedBundle = Partial<Record<BundleFile, BundleRow[]>>;

/** A reason the bundle is refused whole: `reason` is `problem` in English. */
interface FileProblem {
  file: string;
  line: number;
  reason: string;
  problem: RowProblem;
}

const fileProblem = (file: string, line: number, problem: RowProblem): FileProblem => ({
  file,
  line,
  reason: englishProblem(problem),
  problem,
});

function invalid(message: string, problems: FileProblem[]): AppError {
  return new AppError('VALIDATION_FAILED', message, { files: problems });
}

/**
 * Splits a bundle into rows, refusing it as a whole (VALIDATION_FAILED with `details.files`)
 * when a file is not CSV, lacks a column the import reads or is too long, when the manifest
 * names another OneRoster version or a delta file, or when nothing is left to import. Row
 * contents are checked later, row by row.
 */
export function parseBundle(bundle: Bundle): ParsedBundle {
  const present = new Set(BUNDLE_FILES.filter((f) => bundle[f] !== undefined && bundle[f]!.trim() !== ''));
  if (bundle.manifest !== undefined) checkManifest(bundle.manifest, present);
  if (present.size === 0)
    throw invalid('The bundle has none of the files the import reads.', [
      fileProblem('manifest.csv', 1, rowProblem('bundleEmpty', { files: BUNDLE_FILES.map((f) => `${f}.csv`).join(', ') })),
    ]);
  const parsed: ParsedBundle = {};
  for (const file of BUNDLE_FILES) {
    if (!present.has(file)) continue;
    parsed[file] = readFile(`${file}.csv`, bundle[file]!, READ_COLUMNS[file]);
  }
  return parsed;
}

function checkManifest(text: string, present: Set<BundleFile>): void {
  const rows = readFile('manifest.csv', text, ['propertyName', 'value']);
  const props = new Map(
    rows.map((r) => [r.fields['propertyName']!, { value: (r.fields['value'] ?? '').trim().toLowerCase(), line: r.line }]),
  );
  const problems: FileProblem[] = [];
  const version = props.get('oneroster.version');
  if (version && version.value !== '1.1') problems.push(fileProblem('manifest.csv', version.line, rowProblem('bundleVersion')));
  for (const file of BUNDLE_FILES) {
    const mode = props.get(`file.${file}`);
    if (!mode) continue;
    if (mode.value === 'delta') problems.push(fileProblem('manifest.csv', mode.line, rowProblem('bundleDelta', { file })));
    if (mode.value === 'bulk' && !present.has(file))
      problems.push(fileProblem('manifest.csv', mode.line, rowProblem('bundleFileMissing', { file })));
    // A file the manifest calls absent is not read, whatever was sent.
    if (mode.value === 'absent') present.delete(file);
  }
  if (problems.length > 0) throw invalid('The manifest does not describe a OneRoster 1.1 bulk bundle.', problems);
}

function readFile(file: string, text: string, required: readonly string[]): BundleRow[] {
  let table: Array<{ record: string[]; info: { lines: number } }>;
  try {
    // `info` gives each record's line, right across blank lines and quoted newlines.
    table = parse(text, { bom: true, skip_empty_lines: true, relax_column_count: true, trim: true, info: true }) as unknown as typeof table;
  } catch (err) {
    const line = (err as { lines?: number }).lines ?? 1;
    throw invalid(`${file} is not valid CSV.`, [fileProblem(file, line, rowProblem('unparseableCsv'))]);
  }
  const [header, ...body] = table;
  const columns = header?.record ?? [];
  const missing = required.filter((c) => !columns.includes(c));
  if (missing.length > 0)
    throw invalid(`${file} lacks column(s) ${missing.join(', ')}.`, [
      fileProblem(file, 1, rowProblem('missingColumns', { columns: missing.join(', ') })),
    ]);
  if (body.length > MAX_ROWS_PER_FILE)
    throw invalid(`${file} has more than ${MAX_ROWS_PER_FILE} rows.`, [
      fileProblem(file, MAX_ROWS_PER_FILE + 2, rowProblem('tooManyRows')),
    ]);
  return body.map(({ record, info }) => ({
    line: info.lines,
    fields: Object.fromEntries(columns.map((c, i) => [c, record[i] ?? ''])),
  }));
}

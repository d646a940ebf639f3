import { parse } from 'csv-parse/sync';
import { AppError } from '../shared/app-error.js';
import { rowProblem, type RowProblem } from '../shared/row-problems.js';
import { csvDelimiter } from '../shared/csv-delimiter.js';
import { firstUndecodedLine, NOT_UTF8_MESSAGE } from './csv-encoding.js';

/** One record of an admin's CSV file: the line it ends on (the header is line 1) and its fields by column. */
export interface CsvRow {
  line: number;
  fields: Record<string, string | undefined>;
}

/**
 * Bad rows a refusal describes one by one. Past them only counts and line numbers: a 5,000-row
 * file with a wrong column in each row was answered with every row's problems (about 1 MB), which
 * the admin page then drew as a 5,000-row table.
 */
export const LISTED_ROWS_MAX = 100;

/**
 * VALIDATION_FAILED for a file with bad rows (nothing written): `rows` the first LISTED_ROWS_MAX
 * of them by line, `rowsInvalid` how many there are, `problemCounts` each problem code's count
 * over all of them, and `lines` every bad row's line, so a client can still send the good rows
 * alone (the admin page does).
 */
export function rowsRefused<E extends { line: number; problems: RowProblem[] }>(errors: E[]): AppError {
  const sorted = [...errors].sort((a, b) => a.line - b.line);
  const problemCounts: Record<string, number> = {};
  for (const e of sorted) for (const p of e.problems) problemCounts[p.code] = (problemCounts[p.code] ?? 0) + 1;
  return new AppError('VALIDATION_FAILED', `${errors.length} row(s) are invalid; nothing was imported.`, {
    rows: sorted.slice(0, LISTED_ROWS_MAX),
    rowsInvalid: errors.length,
    problemCounts,
    lines: sorted.map((e) => e.line),
  });
}

/** The details of a file refused whole, in the caller's row error shape. */
export type RefusedRow = (line: number, problems: RowProblem[]) => object;

/**
 * Reads a CSV file an admin uploaded (users, guardian contacts): UTF-8 only, the separator read
 * from the header line, blank lines skipped, fields trimmed; columns by their lower-case header
 * names. A file refused whole (not UTF-8, not CSV, a missing column, too many rows) throws
 * VALIDATION_FAILED with `details.rows` made by `rowError`.
 */
export function readCsvTable(
  csv: string,
  opts: { rowError: RefusedRow; maxRows: number; missingColumns: (columns: string[]) => string[] },
): CsvRow[] {
  const refuse = (message: string, line: number, problem: RowProblem) =>
    new AppError('VALIDATION_FAILED', message, { rows: [opts.rowError(line, [problem])] });
  const undecoded = firstUndecodedLine(csv);
  if (undecoded !== null) throw refuse(NOT_UTF8_MESSAGE, undecoded, rowProblem('notUtf8'));
  let table: Array<{ record: string[]; info: { lines: number } }>;
  try {
    // `info` gives each record's line, which stays right across blank lines and quoted newlines.
    table = parse(csv, {
      bom: true,
      delimiter: csvDelimiter(csv),
      skip_empty_lines: true,
      relax_column_count: true,
      trim: true,
      info: true,
    }) as unknown as typeof table;
  } catch (err) {
    const line = (err as { lines?: number }).lines;
    throw refuse('The file is not valid CSV.', line ?? 1, rowProblem('unparseableCsv'));
  }
  const [header, ...body] = table;
  if (!header) return [];
  const columns = header.record.map((h) => h.trim().toLowerCase());
  const missing = opts.missingColumns(columns);
  if (missing.length > 0) {
    const list = missing.join(', ');
    throw refuse(`Missing column(s): ${list}.`, 1, rowProblem('missingColumns', { columns: list }));
  }
  if (body.length > opts.maxRows) throw new AppError('VALIDATION_FAILED', `At most ${opts.maxRows} rows per file.`);
  return body.map(({ record, info }) => ({ line: info.lines, fields: Object.fromEntries(columns.map((c, j) => [c, record[j]])) }));
}

import { stringify } from 'csv-stringify/sync';

/**
 * How a CSV is laid out for a person rather than a program (an export asked for with `lang=`):
 * its header row in words, the separator the language's spreadsheets split on, and a byte order
 * mark so Excel reads the file as UTF-8. Without it: the keys, commas, no mark.
 */
export interface CsvLayout<K extends string> {
  headings: Readonly<Record<K, string>>;
  delimiter: string;
}

/** Excel reads a CSV without this mark in the machine's legacy code page (é becomes Ã©). */
const BYTE_ORDER_MARK = '\uFEFF';

/**
 * CSV with a header row. Cells that a spreadsheet would run as a formula (=, +, -, @, tab,
 * carriage return first) are prefixed with a quote: exports are opened in Excel. So is any such
 * character after a `,`, a `;` or a line break inside a cell: a spreadsheet set for the other
 * language splits the file on the other separator, where the quoting no longer holds the cell together.
 */
export function toCsv<K extends string>(
  columns: readonly K[],
  rows: readonly Partial<Record<K, unknown>>[],
  layout?: CsvLayout<K>,
): string {
  return headerOf(columns, layout) + body(columns, rows, layout);
}

function headerOf<K extends string>(columns: readonly K[], layout: CsvLayout<K> | undefined): string {
  if (!layout) return stringify([], { header: true, columns: [...columns] });
  const headings = columns.map((c) => neutralise(layout.headings[c]));
  return BYTE_ORDER_MARK + stringify([headings], { delimiter: layout.delimiter });
}

function body<K extends string>(
  columns: readonly K[],
  rows: readonly Partial<Record<K, unknown>>[],
  layout: CsvLayout<K> | undefined,
): string {
  if (rows.length === 0) return '';
  const cells = rows.map((row) => columns.map((c) => neutralise(row[c])));
  return layout ? stringify(cells, { delimiter: layout.delimiter }) : stringify(cells);
}

/**
 * Where a spreadsheet may start a cell with a formula: the value's start, or after either
 * language's separator or a line break (quotes there are not the field's and are skipped over).
 */
const FORMULA_AT_CELL_START = /^(?=[=+\-@\t\r])|(?<=[,;\r\n])(?="*[=+\-@\t\r])/g;

function neutralise(value: unknown): string {
  if (value === null || value === undefined) return '';
  return String(value).replace(FORMULA_AT_CELL_START, "'");
}

/** The same CSV, written a chunk of rows at a time (the header once, first). */
export async function* toCsvStream<K extends string>(
  columns: readonly K[],
  chunks: AsyncIterable<readonly Partial<Record<K, unknown>>[]>,
  layout?: CsvLayout<K>,
): AsyncGenerator<string> {
  yield headerOf(columns, layout);
  for await (const rows of chunks) {
    if (rows.length > 0) yield body(columns, rows, layout);
  }
}

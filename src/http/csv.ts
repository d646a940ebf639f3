import { stringify } from 'csv-stringify/sync';

/**
 * CSV with a header row. Cells that a spreadsheet would run as a formula (=, +, -, @, tab,
 * carriage return first) are prefixed with a quote: exports are opened in Excel.
 */
export function toCsv<K extends string>(columns: readonly K[], rows: readonly Partial<Record<K, unknown>>[]): string {
  return stringify(
    rows.map((row) => columns.map((c) => neutralise(row[c]))),
    { header: true, columns: [...columns] },
  );
}

function neutralise(value: unknown): string {
  if (value === null || value === undefined) return '';
  const s = String(value);
  return /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
}

/** The same CSV, written a chunk of rows at a time (the header once, first). */
export async function* toCsvStream<K extends string>(
  columns: readonly K[],
  chunks: AsyncIterable<readonly Partial<Record<K, unknown>>[]>,
): AsyncGenerator<string> {
  yield stringify([], { header: true, columns: [...columns] });
  for await (const rows of chunks) {
    if (rows.length > 0) yield stringify(rows.map((row) => columns.map((c) => neutralise(row[c]))));
  }
}

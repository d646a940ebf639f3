/**
 * Splits a CSV file into records the way the server's parser counts them (quoted fields may
 * hold commas and newlines; blank lines are skipped), so the admin console can send a file in
 * chunks and still name every row by its line in the original file.
 */

export interface CsvRecord {
  /** The record's text, without its line ending. */
  text: string;
  /** Line of the file the record ends on (1-based): what the server reports as `line`. */
  line: number;
  /** Lines the record spans (more than 1 with quoted newlines). */
  lines: number;
}

export interface CsvFile {
  header: CsvRecord | null;
  rows: CsvRecord[];
}

export function splitCsv(csv: string): CsvFile {
  const text = csv.startsWith('\uFEFF') ? csv.slice(1) : csv;
  const records: CsvRecord[] = [];
  let start = 0;
  let line = 1;
  let startLine = 1;
  let quoted = false;
  const push = (end: number) => {
    const body = text.slice(start, end).replace(/\r$/, '');
    if (body.trim() !== '') records.push({ text: body, line, lines: line - startLine + 1 });
  };
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c === '"') quoted = !quoted;
    else if (c === '\n') {
      if (!quoted) {
        push(i);
        start = i + 1;
        startLine = line + 1;
      }
      line += 1;
    }
  }
  if (start < text.length) push(text.length);
  const [header = null, ...rows] = records;
  return { header, rows };
}

/**
 * Whether these line numbers are the server's: its parser counts a CRLF inside quotes as two
 * lines, so a file with both loses the match and rows cannot be picked out by line.
 */
export function lineNumbersCertain(csv: string, file: CsvFile): boolean {
  return !(csv.includes('\r') && file.rows.some((r) => r.lines > 1));
}

/**
 * The values of one column (by header name, case-insensitive). The separator is the header's, as
 * the server reads it: a spreadsheet set to French saves "CSV" with semicolons.
 */
export function columnValues(file: CsvFile, column: string): string[] | null {
  if (!file.header) return null;
  const header = file.header.text;
  const separator = header.includes(',') ? ',' : header.includes(';') ? ';' : header.includes('\t') ? '\t' : ',';
  const names = splitFields(header, separator).map((n) => n.trim().toLowerCase());
  const index = names.indexOf(column);
  if (index === -1) return null;
  return file.rows.map((r) => (splitFields(r.text, separator)[index] ?? '').trim()).filter((v) => v !== '');
}

/** The fields of one record; quotes are removed and doubled quotes undone. */
export function splitFields(record: string, separator = ','): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < record.length; i += 1) {
    const c = record[i];
    if (c === '"') {
      if (quoted && record[i + 1] === '"') {
        field += '"';
        i += 1;
      } else quoted = !quoted;
    } else if (c === separator && !quoted) {
      fields.push(field);
      field = '';
    } else field += c;
  }
  fields.push(field);
  return fields;
}

export interface CsvChunk {
  /** Header plus the chunk's rows: a file the import endpoint accepts on its own. */
  csv: string;
  rows: CsvRecord[];
}

/**
 * The rows in chunks of `size`, each with the header. `lineInFile` maps a line the server
 * reports for a chunk back to the original file's line.
 */
export function chunkCsv(header: CsvRecord, rows: readonly CsvRecord[], size: number): CsvChunk[] {
  const chunks: CsvChunk[] = [];
  for (let i = 0; i < rows.length; i += size) {
    const part = rows.slice(i, i + size);
    chunks.push({ csv: `${[header, ...part].map((r) => r.text).join('\n')}\n`, rows: part });
  }
  return chunks;
}

export function lineInFile(header: CsvRecord, chunk: CsvChunk, chunkLine: number): number | null {
  let end = header.lines;
  for (const row of chunk.rows) {
    end += row.lines;
    if (end === chunkLine) return row.line;
  }
  return null;
}

/**
 * Rows per chunk: small enough to show progress, few enough chunks (at most `maxChunks`) to
 * stay well inside the heavy-route budget (HTTP_HEAVY_RATE_PER_MINUTE, 30 a minute by default).
 */
export function chunkSize(rows: number, maxChunks = 10, minSize = 25): number {
  return Math.max(minSize, Math.ceil(rows / maxChunks));
}

/** A field separator a spreadsheet saves "CSV" with. */
export type CsvDelimiter = ',' | ';' | '\t';

/**
 * The field separator of a CSV file an admin saved, read from its header line, the same on the
 * server and in the admin console. A spreadsheet set to French (and most languages whose decimal
 * mark is the comma) saves "CSV" with semicolons, and some tools export tabs: read as commas, such
 * a file was one column, refused "missing column(s)" whole. Only separators outside quotes count
 * (a French file may name an extra column "Classe, groupe"); the most frequent wins, a comma on a
 * tie or when there is none.
 */
export function csvDelimiter(csv: string): CsvDelimiter {
  const counts = { ',': 0, ';': 0, '\t': 0 };
  let quoted = false;
  for (const c of csv) {
    if (c === '"') quoted = !quoted;
    else if (quoted) continue;
    else if (c === '\n') break;
    else if (c === ',' || c === ';' || c === '\t') counts[c] += 1;
  }
  if (counts[';'] > counts[','] && counts[';'] >= counts['\t']) return ';';
  return counts['\t'] > counts[','] ? '\t' : ',';
}

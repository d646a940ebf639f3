/**
 * The line of a CSV file's first character that did not decode, or null when every one did.
 *
 * A file reaches the server as text: the HTTP body decoded as UTF-8, or read by the admin console
 * with `File.text()`, which decodes UTF-8 too. Both turn each byte that is not UTF-8 into U+FFFD,
 * silently. Spreadsheets on Windows save "CSV" in the Windows code page unless told "CSV UTF-8",
 * so a school's file with Élodie or François was imported as "�lodie" and "Fran�ois", and the
 * invitations greeted them so. No name or address holds U+FFFD on purpose: refused, by line.
 */
export function firstUndecodedLine(csv: string): number | null {
  const at = csv.indexOf('\uFFFD');
  if (at < 0) return null;
  let line = 1;
  for (let i = csv.indexOf('\n'); i >= 0 && i < at; i = csv.indexOf('\n', i + 1)) line += 1;
  return line;
}

/** What the refusal says, in English, beside its row problem `notUtf8`. */
export const NOT_UTF8_MESSAGE = 'The file is not UTF-8 text: in the spreadsheet, save it as "CSV UTF-8".';

/**
 * The field separator of a CSV file an admin saved, read from its header line. A spreadsheet set
 * to French (and most languages whose decimal mark is the comma) saves "CSV" with semicolons, and
 * some tools export tabs: read as commas, such a file was one column, refused "missing column(s)"
 * whole. Header names hold none of these, so a comma there decides first.
 */
export function csvDelimiter(csv: string): ',' | ';' | '\t' {
  const end = csv.indexOf('\n');
  const header = end < 0 ? csv : csv.slice(0, end);
  if (header.includes(',')) return ',';
  if (header.includes(';')) return ';';
  return header.includes('\t') ? '\t' : ',';
}

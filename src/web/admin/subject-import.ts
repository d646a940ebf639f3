/**
 * The Subjects page's CSV import: a year's subjects with their teachers and classes
 * (`POST /subjects/import`), checked whole, then sent in chunks (chunked-import.ts). The list
 * above it is read again once the last chunk is in.
 */
import { byId, errorText } from '../lib/dom.js';
import { at } from '../lib/admin-text.js';
import { formatNumber } from '../lib/i18n.js';
import { bindChunkedImport, chunkedImport } from './chunked-import.js';
import { loadSubjects } from './subjects.js';

interface ImportAnswer {
  created: number;
  refused: Array<Record<string, unknown> & { line: number }>;
  studentsRefused: Array<Record<string, unknown> & { line: number }>;
}

const subjectsImport = chunkedImport<ImportAnswer>({
  prefix: 'subject-import',
  path: 'api/v1/subjects/import',
  keyField: 'code',
  goAll: (count) => at('subjectImport.goAll', { count }),
  done: (made, count) => at('subjectImport.done', { imported: formatNumber(made), count }),
  // What another admin changed since the check, row by row: a code taken leaves its row out, a
  // student deactivated or removed leaves the row created without them.
  accept: (answer) => ({ imported: answer.created, refused: answer.refused, inPart: answer.studentsRefused }),
  finished: (made) => {
    if (made === 0) return;
    loadSubjects().catch((err: unknown) => (byId('subjects-error').textContent = errorText(err)));
  },
});

export function bindSubjectImport(): void {
  bindChunkedImport('subject-import', subjectsImport);
}

/**
 * The Subjects page's import of the week's meetings (`POST /timetable/meetings/import`), checked
 * whole, then sent in chunks (chunked-import.ts). A dry run that passes still lists the rows it
 * has a word on: meetings already there (skipped) and double-booked teachers (added all the same).
 */
import { at } from '../lib/admin-text.js';
import { formatNumber } from '../lib/i18n.js';
import { bindChunkedImport, chunkedImport } from './chunked-import.js';

type AnswerRow = Record<string, unknown> & { line: number };

interface ImportAnswer {
  added: number;
  toAdd: number;
  checked: number;
  doubleBooked: number;
  skipped: AnswerRow[];
  warnings: AnswerRow[];
  refused: AnswerRow[];
}

const byLine = (rows: AnswerRow[]): AnswerRow[] => [...rows].sort((a, b) => a.line - b.line);

const meetingsImport = chunkedImport<ImportAnswer>({
  prefix: 'meeting-import',
  path: 'api/v1/timetable/meetings/import',
  keyField: 'subjectCode',
  goAll: (count) => at('meetingImport.goAll', { count }),
  done: (made, count) => at('meetingImport.done', { imported: formatNumber(made), count }),
  checked: (answer) => ({
    text: at('meetingImport.checked', {
      count: answer.toAdd,
      skipped: formatNumber(answer.skipped.length),
      doubleBooked: formatNumber(answer.doubleBooked),
    }),
    notes: byLine([...answer.skipped, ...answer.warnings]),
  }),
  // A row changed by another admin since the check is left out, named; skips and warnings are said.
  accept: (answer) => ({ imported: answer.added, refused: answer.refused, notes: byLine([...answer.skipped, ...answer.warnings]) }),
});

export function bindMeetingImport(): void {
  bindChunkedImport('meeting-import', meetingsImport);
}

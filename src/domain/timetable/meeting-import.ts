import { z } from 'zod';
import { readCsvTable, rowsRefused, type CsvRow } from '../csv-table.js';
import { requireRole, type Actor } from '../actor.js';
import { type Store } from '../ports/store.js';
import { type ClassroomLocation, type Subject } from '../ports/subjects.js';
import { meetingNaturalKey, type Meeting, type Term } from '../ports/timetable.js';
import { type User } from '../ports/users.js';
import { AppError } from '../../shared/app-error.js';
import { POLICY_PRESETS, type PolicyPreset } from '../../shared/policy-presets.js';
import { englishReason, rowProblem, type RowProblem } from '../../shared/row-problems.js';
import { normaliseEmail } from '../users/public-user.js';
import { chunked, usersByKeys } from '../users/user-lookup.js';
import { roomOrNull } from '../sessions/room.js';
import { readRoomCells } from '../subjects/room-columns.js';
import { SubjectCodeSchema } from '../subjects/subject-input.js';
import { doubleBookedCount, isMeetingExists, type MeetingInput, type TimetableService } from './timetable-service.js';

export const MEETING_IMPORT_COLUMNS = ['subject_code', 'term', 'weekday', 'start', 'end'] as const;
/**
 * Rows per request: a school's week (350 subjects of 4 meetings is 1,400) in two requests. Each
 * row is checked against every meeting of the organisation, as a single add is, so a request
 * costs rows × meetings comparisons. The admin console's check sends a file whole, so it takes
 * files of at most this many rows (docs/timetable.md: a larger week as two files).
 */
export const MAX_MEETING_IMPORT_ROWS = 1_000;

/** A row of the answer: `line` in the file (the header is line 1), the row's subject code when valid, why. */
export interface MeetingImportRow {
  line: number;
  subjectCode: string | null;
  reason: string;
  problems: RowProblem[];
}

/**
 * What an import did (a dry run: would do). `checked` rows found fine; `added` meetings added
 * (0 on a dry run) of `toAdd`; `skipped` rows matching a meeting the subject already has, found
 * so by the check or, added meanwhile by another import of the same rows, by the write;
 * `warnings` rows whose teacher is double-booked (added all the same), `doubleBooked` their
 * count; `refused` rows not added because another admin changed something between the check and
 * the write (the subject archived, the term deleted, the teacher taken off the subject).
 */
export interface MeetingImportResult {
  added: number;
  toAdd: number;
  checked: number;
  doubleBooked: number;
  meetings: Meeting[];
  skipped: MeetingImportRow[];
  warnings: MeetingImportRow[];
  refused: MeetingImportRow[];
}

const email = z.email().max(320);
const TIME = /^(\d{1,2}):([0-5]\d)(?::00)?$/;
/** ISO weekday of a day's name, in English and French (the service's languages), full or three letters. */
const WEEKDAYS: Record<string, number> = Object.fromEntries(
  [
    ['monday', 'lundi'],
    ['tuesday', 'mardi'],
    ['wednesday', 'mercredi'],
    ['thursday', 'jeudi'],
    ['friday', 'vendredi'],
    ['saturday', 'samedi'],
    ['sunday', 'dimanche'],
  ].flatMap(([en, fr], i) => [en!, en!.slice(0, 3), fr!, fr!.slice(0, 3)].map((name) => [name, i + 1])),
);

const rowOf = (line: number, subjectCode: string | null, problems: RowProblem[]): MeetingImportRow => ({
  line,
  subjectCode,
  reason: englishReason(problems),
  problems,
});

interface ParsedRow {
  line: number;
  subjectCode: string | null;
  termName: string;
  weekday: number | null;
  startTime: string | null;
  endTime: string | null;
  teacherEmail: string | null;
  preset: PolicyPreset | null;
  location: ClassroomLocation | null;
  allowedIpRanges: string[];
  problems: RowProblem[];
}

interface PlannedRow {
  line: number;
  subject: Subject;
  term: Term;
  input: MeetingInput & { teacherId: string | null };
  /** Whose meeting it is for the one-class-at-a-time rule: its own teacher, else the subject's first. */
  teacherOf: string | undefined;
  doubleBookedWith: number;
}

/**
 * Weekly meetings from CSV (docs/timetable.md, "Importing the week"): one row a meeting, by
 * subject code and term name. Checked whole before anything is written: any bad row refuses the
 * file with every bad row by line (VALIDATION_FAILED, `details.rows`), as the subjects import
 * does; a dry run writes nothing. Each meeting is then added through TimetableService.createMeeting,
 * the single add's path (its checks, the teacher's lease, the audit). A row the same as a meeting
 * the subject already has is skipped, so a file sent again adds nothing twice, also when sent
 * twice at once: the store keeps a meeting once (meetingNaturalKey), and the add it refuses is
 * that row skipped. A teacher double-booked is a warning on the row, which is added all the same.
 */
export class CsvMeetingImport {
  constructor(private readonly deps: { store: Store; timetable: Pick<TimetableService, 'createMeeting' | 'checkMeeting'> }) {}

  async run(actor: Actor, csv: string, opts: { dryRun?: boolean } = {}): Promise<MeetingImportResult> {
    requireRole(actor, 'admin');
    const records = readCsvTable(csv, {
      rowError: (line, problems) => rowOf(line, null, problems),
      maxRows: MAX_MEETING_IMPORT_ROWS,
      missingColumns: (columns) => MEETING_IMPORT_COLUMNS.filter((c) => !columns.includes(c)),
    });
    if (records.length === 0) throw new AppError('VALIDATION_FAILED', 'The file has no rows.', { rows: [] });
    const parsed = records.map(parseRow);
    const { store } = this.deps;
    const [subjects, terms, existing, { byEmail }] = await Promise.all([
      this.subjectsByCode(
        actor.orgId,
        parsed.flatMap((r) => (r.subjectCode ? [r.subjectCode] : [])),
      ),
      store.timetable.listTerms(actor.orgId),
      store.timetable.listMeetings(actor.orgId),
      usersByKeys(store, actor.orgId, { emails: parsed.flatMap((r) => (r.teacherEmail ? [r.teacherEmail] : [])) }),
    ]);
    const existingKeys = new Set(existing.map(meetingNaturalKey));
    const firstLine = new Map<string, number>();
    const skipped: MeetingImportRow[] = [];
    const planned: PlannedRow[] = [];
    for (const row of parsed) {
      const subject = row.subjectCode === null ? undefined : subjects.get(row.subjectCode);
      if (!subject) row.problems.push(rowProblem('subjectUnknown'));
      else if (subject.archivedAt !== null) row.problems.push(rowProblem('subjectArchived'));
      const term = findTerm(row, terms);
      const teacherId = resolveTeacher(row, byEmail, subject);
      if (row.problems.length > 0 || !subject || !term) continue;
      const room = roomOrNull(row.location, row.allowedIpRanges);
      const input = {
        termId: term.id,
        weekday: row.weekday!,
        startTime: row.startTime!,
        endTime: row.endTime!,
        teacherId,
        preset: row.preset,
        location: room?.location ?? null,
        allowedIpRanges: room?.allowedIpRanges ?? [],
      };
      const key = meetingNaturalKey({ subjectId: subject.id, ...input });
      const seen = firstLine.get(key);
      if (seen !== undefined) {
        row.problems.push(rowProblem('meetingRepeated', { line: seen }));
        continue;
      }
      firstLine.set(key, row.line);
      if (existingKeys.has(key)) {
        skipped.push(rowOf(row.line, row.subjectCode, [rowProblem('meetingExists')]));
        continue;
      }
      planned.push({ line: row.line, subject, term, input, teacherOf: teacherId ?? subject.teacherIds[0], doubleBookedWith: 0 });
    }
    // The single add's own checks (a preset the room cannot run...), row by row; and on a dry run
    // its teacher's other subjects' meetings already stored (the import's adds check those
    // themselves: read twice, a file of 1,000 rows over 1,000 stored meetings took 9.3 s on SQLite, 6.3 s so).
    for (const row of planned) {
      try {
        const teacherMeetings = opts.dryRun === true;
        row.doubleBookedWith = (
          await this.deps.timetable.checkMeeting(actor, row.subject.id, row.input, { teacherMeetings })
        ).doubleBookedWith;
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        parsed.find((p) => p.line === row.line)!.problems.push(refusal(err));
      }
    }
    const errors = parsed.filter((r) => r.problems.length > 0).map((r) => rowOf(r.line, r.subjectCode, r.problems));
    if (errors.length > 0) throw rowsRefused(errors);
    if (opts.dryRun) {
      countFileClashes(planned);
      const warnings = planned.filter((r) => r.doubleBookedWith > 0).map(doubleBookedRow);
      const done = { added: 0, toAdd: planned.length, checked: parsed.length, meetings: [], refused: [] };
      return { ...done, doubleBooked: warnings.length, skipped, warnings };
    }
    return this.write(actor, planned, skipped, parsed.length);
  }

  private async write(actor: Actor, planned: PlannedRow[], skipped: MeetingImportRow[], checked: number): Promise<MeetingImportResult> {
    const meetings: Meeting[] = [];
    const warnings: MeetingImportRow[] = [];
    const refused: MeetingImportRow[] = [];
    for (const row of planned) {
      try {
        meetings.push(await this.deps.timetable.createMeeting(actor, row.subject.id, row.input));
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        // Added since the check, by another import of the same rows (a double click, a retry
        // after a timeout, a second admin): there once, as the store keeps it.
        if (isMeetingExists(err)) {
          skipped.push(rowOf(row.line, row.subject.code, [rowProblem('meetingExists')]));
          continue;
        }
        if (err.code !== 'TEACHER_DOUBLE_BOOKED') {
          // Changed by another admin since the check (the subject archived, the term deleted):
          // that row alone is left out, named; the others stay added.
          refused.push(rowOf(row.line, row.subject.code, [refusal(err)]));
          continue;
        }
        // A clash is the admin's to settle, not a reason to lose the class every week (the
        // timetable run does not refuse one either): added as confirmed, and said on the row.
        try {
          meetings.push(await this.deps.timetable.createMeeting(actor, row.subject.id, { ...row.input, teacherOverlap: true }));
          warnings.push(doubleBookedRow({ ...row, doubleBookedWith: doubleBookedCount(err) }));
        } catch (again) {
          if (!(again instanceof AppError)) throw again;
          if (isMeetingExists(again)) skipped.push(rowOf(row.line, row.subject.code, [rowProblem('meetingExists')]));
          else refused.push(rowOf(row.line, row.subject.code, [refusal(again)]));
        }
      }
    }
    skipped.sort((a, b) => a.line - b.line);
    return { added: meetings.length, toAdd: planned.length, checked, doubleBooked: warnings.length, meetings, skipped, warnings, refused };
  }

  private async subjectsByCode(orgId: string, codes: string[]): Promise<Map<string, Subject>> {
    const found = new Map<string, Subject>();
    for (const part of chunked([...new Set(codes)]))
      for (const s of await this.deps.store.subjects.getByCodes(orgId, part)) found.set(s.code, s);
    return found;
  }
}

/** A coded refusal of the single add's path, as the pages word `error.<code>` (src/web/admin/problem-text.ts). */
const refusal = (err: AppError): RowProblem => ({ code: 'refused', params: { code: err.code, message: err.message } });

const doubleBookedRow = (row: PlannedRow): MeetingImportRow =>
  rowOf(row.line, row.subject.code, [rowProblem('teacherDoubleBooked', { count: row.doubleBookedWith })]);

function parseRow({ line, fields }: CsvRow): ParsedRow {
  const problems: RowProblem[] = [];
  const code = SubjectCodeSchema.safeParse(fields.subject_code ?? '');
  const weekday = weekdayOf(fields.weekday ?? '');
  if (weekday === null) problems.push(rowProblem('weekdayInvalid'));
  const startTime = timeOf(fields.start ?? '');
  const endTime = timeOf(fields.end ?? '');
  if (startTime === null) problems.push(rowProblem('startInvalid'));
  if (endTime === null) problems.push(rowProblem('endInvalid'));
  if (startTime !== null && endTime !== null && endTime <= startTime) problems.push(rowProblem('endNotAfterStart'));
  const teacherCell = (fields.teacher_email ?? '').trim();
  const teacherEmail = teacherCell === '' ? null : normaliseEmail(teacherCell);
  if (teacherEmail !== null && !email.safeParse(teacherEmail).success) problems.push(rowProblem('teacherEmailsInvalid', { count: 1 }));
  const presetCell = (fields.preset ?? '').trim().toLowerCase();
  const preset = (POLICY_PRESETS as readonly string[]).includes(presetCell) ? (presetCell as PolicyPreset) : null;
  if (presetCell !== '' && preset === null) problems.push(rowProblem('presetUnknown', { presets: POLICY_PRESETS.join(', ') }));
  const room = readRoomCells(fields);
  problems.push(...room.problems);
  return {
    line,
    subjectCode: code.success ? code.data : null,
    termName: (fields.term ?? '').trim(),
    weekday,
    startTime,
    endTime,
    teacherEmail: teacherEmail !== null && email.safeParse(teacherEmail).success ? teacherEmail : null,
    preset,
    location: room.location,
    allowedIpRanges: room.allowedIpRanges,
    problems,
  };
}

/** 1 to 7, or a day's name ("Monday", "mon", "lundi"). */
function weekdayOf(cell: string): number | null {
  const text = cell.trim().toLowerCase();
  if (/^[1-7]$/.test(text)) return Number(text);
  return WEEKDAYS[text] ?? null;
}

/** "HH:MM", also as spreadsheets write it ("9:00", "09:00:00"). */
function timeOf(cell: string): string | null {
  const match = TIME.exec(cell.trim());
  if (!match || Number(match[1]) > 23) return null;
  return `${match[1]!.padStart(2, '0')}:${match[2]}`;
}

/** The term of the row's name, compared without case; several of that name cannot say which. */
function findTerm(row: ParsedRow, terms: readonly Term[]): Term | undefined {
  const name = row.termName.toLowerCase();
  const named = terms.filter((t) => t.name.trim().toLowerCase() === name);
  if (named.length === 1) return named[0];
  row.problems.push(named.length === 0 ? rowProblem('termUnknown') : rowProblem('termAmbiguous', { count: named.length }));
  return undefined;
}

/** The row's own teacher's id (null: none given, the subject's first); each way it is not one of the subject's is a problem. */
function resolveTeacher(row: ParsedRow, byEmail: ReadonlyMap<string, User>, subject: Subject | undefined): string | null {
  if (row.teacherEmail === null) return null;
  const user = byEmail.get(row.teacherEmail);
  const quoted = { count: 1, values: row.teacherEmail };
  if (!user) row.problems.push(rowProblem('teachersUnknown', quoted));
  else if (user.role !== 'teacher') row.problems.push(rowProblem('teachersNotTeachers', quoted));
  else if (!user.active) row.problems.push(rowProblem('teachersDeactivated', quoted));
  else if (subject && !subject.teacherIds.includes(user.id)) row.problems.push(rowProblem('teacherNotOfSubject'));
  else return user.id;
  return null;
}

/**
 * The file's own double bookings, for the dry run: a row whose teacher has another subject's row
 * earlier in the file on that weekday at an overlapping time, in an overlapping term, will meet it
 * when added (createMeeting then refuses, and the import adds it as confirmed, with the warning).
 */
function countFileClashes(rows: PlannedRow[]): void {
  rows.forEach((row, i) => {
    if (row.teacherOf === undefined) return;
    const earlier = rows
      .slice(0, i)
      .filter(
        (o) =>
          o.teacherOf === row.teacherOf &&
          o.subject.id !== row.subject.id &&
          o.input.weekday === row.input.weekday &&
          o.input.startTime < row.input.endTime &&
          row.input.startTime < o.input.endTime &&
          o.term.startDay <= row.term.endDay &&
          row.term.startDay <= o.term.endDay,
      ).length;
    row.doubleBookedWith += earlier;
  });
}

import { z } from 'zod';
import { readCsvTable, rowsRefused, type CsvRow } from '../csv-table.js';
import { type Store } from '../ports/store.js';
import { type EnrolGone, type EnrolOutcome, type Subject } from '../ports/subjects.js';
import { type User } from '../ports/users.js';
import { requireRole, type Actor } from '../actor.js';
import { AppError } from '../../shared/app-error.js';
import { englishReason, rowProblem, type RowProblem } from '../../shared/row-problems.js';
import { normaliseEmail } from '../users/public-user.js';
import { chunked, usersByKeys } from '../users/user-lookup.js';
import { SubjectCodeSchema, SubjectNameSchema } from './subject-input.js';
import { readRoomCells } from './room-columns.js';
import { type ClassroomLocation } from '../ports/subjects.js';
import type { SubjectService } from './subject-service.js';

export const SUBJECT_IMPORT_COLUMNS = ['code', 'name', 'teacher_email'] as const;
/** Rows per request: a school's whole list (350 subjects) is checked in one dry run. */
export const MAX_SUBJECT_IMPORT_ROWS = 1_000;
/** Student numbers per row, as many as one enrolment request takes. */
export const MAX_ROW_STUDENTS = 1_000;
/** Numbers or emails a problem quotes; past them, the count alone. */
const QUOTED_MAX = 10;

/**
 * One rejected row: `line` in the file (the header is line 1), `code` the row's subject code
 * when it is a valid one (a refusal never quotes an arbitrary cell back), `problems` as codes
 * for the pages to word and `reason` the same in English.
 */
export interface SubjectImportRowError {
  line: number;
  code: string | null;
  reason: string;
  problems: RowProblem[];
}

/**
 * What an import did: `checked` rows found fine; `refused` the rows not created, their code taken
 * by another admin between the check and the write; `studentsRefused` the rows created whose
 * students were not all enrolled, one deactivated or removed between the check and the write, or
 * the row's subject deleted or archived by another admin after this import created it (none enrolled).
 */
export interface SubjectImportResult {
  created: number;
  enrolled: number;
  subjects: Subject[];
  checked: number;
  refused: SubjectImportRowError[];
  studentsRefused: SubjectImportRowError[];
}

const rowError = (line: number, code: string | null, problems: RowProblem[]): SubjectImportRowError => ({
  line,
  code,
  reason: englishReason(problems),
  problems,
});

const email = z.email().max(320);
// A student number or address is quoted back only when it reads as one: a cell of markup or a
// sentence stays unquoted (counted), as every import's refusals do.
const QUOTABLE_NUMBER = /^[\p{L}\p{N}._/-]{1,64}$/u;
/** Several emails or numbers in one cell: spaces, commas or semicolons between them (a cell quoted in the CSV when commas). */
const LIST_SEPARATORS = /[\s,;]+/;

interface ParsedRow {
  line: number;
  code: string | null;
  name: string;
  teacherEmails: string[];
  numbers: string[];
  location: ClassroomLocation | null;
  allowedIpRanges: string[];
  problems: RowProblem[];
}

interface PlannedRow {
  line: number;
  code: string;
  name: string;
  teacherIds: string[];
  studentIds: string[];
  location: ClassroomLocation | null;
  allowedIpRanges: string[];
  /** Each student's number as the row gave it, to name one refused at the write. */
  numberOf: Map<string, string>;
}

/**
 * Subjects with their teachers and students from CSV: columns code,name,teacher_email, and
 * optionally co_teacher_emails and student_numbers (several per cell) and the classroom
 * (room-columns.ts: latitude, longitude, radius_m, allowed_networks). Checked whole before
 * anything is written: any bad row refuses the file with every bad row by line
 * (VALIDATION_FAILED, `details.rows`), as the users import does; a dry run writes nothing.
 * Each subject is then created and its students enrolled through SubjectService, so the
 * teacher rules, the audit and the live announcements are the single route's.
 */
export class CsvSubjectImport {
  constructor(private readonly deps: { store: Store; subjects: Pick<SubjectService, 'create' | 'enrolChecked'> }) {}

  async run(actor: Actor, csv: string, opts: { dryRun?: boolean } = {}): Promise<SubjectImportResult> {
    requireRole(actor, 'admin');
    const records = parseCsv(csv);
    if (records.length === 0) throw new AppError('VALIDATION_FAILED', 'The file has no rows.', { rows: [] });
    const parsed = records.map(parseRow);
    markRepeatedCodes(parsed);

    const fine = parsed.filter((r) => r.problems.length === 0);
    const { byEmail, byNumber } = await usersByKeys(this.deps.store, actor.orgId, {
      emails: fine.flatMap((r) => r.teacherEmails),
      studentNumbers: fine.flatMap((r) => r.numbers),
    });
    const taken = await this.takenCodes(
      actor.orgId,
      fine.map((r) => r.code!),
    );
    const planned: PlannedRow[] = [];
    for (const row of fine) {
      if (taken.has(row.code!)) row.problems.push(rowProblem('subjectCodeTaken'));
      const teacherIds = resolveTeachers(row, byEmail);
      const numberOf = resolveStudents(row, byNumber);
      if (row.problems.length === 0)
        planned.push({
          line: row.line,
          code: row.code!,
          name: row.name,
          teacherIds,
          studentIds: [...numberOf.keys()],
          location: row.location,
          allowedIpRanges: row.allowedIpRanges,
          numberOf,
        });
    }
    const errors = parsed.filter((r) => r.problems.length > 0).map((r) => rowError(r.line, r.code, r.problems));
    if (errors.length > 0) throw rowsRefused(errors);
    if (opts.dryRun) return { created: 0, enrolled: 0, subjects: [], checked: planned.length, refused: [], studentsRefused: [] };
    return this.write(actor, planned);
  }

  private async write(actor: Actor, planned: PlannedRow[]): Promise<SubjectImportResult> {
    const subjects: Subject[] = [];
    const refused: SubjectImportRowError[] = [];
    const bySubject = new Map<string, string[]>();
    const rowOf = new Map<string, PlannedRow>();
    for (const row of planned) {
      try {
        const { code, name, teacherIds, location, allowedIpRanges } = row;
        const subject = await this.deps.subjects.create(actor, { code, name, teacherIds, location, allowedIpRanges });
        subjects.push(subject);
        if (row.studentIds.length > 0) bySubject.set(subject.id, row.studentIds);
        rowOf.set(subject.id, row);
      } catch (err) {
        // Another admin took the code since the check: that row alone is left out, the others
        // of the request stay created, and the answer says which.
        if (!(err instanceof AppError) || err.code !== 'SUBJECT_CODE_TAKEN') throw err;
        refused.push(rowError(row.line, row.code, [rowProblem('subjectCodeTaken')]));
      }
    }
    const outcomes = new Map<string, EnrolOutcome>();
    const gone: SubjectImportRowError[] = [];
    const isGone = (err: unknown): err is AppError =>
      err instanceof AppError && (err.code === 'NOT_FOUND' || err.code === 'SUBJECT_ARCHIVED');
    try {
      // Every class in one call (on MongoDB one read of the students for all of them).
      for (const [id, outcome] of await this.deps.subjects.enrolChecked(actor, bySubject)) outcomes.set(id, outcome);
    } catch (err) {
      if (!isGone(err)) throw err;
      // One subject at a time then: one deleted or archived by another admin since its row
      // created it leaves that row's students out, named, instead of failing the request after
      // earlier rows were written (what the first call wrote is enrolled already: not added twice).
      for (const [subjectId, studentIds] of bySubject) {
        try {
          for (const [id, outcome] of await this.deps.subjects.enrolChecked(actor, new Map([[subjectId, studentIds]])))
            outcomes.set(id, outcome);
        } catch (err) {
          if (!isGone(err)) throw err;
          gone.push(goneRow(rowOf.get(subjectId)!, err.code === 'NOT_FOUND' ? 'deleted' : 'archived', studentIds.length));
        }
      }
    }
    // Gone after the service's check, before the store's write: the store refused it in that write.
    for (const [subjectId, outcome] of outcomes)
      if (outcome.gone) gone.push(goneRow(rowOf.get(subjectId)!, outcome.gone, bySubject.get(subjectId)!.length));
    const enrolled = [...outcomes.values()].reduce((n, o) => n + o.added, 0);
    const studentsRefused = [...(await this.studentsRefused(actor.orgId, outcomes, rowOf)), ...gone].sort((a, b) => a.line - b.line);
    return { created: subjects.length, enrolled, subjects, checked: planned.length, refused, studentsRefused };
  }

  /**
   * The rows created whose students were not all enrolled: one deactivated or removed since the
   * check was refused by the store. Said with the check's own problems, read again to say which.
   */
  private async studentsRefused(
    orgId: string,
    outcomes: ReadonlyMap<string, EnrolOutcome>,
    rowOf: ReadonlyMap<string, PlannedRow>,
  ): Promise<SubjectImportRowError[]> {
    const ids = [...new Set([...outcomes.values()].flatMap((o) => o.refused))];
    if (ids.length === 0) return [];
    const now = new Map<string, User>();
    for (const part of chunked(ids)) for (const u of await this.deps.store.users.getMany(orgId, part)) now.set(u.id, u);
    const rows: SubjectImportRowError[] = [];
    for (const [subjectId, outcome] of outcomes) {
      const row = rowOf.get(subjectId)!;
      const deactivated: string[] = [];
      const unknown: string[] = [];
      for (const id of outcome.refused) {
        const user = now.get(id);
        const number = row.numberOf.get(id) ?? '';
        if (user?.role === 'student' && !user.active) deactivated.push(number);
        else unknown.push(number);
      }
      const problems: RowProblem[] = [];
      if (unknown.length > 0) problems.push(rowProblem('studentNumbersUnknown', quoted(unknown)));
      if (deactivated.length > 0) problems.push(rowProblem('studentNumbersDeactivated', quoted(deactivated)));
      if (problems.length > 0) rows.push(rowError(row.line, row.code, problems));
    }
    return rows.sort((a, b) => a.line - b.line);
  }

  private async takenCodes(orgId: string, codes: string[]): Promise<Set<string>> {
    const taken = new Set<string>();
    for (const part of chunked([...new Set(codes)]))
      for (const s of await this.deps.store.subjects.getByCodes(orgId, part)) taken.add(s.code);
    return taken;
  }
}

/** A created row whose subject another admin deleted or archived before its students were enrolled: none was. */
const goneRow = (row: PlannedRow, gone: EnrolGone, count: number): SubjectImportRowError =>
  rowError(row.line, row.code, [rowProblem(gone === 'deleted' ? 'subjectDeletedSince' : 'subjectArchivedSince', { count })]);

function parseCsv(csv: string): CsvRow[] {
  return readCsvTable(csv, {
    rowError: (line, problems) => rowError(line, null, problems),
    maxRows: MAX_SUBJECT_IMPORT_ROWS,
    missingColumns: (columns) => SUBJECT_IMPORT_COLUMNS.filter((c) => !columns.includes(c)),
  });
}

const listOf = (cell: string | undefined): string[] => [...new Set((cell ?? '').split(LIST_SEPARATORS).filter(Boolean))];

function parseRow({ line, fields }: CsvRow): ParsedRow {
  const problems: RowProblem[] = [];
  const code = SubjectCodeSchema.safeParse(fields.code ?? '');
  const name = SubjectNameSchema.safeParse(fields.name ?? '');
  if (!code.success) problems.push(rowProblem('subjectCodeInvalid'));
  if (!name.success) problems.push(rowProblem('subjectNameInvalid'));
  const first = listOf(fields.teacher_email);
  const co = listOf(fields.co_teacher_emails);
  if (first.length > 1) problems.push(rowProblem('teacherEmailOne'));
  if (first.length === 0 && co.length > 0) problems.push(rowProblem('teacherEmailMissing'));
  const teacherEmails = [...new Set([...first, ...co].map(normaliseEmail))];
  const invalid = teacherEmails.filter((e) => !email.safeParse(e).success).length;
  if (invalid > 0) problems.push(rowProblem('teacherEmailsInvalid', { count: invalid }));
  const numbers = listOf(fields.student_numbers);
  if (numbers.length > MAX_ROW_STUDENTS) problems.push(rowProblem('tooManyStudentNumbers', { max: MAX_ROW_STUDENTS }));
  const room = readRoomCells(fields);
  problems.push(...room.problems);
  return {
    line,
    code: code.success ? code.data : null,
    name: name.success ? name.data : '',
    teacherEmails,
    numbers,
    location: room.location,
    allowedIpRanges: room.allowedIpRanges,
    problems,
  };
}

/** A code on two rows: the second and later ones are refused, naming the first. */
function markRepeatedCodes(rows: ParsedRow[]): void {
  const firstLine = new Map<string, number>();
  for (const row of rows) {
    if (row.code === null) continue;
    const seen = firstLine.get(row.code);
    if (seen === undefined) firstLine.set(row.code, row.line);
    else row.problems.push(rowProblem('subjectCodeRepeated', { line: seen }));
  }
}

/** The row's teachers' ids, first teacher first; each one not an active teacher of the organisation is a problem of the row. */
function resolveTeachers(row: ParsedRow, byEmail: ReadonlyMap<string, User>): string[] {
  const unknown: string[] = [];
  const notTeachers: string[] = [];
  const deactivated: string[] = [];
  const ids: string[] = [];
  for (const address of row.teacherEmails) {
    const user = byEmail.get(address);
    if (!user) unknown.push(address);
    else if (user.role !== 'teacher') notTeachers.push(address);
    else if (!user.active) deactivated.push(address);
    else ids.push(user.id);
  }
  if (unknown.length > 0) row.problems.push(rowProblem('teachersUnknown', quoted(unknown)));
  if (notTeachers.length > 0) row.problems.push(rowProblem('teachersNotTeachers', quoted(notTeachers)));
  if (deactivated.length > 0) row.problems.push(rowProblem('teachersDeactivated', quoted(deactivated)));
  return ids;
}

/**
 * The row's students' ids, each with its number. A number is one active student's: none (or only staff) is unknown,
 * only deactivated students is refused as such (they would be marked absent at every close),
 * and several active students holding it cannot say which one is meant.
 */
function resolveStudents(row: ParsedRow, byNumber: ReadonlyMap<string, User[]>): Map<string, string> {
  const unknown: string[] = [];
  const deactivated: string[] = [];
  const shared: string[] = [];
  const ids = new Map<string, string>();
  for (const number of row.numbers) {
    const students = (byNumber.get(number) ?? []).filter((u) => u.role === 'student');
    const active = students.filter((u) => u.active);
    if (active.length === 1) ids.set(active[0]!.id, number);
    else if (active.length > 1) shared.push(number);
    else if (students.length > 0) deactivated.push(number);
    else unknown.push(number);
  }
  if (unknown.length > 0) row.problems.push(rowProblem('studentNumbersUnknown', quoted(unknown)));
  if (deactivated.length > 0) row.problems.push(rowProblem('studentNumbersDeactivated', quoted(deactivated)));
  if (shared.length > 0) row.problems.push(rowProblem('studentNumbersShared', quoted(shared)));
  return ids;
}

/** `{count, values}` for a problem: the first QUOTED_MAX values that read as a number or an address, "…" for the rest. */
function quoted(values: string[]): { count: number; values: string } {
  const readable = values.filter((v) => QUOTABLE_NUMBER.test(v) || email.safeParse(v).success);
  const shown = readable.slice(0, QUOTED_MAX);
  return { count: values.length, values: shown.length < values.length ? [...shown, '…'].join(', ') : shown.join(', ') };
}

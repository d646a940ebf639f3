import { readCsvTable, rowsRefused, type CsvRow } from '../csv-table.js';
import { z } from 'zod';
import { PASSWORD_MAX_BYTES, PASSWORD_MIN_LENGTH, passwordRule, type PasswordHasher } from '../accounts/passwords.js';
import { ROLES, StoreConflictError, type Role } from '../ports/common.js';
import { type Store } from '../ports/store.js';
import { type NewUser } from '../ports/users.js';
import { requireRole, type Actor } from '../actor.js';
import { AppError } from '../../shared/app-error.js';
import { englishReason, rowProblem, type RowProblem } from '../../shared/row-problems.js';
import { audit } from '../audit-log.js';
import { normaliseEmail, toPublicUser, type PublicUser } from './public-user.js';
import { cleanStudentNumber } from './user-service.js';
import { usersByKeys } from './user-lookup.js';

/**
 * One rejected row: `line` is the line number in the file (the header is line 1); `problems`
 * are its reasons as codes for the pages to word, `reason` the same in English. `email` is the
 * row's address only when it is a valid one: a refusal never quotes an arbitrary cell back.
 */
export interface ImportRowError {
  line: number;
  email: string | null;
  reason: string;
  problems: RowProblem[];
}

const rowError = (line: number, email: string | null, problems: RowProblem[]): ImportRowError => ({
  line,
  email,
  reason: englishReason(problems),
  problems,
});

export const REQUIRED_COLUMNS = ['name', 'email', 'role', 'student_number'] as const;
export const MAX_IMPORT_ROWS = 5_000;

const email = z.email();
/** The longest address the users API takes (src/http/routes/users.ts). */
const MAX_EMAIL_LENGTH = 320;

/** What an import did; `checked` counts the rows found fine (every row, when no error was thrown). */
export interface ImportResult {
  created: number;
  users: PublicUser[];
  checked: number;
}

/**
 * Bulk user import from CSV (columns name,email,role,student_number, optional password).
 * All or nothing: when any row is bad nothing is written and every bad row is reported with
 * its line and reason (thrown as VALIDATION_FAILED with `details.rows`). Users imported
 * without a password have none and cannot log in until an admin sets one. A dry run checks
 * every row the same way and writes nothing, so a page can report the whole file's problems
 * before it sends the rows in chunks (a progress bar) — see README "Admin console".
 */
export class CsvUserImport {
  constructor(private readonly deps: { store: Store; passwords: PasswordHasher; clock: () => Date }) {}

  async run(actor: Actor, csv: string, opts: { dryRun?: boolean } = {}): Promise<ImportResult> {
    requireRole(actor, 'admin');
    const records = parseCsv(csv);
    const errors: ImportRowError[] = [];
    const rows: Array<{ line: number; user: Omit<NewUser, 'passwordHash'>; password: string | null }> = [];
    const seenEmails = new Map<string, number>();
    const seenNumbers = new Map<string, number>();

    for (const { line, fields } of records) {
      const reasons: RowProblem[] = [];
      const rawEmail = fields.email ?? '';
      const addr = normaliseEmail(rawEmail);
      const name = (fields.name ?? '').trim();
      const roleText = (fields.role ?? '').trim().toLowerCase();
      const studentNumber = cleanStudentNumber(fields.student_number);
      const password = fields.password ? fields.password : null;

      if (!name) reasons.push(rowProblem('nameMissing'));
      const valid = addr !== '' && addr.length <= MAX_EMAIL_LENGTH && email.safeParse(addr).success;
      if (!addr) reasons.push(rowProblem('emailMissing'));
      else if (!valid) reasons.push(rowProblem('emailInvalid'));
      else if (seenEmails.has(addr)) reasons.push(rowProblem('emailRepeated', { line: seenEmails.get(addr)! }));
      if (!(ROLES as readonly string[]).includes(roleText)) reasons.push(rowProblem('roleUnknown'));
      if (roleText === 'student' && !studentNumber) reasons.push(rowProblem('studentNumberMissing'));
      if (studentNumber && seenNumbers.has(studentNumber)) {
        reasons.push(rowProblem('studentNumberRepeated', { line: seenNumbers.get(studentNumber)! }));
      }
      const rule = password === null ? null : passwordRule(password);
      if (rule === 'tooShort') reasons.push(rowProblem('passwordTooShort', { min: PASSWORD_MIN_LENGTH }));
      if (rule === 'tooLong') reasons.push(rowProblem('passwordTooLong', { max: PASSWORD_MAX_BYTES }));
      if (addr && !seenEmails.has(addr)) seenEmails.set(addr, line);
      if (studentNumber && !seenNumbers.has(studentNumber)) seenNumbers.set(studentNumber, line);

      if (reasons.length > 0) {
        errors.push(rowError(line, valid ? addr : null, reasons));
        continue;
      }
      rows.push({ line, user: { name, email: addr, role: roleText as Role, studentNumber, active: true }, password });
    }

    // Existing accounts, checked only for rows that are otherwise fine.
    // One query per chunk of emails: per row, a 5,000-row file was 5,000 round trips (on MongoDB, seconds).
    const { byEmail: taken } = await usersByKeys(this.deps.store, actor.orgId, { emails: rows.map((r) => r.user.email) });
    for (const row of rows) {
      if (taken.has(row.user.email)) {
        errors.push(rowError(row.line, row.user.email, [rowProblem('emailTaken')]));
      }
    }
    if (records.length === 0) throw new AppError('VALIDATION_FAILED', 'The file has no rows.', { rows: [] });
    if (errors.length > 0) throw rowsRefused(errors);
    if (opts.dryRun) return { created: 0, users: [], checked: rows.length };

    const hashes = new Map<string, string>();
    const inputs: NewUser[] = [];
    for (const row of rows) {
      let passwordHash: string | null = null;
      if (row.password !== null) {
        // Rows sharing an initial password share one (slow) hash computation.
        passwordHash = hashes.get(row.password) ?? (await this.deps.passwords.hash(row.password));
        hashes.set(row.password, passwordHash);
      }
      inputs.push({ ...row.user, passwordHash });
    }
    let created;
    try {
      created = await this.deps.store.users.createMany(actor.orgId, inputs);
    } catch (err) {
      // Someone created one of these emails between the check and the write.
      if (err instanceof StoreConflictError) throw new AppError('EMAIL_TAKEN', 'An email was taken meanwhile; nothing was imported.');
      throw err;
    }
    const now = this.deps.clock();
    for (const u of created) {
      await audit(this.deps.store, actor, now, {
        entityType: 'user',
        entityId: u.id,
        action: 'user.import',
        from: null,
        to: { name: u.name, email: u.email, role: u.role, studentNumber: u.studentNumber },
      });
    }
    return { created: created.length, users: created.map(toPublicUser), checked: rows.length };
  }
}

function parseCsv(csv: string): CsvRow[] {
  return readCsvTable(csv, {
    rowError: (line, problems) => rowError(line, null, problems),
    maxRows: MAX_IMPORT_ROWS,
    missingColumns: (columns) => REQUIRED_COLUMNS.filter((c) => !columns.includes(c)),
  });
}

import { readCsvTable, rowsRefused, type CsvRow } from '../csv-table.js';
import { z } from 'zod';
import { AppError } from '../../shared/app-error.js';
import { englishProblem, englishReason, rowProblem, type RowProblem } from '../../shared/row-problems.js';
import { requireRole, type Actor } from '../actor.js';
import { audit } from '../audit-log.js';
import type { GuardianContact } from '../ports/guardians.js';
import type { Store } from '../ports/store.js';
import type { User } from '../ports/users.js';
import { normaliseEmail } from '../users/public-user.js';
import { usersByKeys } from '../users/user-lookup.js';
import { issue, type IssueCode, type ValidationIssue } from '../../shared/validation-issues.js';

export const MAX_GUARDIANS = 10;
export const MAX_GUARDIAN_IMPORT_ROWS = 5_000;
export const LANGUAGE_PATTERN = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;
export const GUARDIAN_COLUMNS = ['student_number', 'student_email', 'name', 'relation', 'email', 'language'] as const;

const email = z.email();

/** One rejected row of an import; the header is line 1. `reason` is `problems` in English. */
export interface GuardianImportError {
  line: number;
  reason: string;
  problems: RowProblem[];
}

const rowError = (line: number, problems: RowProblem[]): GuardianImportError => ({ line, reason: englishReason(problems), problems });

/**
 * Guardian contacts on student profiles: the organisation's admins set them one student at a
 * time or import them from CSV; the student reads their own. Each change is audited on the user.
 */
export class GuardianService {
  constructor(private readonly deps: { store: Store; clock: () => Date }) {}

  async get(actor: Actor, studentId: string): Promise<GuardianContact[]> {
    if (actor.role !== 'admin' && actor.id !== studentId) throw new AppError('FORBIDDEN');
    await this.student(actor, studentId);
    return this.deps.store.guardians.get(actor.orgId, studentId);
  }

  async put(actor: Actor, studentId: string, contacts: GuardianContact[]): Promise<GuardianContact[]> {
    requireRole(actor, 'admin');
    await this.student(actor, studentId);
    const problems: ValidationIssue[] = contacts.flatMap((c, i) =>
      contactIssues(c).map(({ field, code, params, problem }) => ({
        ...issue(`contacts.${i}.${field}`, englishProblem(problem), code, params),
        problem,
      })),
    );
    if (contacts.length > MAX_GUARDIANS)
      problems.push(issue('contacts', `at most ${MAX_GUARDIANS}`, 'tooMany', { maximum: MAX_GUARDIANS }));
    if (problems.length > 0)
      throw new AppError('VALIDATION_FAILED', `${problems[0]!.path}: ${problems[0]!.message}.`, { issues: problems });
    return this.replace(actor, studentId, contacts.map(clean));
  }

  /**
   * CSV with the columns name, relation, email, language and one of student_number and
   * student_email. Each student named in the file gets exactly the file's rows as their list.
   * All or nothing: any bad row and nothing is written, every bad row reported (details.rows).
   */
  async importCsv(actor: Actor, csv: string): Promise<{ students: number; contacts: number }> {
    requireRole(actor, 'admin');
    const rows = parseRows(csv);
    const errors: GuardianImportError[] = [];
    const byStudent = new Map<string, GuardianContact[]>();
    const users = await this.studentsOf(
      actor.orgId,
      rows.map((r) => r.fields),
    );
    for (const { line, fields } of rows) {
      const holders = fields.student_number ? (users.byNumber.get(fields.student_number) ?? []) : [];
      const student = fields.student_number
        ? holders.length === 1
          ? holders[0]
          : undefined
        : fields.student_email
          ? users.byEmail.get(normaliseEmail(fields.student_email))
          : undefined;
      const contact = clean({
        name: fields.name ?? '',
        relation: fields.relation ?? '',
        email: fields.email ?? '',
        language: fields.language || 'en',
      });
      const reasons = contactProblems(contact);
      if (holders.length > 1) reasons.unshift(rowProblem('studentNumberShared', { count: holders.length }));
      else if (!student) reasons.unshift(rowProblem(fields.student_number || fields.student_email ? 'noSuchStudent' : 'studentMissing'));
      if (reasons.length > 0) {
        errors.push(rowError(line, reasons));
        continue;
      }
      const list = byStudent.get(student!.id) ?? [];
      list.push(contact);
      if (list.length > MAX_GUARDIANS) errors.push(rowError(line, [rowProblem('tooManyContacts', { max: MAX_GUARDIANS })]));
      byStudent.set(student!.id, list);
    }
    if (errors.length > 0) throw rowsRefused(errors);
    let contacts = 0;
    for (const [studentId, list] of byStudent) {
      await this.replace(actor, studentId, list);
      contacts += list.length;
    }
    return { students: byStudent.size, contacts };
  }

  private async replace(actor: Actor, studentId: string, contacts: GuardianContact[]): Promise<GuardianContact[]> {
    const before = await this.deps.store.guardians.get(actor.orgId, studentId);
    const after = await this.deps.store.guardians.put(actor.orgId, studentId, contacts);
    await audit(this.deps.store, actor, this.deps.clock(), {
      entityType: 'user',
      entityId: studentId,
      action: 'user.guardians',
      from: before,
      to: after,
    });
    return after;
  }

  private async student(actor: Actor, id: string): Promise<User> {
    const user = await this.deps.store.users.get(actor.orgId, id);
    if (!user || user.role !== 'student') throw new AppError('NOT_FOUND', 'No such student.');
    return user;
  }

  private async studentsOf(
    orgId: string,
    rows: Array<Record<string, string | undefined>>,
  ): Promise<{ byNumber: Map<string, User[]>; byEmail: Map<string, User> }> {
    const found = await usersByKeys(this.deps.store, orgId, {
      emails: rows.flatMap((r) => (r.student_email ? [r.student_email] : [])),
      studentNumbers: rows.flatMap((r) => (r.student_number ? [r.student_number] : [])),
    });
    const byEmail = new Map([...found.byEmail].filter(([, u]) => u.role === 'student'));
    const byNumber = new Map([...found.byNumber].map(([n, list]) => [n, list.filter((u) => u.role === 'student')] as const));
    return { byNumber, byEmail };
  }
}

function clean(c: GuardianContact): GuardianContact {
  return { name: c.name.trim(), relation: c.relation.trim(), email: normaliseEmail(c.email), language: c.language.trim() };
}

interface ContactIssue {
  field: keyof GuardianContact;
  code: IssueCode;
  params: Record<string, number>;
  problem: RowProblem;
}

/** The length rule of a contact's text field, as the code a form words beside its label. */
const lengthIssue = (value: string, maximum: number): Pick<ContactIssue, 'code' | 'params'> | null =>
  value.trim().length < 1 ? { code: 'required', params: {} } : value.length > maximum ? { code: 'tooLong', params: { maximum } } : null;

/**
 * What is wrong with a contact, field by field: the editor names the field by its column and
 * words the code; a CSV row says the problem, which names the template's column itself.
 */
function contactIssues(c: GuardianContact): ContactIssue[] {
  const out: ContactIssue[] = [];
  const name = lengthIssue(c.name, 200);
  if (name) out.push({ field: 'name', ...name, problem: rowProblem('contactNameLength') });
  const relation = lengthIssue(c.relation, 50);
  if (relation) out.push({ field: 'relation', ...relation, problem: rowProblem('contactRelationLength') });
  if (!email.safeParse(normaliseEmail(c.email)).success)
    out.push({ field: 'email', code: 'email', params: {}, problem: rowProblem('emailInvalid') });
  if (!LANGUAGE_PATTERN.test(c.language.trim()))
    out.push({ field: 'language', code: 'language', params: {}, problem: rowProblem('contactLanguage') });
  return out;
}

const contactProblems = (c: GuardianContact): RowProblem[] => contactIssues(c).map((i) => i.problem);

function parseRows(csv: string): CsvRow[] {
  return readCsvTable(csv, {
    rowError,
    maxRows: MAX_GUARDIAN_IMPORT_ROWS,
    missingColumns: (columns) => {
      const missing = ['name', 'relation', 'email'].filter((c) => !columns.includes(c));
      if (!columns.includes('student_number') && !columns.includes('student_email')) missing.push('student_number or student_email');
      return missing;
    },
  });
}

/**
 * Why the server refused one row of an imported file (a users or guardian-contacts CSV, a
 * OneRoster bundle), or what it did with it: a code and its parameters. The English sentence
 * stays beside it for API clients (`reason`), as `error.message` stays beside `error.code`;
 * the pages word the code in the reader's language (`rowProblem.<code>` in the admin catalog,
 * which must word every code here).
 *
 * A problem never quotes a cell of the file back (a refused email, role, language or code):
 * such a cell may hold a pupil's personal data or markup, and any length the body limit allows.
 * The row's line and the problem's `column` say where to look; parameters are the server's own
 * words (line numbers, counts, column and file names, the sourcedIds a bundle links by).
 */
import type { Params, ParamArgs } from './i18n/messages.js';

/** Each code's English sentence; `{name}` placeholders are its parameters. */
export const ROW_PROBLEMS = {
  // the file as a whole
  unparseableCsv: 'unparseable CSV',
  notUtf8: 'not UTF-8 text: save the file as "CSV UTF-8"',
  missingColumns: 'missing column(s): {columns}',
  tooManyRows: 'too many rows',
  bundleEmpty: 'expected one of {files}',
  bundleVersion: 'oneroster.version is not 1.1 (only 1.1 is read)',
  bundleDelta: 'file.{file} is delta (only bulk files are read)',
  bundleFileMissing: 'file.{file} is bulk but {file}.csv was not sent',
  // a users CSV
  nameMissing: 'name is missing',
  emailMissing: 'email is missing',
  emailInvalid: 'email is invalid',
  emailRepeated: 'duplicate email in the file (first on line {line})',
  emailTaken: 'email is already taken in this organisation',
  roleUnknown: 'unknown role (expected admin, teacher or student)',
  studentNumberMissing: 'student number is missing for a student',
  studentNumberRepeated: 'duplicate student number in the file (first on line {line})',
  passwordTooShort: 'password must be at least {min} characters',
  passwordTooLong: 'password must be at most {max} bytes',
  // a guardian contacts CSV
  contactNameLength: 'name: from 1 to 200 characters',
  contactRelationLength: 'relation: from 1 to 50 characters',
  contactLanguage: 'language is not a language tag such as en or fr',
  studentNumberShared: 'student number is shared by {count} students; use student_email',
  noSuchStudent: 'no such student',
  studentMissing: 'student_number or student_email is missing',
  tooManyContacts: 'more than {max} contacts for this student',
  // a subjects CSV
  subjectCodeInvalid: 'code is missing or not a subject code (at most 32 letters, digits, dot, dash, underscore)',
  subjectNameInvalid: 'name is missing or longer than 200 characters',
  subjectCodeRepeated: 'duplicate code in the file (first on line {line})',
  subjectCodeTaken: 'a subject already has this code',
  teacherEmailOne: 'teacher_email holds one email (the others go in co_teacher_emails)',
  teacherEmailMissing: 'teacher_email is missing: co-teachers need a first teacher',
  teacherEmailsInvalid: '{count} teacher email(s) are not valid addresses',
  teachersUnknown: '{count} email(s) of no user in this organisation: {values}',
  teachersNotTeachers: '{count} email(s) of a user who is not a teacher: {values}',
  teachersDeactivated: '{count} deactivated teacher(s): {values}',
  studentNumbersUnknown: '{count} student number(s) of no student: {values}',
  studentNumbersDeactivated: '{count} student number(s) of a deactivated student: {values}',
  studentNumbersShared: '{count} student number(s) held by several students: {values}',
  tooManyStudentNumbers: 'more than {max} student numbers',
  subjectDeletedSince: 'the subject was deleted by another admin after this import created it: its {count} student(s) were not enrolled',
  subjectArchivedSince: 'the subject was archived by another admin after this import created it: its {count} student(s) were not enrolled',
  // a classroom or room (subjects and meetings CSVs)
  roomIncomplete: 'latitude, longitude and radius_m go together: all three or none',
  latitudeInvalid: 'latitude is not a number from -90 to 90',
  longitudeInvalid: 'longitude is not a number from -180 to 180',
  radiusInvalid: 'radius_m is not a number of metres above 0 and at most 10000',
  networksInvalid: '{count} network(s) are not IP ranges (CIDR) or addresses',
  tooManyNetworks: 'more than {max} networks',
  // a meetings CSV
  subjectUnknown: 'subject_code is the code of no subject',
  subjectArchived: 'the subject is archived',
  termUnknown: 'term is the name of no term',
  termAmbiguous: '{count} terms have this name',
  weekdayInvalid: 'weekday is not 1 to 7 (1 = Monday) or a day name',
  startInvalid: 'start is not a time HH:MM',
  endInvalid: 'end is not a time HH:MM',
  endNotAfterStart: 'end is not after start',
  teacherNotOfSubject: 'the teacher does not teach this subject',
  presetUnknown: 'preset is not one of {presets}',
  meetingRepeated: 'the same meeting appears earlier in the file (line {line})',
  meetingExists: 'skipped: the subject already has this meeting',
  teacherDoubleBooked: "the teacher has {count} other subject's meeting(s) at that time: added anyway",
  // an organisation's absence categories
  categoryCount: 'from 1 to {max} categories',
  categoryCodePattern: 'upper-case letters, digits and _, at most 32',
  categoryCodeRepeated: '{code} is given twice',
  categoryLabelLength: 'from 1 to 100 characters',
  // a OneRoster bundle's rows
  sourcedIdMissing: 'sourcedId is missing',
  sourcedIdRepeated: 'duplicate sourcedId in the file (first on line {line})',
  toBeDeleted: 'status tobedeleted: the import never deletes',
  roleNotImported: 'role is not imported (students and teachers only)',
  changesFields: 'changes {fields}',
  linksSourcedId: 'links the sourcedId',
  linksSourcedIdOrTerms: 'links the sourcedId or its terms',
  enrolmentRepeated: 'the same enrolment appears earlier in the file',
  studentDeactivated: 'user {sourcedId} is deactivated (enabledUser=false, or in the service): a deactivated student is not enrolled',
  titleMissing: 'title is missing',
  datesNotDays: 'startDate and endDate must be YYYY-MM-DD',
  startAfterEnd: 'startDate is after endDate',
  loginEmailMissing: 'email is missing (it is the login)',
  namesMissing: 'givenName and familyName are missing',
  studentIdMissing: 'a student needs an identifier or a username (the student number)',
  emailOfOther: 'email belongs to the user of sourcedId {sourcedId}',
  adminAccount: 'the account is an admin of the service, which an import never changes',
  classCodeInvalid: 'classCode is not a subject code (at most 32 letters, digits, dot, dash, underscore)',
  titleInvalid: 'title is missing or longer than 200 characters',
  classCodeRepeated: 'duplicate classCode in the file (first on line {line})',
  termsUnknown: 'unknown academicSession(s) {terms}',
  classCodeOfOther: 'classCode belongs to the subject of sourcedId {sourcedId}',
  roleMismatch: 'user {sourcedId} is a {role}, not a {expected}',
  classNotImported: 'class {sourcedId} was not imported (see its row)',
  userNotImported: 'user {sourcedId} was not imported (see its row)',
  classUnknown: 'class {sourcedId} is neither in {file}.csv nor imported before',
  classGoneSince: 'the class was deleted or archived by another admin during this import: the student was not enrolled',
  userUnknown: 'user {sourcedId} is neither in {file}.csv nor imported before',
  subjectDeleted: "the class's subject was deleted meanwhile",
  subjectLinkedElsewhere: 'the local subject was linked to another sourcedId meanwhile',
  accountLinkedElsewhere: 'the local account was linked to another sourcedId meanwhile',
  /** A coded error of the shared table (a taken email, a bad code): the pages word `error.<code>`. */
  refused: '{message}',
} as const;

export type RowProblemCode = keyof typeof ROW_PROBLEMS;

/**
 * The column of the file a problem is in, for the problems of one cell (as the templates and
 * OneRoster spell their headers); a problem of the whole row or file has none.
 */
const PROBLEM_COLUMNS: Partial<Record<RowProblemCode, string>> = {
  nameMissing: 'name',
  emailMissing: 'email',
  emailInvalid: 'email',
  emailRepeated: 'email',
  emailTaken: 'email',
  roleUnknown: 'role',
  studentNumberMissing: 'student_number',
  studentNumberRepeated: 'student_number',
  passwordTooShort: 'password',
  passwordTooLong: 'password',
  subjectCodeInvalid: 'code',
  subjectNameInvalid: 'name',
  subjectCodeRepeated: 'code',
  subjectCodeTaken: 'code',
  teacherEmailOne: 'teacher_email',
  teacherEmailMissing: 'teacher_email',
  studentNumbersUnknown: 'student_numbers',
  studentNumbersDeactivated: 'student_numbers',
  studentNumbersShared: 'student_numbers',
  tooManyStudentNumbers: 'student_numbers',
  latitudeInvalid: 'latitude',
  longitudeInvalid: 'longitude',
  radiusInvalid: 'radius_m',
  networksInvalid: 'allowed_networks',
  tooManyNetworks: 'allowed_networks',
  subjectUnknown: 'subject_code',
  subjectArchived: 'subject_code',
  termUnknown: 'term',
  termAmbiguous: 'term',
  weekdayInvalid: 'weekday',
  startInvalid: 'start',
  endInvalid: 'end',
  endNotAfterStart: 'end',
  teacherNotOfSubject: 'teacher_email',
  presetUnknown: 'preset',
  contactNameLength: 'name',
  contactRelationLength: 'relation',
  contactLanguage: 'language',
  sourcedIdMissing: 'sourcedId',
  sourcedIdRepeated: 'sourcedId',
  toBeDeleted: 'status',
  roleNotImported: 'role',
  titleMissing: 'title',
  loginEmailMissing: 'email',
  emailOfOther: 'email',
  classCodeInvalid: 'classCode',
  titleInvalid: 'title',
  classCodeRepeated: 'classCode',
  classCodeOfOther: 'classCode',
};

/** One problem of a row: the code, the values its sentence names and, for one cell's problem, its column. */
export interface RowProblem {
  code: RowProblemCode;
  params: Record<string, string | number>;
  column?: string;
}

export const isRowProblemCode = (code: unknown): code is RowProblemCode => typeof code === 'string' && Object.hasOwn(ROW_PROBLEMS, code);

/** A problem of `code`, its parameters checked against its sentence's placeholders. */
export function rowProblem<C extends RowProblemCode>(code: C, ...args: ParamArgs<(typeof ROW_PROBLEMS)[C]>): RowProblem {
  const column = PROBLEM_COLUMNS[code];
  const params = (args[0] ?? {}) as Params<(typeof ROW_PROBLEMS)[C]> & Record<string, string | number>;
  return column === undefined ? { code, params } : { code, params, column };
}

/** The English sentence of a problem, as `reason` gives it to API clients. */
export function englishProblem(problem: RowProblem): string {
  // Filled as written, numbers unformatted: the API's reasons read as they always did ("line 1234").
  return ROW_PROBLEMS[problem.code].replace(/\{(\w+)\}/g, (_, name: string) => String(problem.params[name] ?? `{${name}}`));
}

/** The English `reason` of a row's problems, joined as the API always wrote them. */
export const englishReason = (problems: readonly RowProblem[]): string => problems.map(englishProblem).join('; ');

import type { Bundle } from '../../src/domain/oneroster/bundle.js';

// A small OneRoster 1.1 CSV bundle with every header of the spec's files: one school, one
// term, two classes, a teacher, three students (one with a bad email), a parent, and their
// enrollments (one pointing at the refused student).

const csv = (rows: string[][]): string => rows.map((r) => r.join(',')).join('\r\n') + '\r\n';

export const MANIFEST = csv([
  ['propertyName', 'value'],
  ['manifest.version', '1.0'],
  ['oneroster.version', '1.1'],
  ['file.academicSessions', 'bulk'],
  ['file.categories', 'absent'],
  ['file.classes', 'bulk'],
  ['file.courses', 'absent'],
  ['file.enrollments', 'bulk'],
  ['file.orgs', 'bulk'],
  ['file.users', 'bulk'],
]);

const ORG_HEADER = ['sourcedId', 'status', 'dateLastModified', 'name', 'type', 'identifier', 'parentSourcedId'];
const SESSION_HEADER = [
  'sourcedId',
  'status',
  'dateLastModified',
  'title',
  'type',
  'startDate',
  'endDate',
  'parentSourcedId',
  'schoolYear',
];
const CLASS_HEADER = [
  'sourcedId',
  'status',
  'dateLastModified',
  'title',
  'grades',
  'courseSourcedId',
  'classCode',
  'classType',
  'location',
  'schoolSourcedId',
  'termSourcedIds',
  'subjects',
  'subjectCodes',
  'periods',
];
export const USER_HEADER = [
  'sourcedId',
  'status',
  'dateLastModified',
  'enabledUser',
  'orgSourcedIds',
  'role',
  'username',
  'userIds',
  'givenName',
  'familyName',
  'middleName',
  'identifier',
  'email',
  'sms',
  'phone',
  'agentSourcedIds',
  'grades',
  'password',
];
const ENROLLMENT_HEADER = [
  'sourcedId',
  'status',
  'dateLastModified',
  'classSourcedId',
  'schoolSourcedId',
  'userSourcedId',
  'role',
  'primary',
  'beginDate',
  'endDate',
];

export const userRow = (
  sourcedId: string,
  role: string,
  given: string,
  family: string,
  identifier: string,
  email: string,
  enabled = 'true',
): string[] => [
  sourcedId,
  '',
  '',
  enabled,
  'org-1',
  role,
  identifier ? identifier.toLowerCase() : '',
  '',
  given,
  family,
  '',
  identifier,
  email,
  '',
  '',
  '',
  '',
  '',
];

export const USER_ROWS: string[][] = [
  userRow('t-1', 'teacher', 'Ada', 'Lovelace', '', 'ada@springfield.test'),
  userRow('s-1', 'student', 'Ben', 'Ng', 'S001', 'ben@springfield.test'),
  userRow('s-2', 'student', 'Cleo', 'Diaz', 'S002', 'Cleo@Springfield.test'),
  userRow('s-3', 'student', 'Dev', 'Rao', 'S003', 'not-an-email'),
  userRow('p-1', 'parent', 'Eve', 'Ng', '', 'eve@home.test'),
];

/** The sample bundle; `users` replaces the users.csv rows. */
export function sampleBundle(users: string[][] = USER_ROWS): Bundle {
  return {
    manifest: MANIFEST,
    orgs: csv([ORG_HEADER, ['org-1', '', '2026-08-01T00:00:00.000Z', 'Springfield High', 'school', 'SHS', '']]),
    academicSessions: csv([SESSION_HEADER, ['term-1', '', '', 'Fall 2026', 'term', '2026-09-01', '2026-12-20', '', '2027']]),
    classes: csv([
      CLASS_HEADER,
      ['cls-1', '', '', 'Algebra I', '09', 'crs-1', 'MATH101', 'scheduled', 'Room 4', 'org-1', 'term-1', 'Mathematics', '', '1'],
      ['cls-2', '', '', '"Biology, Advanced"', '10', 'crs-2', 'BIO201', 'scheduled', '', 'org-1', 'term-1', '', '', '2'],
    ]),
    users: csv([USER_HEADER, ...users]),
    enrollments: csv([
      ENROLLMENT_HEADER,
      ['e-1', '', '', 'cls-1', 'org-1', 't-1', 'teacher', 'true', '', ''],
      ['e-2', '', '', 'cls-1', 'org-1', 's-1', 'student', 'false', '', ''],
      ['e-3', '', '', 'cls-1', 'org-1', 's-2', 'student', 'false', '', ''],
      ['e-4', '', '', 'cls-2', 'org-1', 's-1', 'student', 'false', '', ''],
      ['e-5', '', '', 'cls-2', 'org-1', 's-3', 'student', 'false', '', ''],
      ['e-6', '', '', 'cls-2', 'org-1', 'p-1', 'parent', 'false', '', ''],
    ]),
  };
}

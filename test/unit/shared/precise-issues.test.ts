import { expect } from 'chai';
import type { z } from 'zod';
import { validateWindow } from '../../../src/domain/checks/time-window.js';
import { passwordIssue } from '../../../src/domain/accounts/passwords.js';
import { checkTimeZone, mergeSettings } from '../../../src/domain/organisations/organisation-service.js';
import { NO_ORGANISATION_SETTINGS } from '../../../src/domain/ports/organisations.js';
import { defaultTeacherSettings } from '../../../src/domain/ports/timetable.js';
import type { Subject } from '../../../src/domain/ports/subjects.js';
import { resolvePolicy, sessionDefaults } from '../../../src/domain/sessions/policy.js';
import { windowError } from '../../../src/domain/sessions/session-lifecycle.js';
import { SubjectCodeSchema } from '../../../src/domain/subjects/subject-input.js';
import { mergeTeacherSettings } from '../../../src/domain/timetable/teacher-settings.js';
import { SessionListQuery } from '../../../src/http/routes/attendance.js';
import { CategorySchema } from '../../../src/http/routes/excuses.js';
import { ContactSchema } from '../../../src/http/routes/guardians.js';
import { PatchBody as OrganisationPatch } from '../../../src/http/routes/organisation.js';
import { PatchBody as SubjectPatch } from '../../../src/http/routes/subjects.js';
import { TimeOfDay } from '../../../src/http/routes/timetable.js';
import { PatchBody as UserPatch } from '../../../src/http/routes/users.js';
import { checkRuleFields } from '../../../src/domain/alerts/alert-service.js';
import { checkGuardianName } from '../../../src/domain/privacy/privacy-service.js';
import { assertReportRange, assertTrendRange } from '../../../src/domain/reports/report-service.js';
import { assertExportRange } from '../../../src/domain/sessions/attendance-queries.js';
import { SubmitBody as ExcuseBody } from '../../../src/http/routes/excuses.js';
import { ExtendSchema } from '../../../src/realtime/handlers/session-handlers.js';
import { AppError } from '../../../src/shared/app-error.js';
import { validationIssues, type ValidationIssue } from '../../../src/shared/validation-issues.js';
import { pageEn } from '../../../src/web/locales/en.js';
import pageFr from '../../../src/web/locales/fr.js';

interface Coded {
  path: string;
  code: ValidationIssue['code'] | undefined;
  params: ValidationIssue['params'] | undefined;
}

const fromSchema = (schema: z.ZodType, value: unknown): Coded[] => {
  const parsed = schema.safeParse(value);
  if (parsed.success) throw new Error('expected a refusal');
  return validationIssues(parsed.error.issues).map(({ path, code, params }) => ({ path, code, params }));
};

const fromThrow = (run: () => unknown): Coded[] => {
  try {
    run();
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    const issues = (err.details as { issues: ValidationIssue[] }).issues;
    return issues.map(({ path, code, params }) => ({ path, code, params }));
  }
  throw new Error('expected a refusal');
};

const room = { location: null, allowedIpRanges: [] } as unknown as Subject;
const HOUR = 3_600_000;
const at = (h: number) => new Date(Date.UTC(2026, 2, 2, h));

/**
 * Every refusal a page can meet whose words were the generic "not a valid value" or "not in the
 * expected form" although the server knows what it wants: each now has a code naming it.
 */
const CASES: [string, () => Coded[], Coded[]][] = [
  ['an unknown time zone', () => fromThrow(() => checkTimeZone('Europe/Lyon')), [{ path: 'timezone', code: 'timeZone', params: {} }]],
  [
    'a language no catalog serves',
    () => fromThrow(() => mergeSettings(NO_ORGANISATION_SETTINGS, { language: 'de' as never })),
    [{ path: 'settings.language', code: 'notOneOf', params: { values: 'en, fr' } }],
  ],
  [
    'an unknown location mode',
    () => fromThrow(() => mergeSettings(NO_ORGANISATION_SETTINGS, { retention: { locationMode: 'all' as never } })),
    [{ path: 'settings.retention.locationMode', code: 'notOneOf', params: { values: 'keep, never' } }],
  ],
  [
    'an unknown timetable mode of a teacher',
    () => fromThrow(() => mergeTeacherSettings(defaultTeacherSettings('o', 'u'), { timetableOpen: 'never' as never })),
    [{ path: 'timetableOpen', code: 'notOneOf', params: { values: 'auto, tap' } }],
  ],
  [
    'an unknown preset of a teacher',
    () => fromThrow(() => mergeTeacherSettings(defaultTeacherSettings('o', 'u'), { defaultPolicy: { preset: 'strict' as never } })),
    [
      {
        path: 'defaultPolicy.preset',
        code: 'notOneOf',
        params: { values: 'manual, network, location, location-code, location-code-selfie' },
      },
    ],
  ],
  ['a subject code with a space', () => fromSchema(SubjectCodeSchema, 'MATH 1'), [{ path: '', code: 'codeCharacters', params: {} }]],
  [
    'an absence category code in lower case',
    () => fromSchema(CategorySchema, { code: 'medical', label: 'Medical', authorised: true }),
    [{ path: 'code', code: 'categoryCode', params: {} }],
  ],
  [
    'a guardian language that is no tag',
    () => fromSchema(ContactSchema, { name: 'A', relation: 'mother', email: 'a@example.org', language: 'French' }),
    [{ path: 'language', code: 'language', params: {} }],
  ],
  ['a meeting time that is no HH:MM', () => fromSchema(TimeOfDay, '8h30'), [{ path: '', code: 'time', params: {} }]],
  [
    'an unknown session status in a list',
    () => fromSchema(SessionListQuery, { status: 'open,done' }),
    [{ path: 'status', code: 'notOneOf', params: { values: 'scheduled, open, closing, closed, cancelled' } }],
  ],
  ['a user change naming no field', () => fromSchema(UserPatch, {}), [{ path: '', code: 'nothingToChange', params: {} }]],
  ['an organisation change naming no field', () => fromSchema(OrganisationPatch, {}), [{ path: '', code: 'nothingToChange', params: {} }]],
  [
    'a subject change naming no field',
    () => fromSchema(SubjectPatch, { teacherOverlap: true }),
    [{ path: '', code: 'nothingToChange', params: {} }],
  ],
  [
    'a late mark before the start, after the close',
    () => [
      ...fromThrow(() => {
        throw windowError(validateWindow({ startsAt: at(9), lateAfter: at(8), closesAt: at(10) }));
      }),
      ...fromThrow(() => {
        throw windowError(validateWindow({ startsAt: at(9), lateAfter: at(11), closesAt: at(10) }));
      }),
    ],
    [
      { path: 'lateAfter', code: 'beforeStart', params: {} },
      { path: 'lateAfter', code: 'afterClose', params: {} },
    ],
  ],
  [
    'a window too long, one already over',
    () =>
      fromThrow(() => {
        throw windowError(
          validateWindow({ startsAt: at(0), lateAfter: at(0), closesAt: new Date(at(0).getTime() + 25 * HOUR) }, { now: at(30) }),
        );
      }),
    [
      { path: 'closesAt', code: 'windowTooLong', params: { maximum: 24 } },
      { path: 'closesAt', code: 'notInFuture', params: {} },
    ],
  ],
  [
    'a password too short, too long in bytes (the set-password page names its field)',
    () =>
      [passwordIssue('short')!, passwordIssue('é'.repeat(40), 'newPassword')!].map(({ path, code, params }) => ({ path, code, params })),
    [
      { path: 'password', code: 'tooShort', params: { minimum: 8 } },
      { path: 'newPassword', code: 'tooManyBytes', params: { maximum: 72 } },
    ],
  ],
  [
    'liveness without the selfie',
    () =>
      fromThrow(() =>
        resolvePolicy({ liveness: true, selfie: false }, room, sessionDefaults(NO_ORGANISATION_SETTINGS, 15).policy, {
          selfie: true,
          liveness: true,
        }),
      ),
    [{ path: 'policy.liveness', code: 'needsSelfie', params: {} }],
  ],
  [
    'a session change naming no time',
    () => fromSchema(ExtendSchema, { sessionId: 's1' }),
    [{ path: 'closesAt', code: 'nothingToChange', params: {} }],
  ],
  [
    'an excuse for neither a session nor days, and for both',
    () => [
      ...fromSchema(ExcuseBody, { category: 'MEDICAL', fromDay: '2026-03-02' }),
      ...fromSchema(ExcuseBody, { category: 'MEDICAL', sessionId: 's1', fromDay: '2026-03-02', toDay: '2026-03-02' }),
    ],
    [
      { path: 'fromDay', code: 'sessionOrDays', params: {} },
      { path: 'sessionId', code: 'sessionOrDays', params: {} },
    ],
  ],
  [
    'report and export ranges ending before they start, or too long',
    () => [
      ...fromThrow(() => assertReportRange('2026-03-02', '2026-03-01')),
      ...fromThrow(() => assertTrendRange('2025-01-01', '2026-03-01')),
      ...fromThrow(() => assertExportRange('2026-03-02', '2026-03-01')),
      ...fromThrow(() => assertExportRange('2025-01-01', '2026-03-01')),
    ],
    [
      { path: 'to', code: 'endBeforeStart', params: {} },
      { path: 'to', code: 'rangeTooLong', params: { maximum: 400 } },
      { path: 'to', code: 'endBeforeStart', params: {} },
      { path: 'to', code: 'rangeTooLong', params: { maximum: 400 } },
    ],
  ],
  [
    'an alert rule without the window it needs, with one it does not take, with a threshold it does not take',
    () => [
      ...fromThrow(() => checkRuleFields({ kind: 'low-attendance', windowDays: null, thresholdPct: 75 })),
      ...fromThrow(() => checkRuleFields({ kind: 'consecutive-absences', windowDays: 14, thresholdPct: null })),
      ...fromThrow(() => checkRuleFields({ kind: 'repeated-lateness', windowDays: 14, thresholdPct: 75 })),
      ...fromThrow(() => checkRuleFields({ kind: 'low-attendance', windowDays: 14, thresholdPct: null })),
    ],
    [
      { path: 'windowDays', code: 'required', params: {} },
      { path: 'windowDays', code: 'notApplicable', params: {} },
      { path: 'thresholdPct', code: 'notApplicable', params: {} },
      { path: 'thresholdPct', code: 'required', params: {} },
    ],
  ],
  [
    "a guardian's consent without the guardian's name, a student's own with one",
    () => [...fromThrow(() => checkGuardianName('guardian', null)), ...fromThrow(() => checkGuardianName('student', 'Ann'))],
    [
      { path: 'guardianName', code: 'required', params: {} },
      { path: 'guardianName', code: 'notApplicable', params: {} },
    ],
  ],
];

describe('validation issues a page can meet are precise, not "not a valid value"', () => {
  for (const [name, run, expected] of CASES) {
    it(name, () => {
      expect(run()).to.deep.equal(expected);
    });
  }

  it('the French words of those codes are French and name the limit', () => {
    const fr = pageFr as Record<string, unknown>;
    const en = pageEn as Record<string, unknown>;
    for (const code of new Set(CASES.flatMap(([, , expected]) => expected.map((e) => e.code)))) {
      expect(fr[`issue.${code}`], code).to.be.ok.and.not.deep.equal(en[`issue.${code}`]);
      expect(fr[`issue.${code}`], code).to.not.equal(fr['issue.invalid']).and.not.equal(fr['issue.pattern']);
    }
  });
});

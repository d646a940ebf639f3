/**
 * One bad field of a payload or request body, as `details.issues` lists it. `message` is
 * English, as it always was, for API clients and logs; `code` and `params` say the same in
 * data, so a page words it in its own language (`issue.<code>` in the shared page catalog,
 * which must word every code here), as `error.code` sits beside `error.message`.
 */
import type { z } from 'zod';
import type { RowProblem } from './row-problems.js';

export const ISSUE_CODES = [
  /** Left out, or empty where a value is needed. */
  'required',
  // a value of the wrong kind
  'notText',
  'notNumber',
  'notInteger',
  'notBoolean',
  'notList',
  'notObject',
  // limits: `minimum`, `maximum` (characters, items or the number itself), `divisor`
  'tooShort',
  'tooLong',
  'tooFew',
  'tooMany',
  'tooSmall',
  'tooBig',
  'notAbove',
  'notBelow',
  'notMultiple',
  /** A password longer than `maximum` bytes (UTF-8: an accented letter takes two). */
  'tooManyBytes',
  // a string not in its form
  'email',
  'url',
  'day',
  'time',
  'dateTime',
  'pattern',
  /** An IPv4 or IPv6 CIDR range or a bare address. */
  'cidr',
  /** Not an IANA time zone (Europe/Paris). */
  'timeZone',
  /** Not a BCP 47 language tag (en, fr-CA). */
  'language',
  /** A subject code: letters, digits, dot, dash and underscore only. */
  'codeCharacters',
  /** An absence category code: upper-case letters, digits and _, starting with a letter. */
  'categoryCode',
  /** A calendar day outside `minimum`..`maximum` (days as YYYY-MM-DD). */
  'dayOutOfRange',
  /** Not one of `values` (listed, comma-separated). */
  'notOneOf',
  /** A field the schema does not have (a misspelt name). */
  'unknownField',
  /** An end (a day, a time) before its start. */
  'endBeforeStart',
  /** A range of days longer than `maximum` days. */
  'rangeTooLong',
  /** A change (PATCH) naming no field to change. */
  'nothingToChange',
  /** A session's late mark before its start, or after its close. */
  'beforeStart',
  'afterClose',
  /** A session's window longer than `maximum` hours. */
  'windowTooLong',
  /** A session's close that is already past. */
  'notInFuture',
  /** Liveness asked for without the selfie check it is a step of. */
  'needsSelfie',
  /** A session, or a first and last day: one of the two, not both (an excuse). */
  'sessionOrDays',
  /** A field this kind of thing does not take (a window for a rule counting in a row, a guardian's name on a student's own consent). */
  'notApplicable',
  /** A teacher chosen for a subject they do not teach. */
  'notSubjectTeacher',
  /** A day on which the meeting does not take place. */
  'noMeetingThatDay',
  /** A term, or another thing named by its id, that does not exist (deleted meanwhile). */
  'notFound',
  /** Anything else: the English `message` says what. */
  'invalid',
] as const;

export type IssueCode = (typeof ISSUE_CODES)[number];

export const isIssueCode = (code: unknown): code is IssueCode => (ISSUE_CODES as readonly unknown[]).includes(code);

export interface ValidationIssue {
  path: string;
  message: string;
  /** What is wrong, for a client to word; absent on issues an older server wrote. */
  code?: IssueCode;
  /** The limits or values the code names (`minimum`, `maximum`, `divisor`, `values`). */
  params?: Record<string, string | number>;
  /** The message as a code the pages word, when the server checked the field itself (a guardian contact). */
  problem?: RowProblem;
}

/** An issue the server writes itself (not from a schema), coded as a schema's would be. */
export function issue(path: string, message: string, code: IssueCode, params: Record<string, string | number> = {}): ValidationIssue {
  return { path, message, code, params };
}

/**
 * A refinement's options naming its issue code, so the code survives zod's `custom` issue:
 * `.refine(isValidCidr, issueRule('cidr', 'Expected a CIDR range.'))`.
 */
export const issueRule = (code: IssueCode, message: string, params: Record<string, string | number> = {}) => ({
  message,
  params: { issue: code, ...params },
});

const TYPE_CODES: Record<string, IssueCode> = {
  string: 'notText',
  number: 'notNumber',
  int: 'notInteger',
  boolean: 'notBoolean',
  array: 'notList',
  tuple: 'notList',
  object: 'notObject',
  record: 'notObject',
};

const FORMAT_CODES: Record<string, IssueCode> = { email: 'email', url: 'url', date: 'day', time: 'time', datetime: 'dateTime' };

type Coded = Pick<ValidationIssue, 'code' | 'params'>;

const limit = (value: number | bigint | Date): number => (value instanceof Date ? value.getTime() : Number(value));

function sizeIssue(i: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig): Coded {
  const small = i.code === 'too_small';
  const bound = limit(small ? i.minimum : i.maximum);
  const params = small ? { minimum: bound } : { maximum: bound };
  if (i.origin === 'string') return { code: small ? 'tooShort' : 'tooLong', params };
  if (i.origin === 'array' || i.origin === 'set') return { code: small ? 'tooFew' : 'tooMany', params };
  if (i.origin === 'number' || i.origin === 'int' || i.origin === 'bigint') {
    const inclusive = i.inclusive !== false;
    return { code: small ? (inclusive ? 'tooSmall' : 'notAbove') : inclusive ? 'tooBig' : 'notBelow', params };
  }
  return { code: 'invalid', params: {} };
}

/** The code and parameters of one zod issue (every kind zod reports has a branch). */
export function issueCode(i: z.core.$ZodIssue): Coded {
  switch (i.code) {
    case 'invalid_type':
      // zod reports no input by default; its message names a missing one ("received undefined").
      if (/received undefined$/.test(i.message)) return { code: 'required', params: {} };
      return { code: TYPE_CODES[i.expected] ?? 'invalid', params: {} };
    case 'too_small':
    case 'too_big':
      return sizeIssue(i);
    case 'invalid_format':
      return { code: FORMAT_CODES[i.format] ?? 'pattern', params: {} };
    case 'not_multiple_of':
      return { code: 'notMultiple', params: { divisor: Number(i.divisor) } };
    case 'invalid_value':
      return { code: 'notOneOf', params: { values: i.values.map(String).join(', ') } };
    case 'unrecognized_keys':
      return { code: 'unknownField', params: {} };
    case 'custom': {
      const { issue: code, ...rest } = (i.params ?? {}) as Record<string, unknown>;
      const params: Record<string, string | number> = {};
      for (const [name, value] of Object.entries(rest)) if (typeof value === 'string' || typeof value === 'number') params[name] = value;
      return isIssueCode(code) ? { code, params } : { code: 'invalid', params: {} };
    }
    case 'invalid_union':
    case 'invalid_key':
    case 'invalid_element':
      return { code: 'invalid', params: {} };
  }
}

/**
 * The most issues a refusal lists. Unbounded, a body of misspelt keys (ninety thousand fit in the
 * default megabyte) was answered with an issue each, nine times the request's size, to anyone
 * before a login or a rate limit; no form has this many fields.
 */
export const MAX_ISSUES = 100;

/**
 * The most characters of one field name a refusal repeats, past which it is cut and ends with
 * `…`. A name is the client's own text: unbounded, a student's command of 100 unknown keys of
 * 9,000 characters was answered with 900 KB, as much as it sent, for no budget. No field of
 * ours is a tenth as long.
 */
export const MAX_FIELD_NAME_LENGTH = 64;

/** `details` of a VALIDATION_FAILED: the first MAX_ISSUES issues, and how many more there were. */
export interface IssueDetails {
  issues: ValidationIssue[];
  /** Issues left off past MAX_ISSUES; absent when every one is listed. */
  issuesOmitted?: number;
}

/** The issues of a refusal as its `details`, at most MAX_ISSUES of them (validationIssues). */
export function issueDetails(issues: readonly z.core.$ZodIssue[], prefix?: string): IssueDetails {
  const all = validationIssues(issues, prefix);
  if (all.length <= MAX_ISSUES) return { issues: all };
  return { issues: all.slice(0, MAX_ISSUES), issuesOmitted: all.length - MAX_ISSUES };
}

/**
 * Each issue names its field (`location.lat`); an unknown field is an issue of its own, named
 * by its path, rather than one nameless issue listing keys. Sockets and HTTP answer alike.
 * `prefix` puts the issues under the field a nested schema checked (`location`). Each name in a
 * path is cut to MAX_FIELD_NAME_LENGTH characters.
 */
export function validationIssues(issues: readonly z.core.$ZodIssue[], prefix?: string): ValidationIssue[] {
  const pathOf = (path: readonly PropertyKey[]) => [...(prefix === undefined ? [] : [prefix]), ...path].map(fieldName).join('.');
  return issues.flatMap((i) =>
    i.code === 'unrecognized_keys'
      ? i.keys.map((key) => issue(pathOf([...i.path, key]), 'Unknown field.', 'unknownField'))
      : [{ path: pathOf(i.path), message: i.message, ...issueCode(i) }],
  );
}

/** One segment of a path as a refusal names it: at most MAX_FIELD_NAME_LENGTH characters, then `…`. */
function fieldName(segment: PropertyKey): string {
  const name = String(segment);
  if (name.length <= MAX_FIELD_NAME_LENGTH) return name;
  let cut = name.slice(0, MAX_FIELD_NAME_LENGTH);
  // Not half a character outside the BMP: a lone surrogate is not text a client can decode.
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return `${cut}…`;
}

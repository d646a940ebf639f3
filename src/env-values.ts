import { z } from 'zod';

/**
 * The schemas of environment variables, what each allows in words, and the line a refused start
 * prints for a bad value. README's configuration table, deploy/systemd/attendance.env.example and
 * the start's message all say the same range because they all come from here (a test compares).
 */

/** A whole number from `min` to `max`. */
export const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** A number, decimals allowed, from `min` to `max`. */
export const num = (min: number, max: number) => z.coerce.number().min(min).max(max);

/** `true`/`false`, `yes`/`no`, `1`/`0`. */
export const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes')
  .meta({ allowed: '`true` or `false` (`yes`/`no`, `1`/`0` too)' });

interface Bounds {
  allowed?: string;
  type?: string;
  minimum?: number;
  maximum?: number;
  enum?: unknown[];
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
}

const bounds = (schema: z.ZodType): Bounds => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Bounds;

/** 86400000 as `86 400 000`: README's spelling, and a count of zeros an operator can check. */
export const spaced = (n: number): string => n.toLocaleString('en-US', { maximumFractionDigits: 20 }).replace(/,/g, ' ');

/**
 * What a variable's schema accepts, in README's words (backticks around literal values), or null
 * when it takes any text (a path, a host). A schema with a pattern or a format must say it with
 * `.meta({ allowed })`: a regular expression is no answer for an operator.
 */
export function allowedValues(schema: z.ZodType): string | null {
  const b = bounds(schema);
  if (b.allowed !== undefined) return b.allowed;
  if (b.minimum !== undefined && b.maximum !== undefined) {
    return `${spaced(b.minimum)} to ${spaced(b.maximum)}${b.type === 'integer' ? '' : ' (decimal)'}`;
  }
  if (b.enum) return b.enum.map((v) => `\`${String(v)}\``).join(', ');
  if (b.maxLength !== undefined) return `${spaced(b.minLength ?? 0)} to ${spaced(b.maxLength)} characters`;
  // At least one character says nothing: an empty variable counts as unset.
  if (b.minLength !== undefined && b.minLength > 1) return `at least ${spaced(b.minLength)} characters`;
  return null;
}

/** Whether the schema bounds its variable at all (a range, a list, a length, a format). */
export function isBounded(schema: z.ZodType): boolean {
  const b = bounds(schema);
  return (
    b.allowed !== undefined ||
    b.minimum !== undefined ||
    b.maximum !== undefined ||
    b.enum !== undefined ||
    b.maxLength !== undefined ||
    (b.minLength ?? 0) > 1 ||
    b.pattern !== undefined ||
    b.format !== undefined
  );
}

/** Values never repeated in a log: secrets, and the password inside a URL. */
const SECRET_NAME = /SECRET|TOKEN|PASSWORD/;

/** The value as the start may print it: secrets by length only, credentials of a URL masked. */
export function shownValue(name: string, value: string | undefined): string {
  if (value === undefined) return `${name} (unset)`;
  if (SECRET_NAME.test(name)) return `${name} (${value.length} characters, not shown)`;
  // Up to the last @: a password with an unencoded / or # is the very value refused; and a value
  // refused for its shape (quoted by an env file, a space first, a slash missing, no scheme)
  // still holds its password, so only a scheme followed by a slash is kept before the mask.
  const masked = value.replace(/^([^a-z]*[a-z][a-z0-9+.-]*:\/+)?[^]*@/i, '$1***@');
  const cut = masked.length > 80 ? `${masked.slice(0, 77)}...` : masked;
  // Spaces, quotes or control characters would make the value unreadable unquoted.
  return `${name}=${/^[\x21-\x7e]*$/.test(cut) && !cut.includes('"') ? cut : JSON.stringify(cut)}`;
}

/** What went wrong, in a few words; the issue's own message where the schema wrote one. */
function reasonOf(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'too_small':
      return issue.origin === 'string' ? 'too short' : 'too small';
    case 'too_big':
      return issue.origin === 'string' ? 'too long' : 'too big';
    case 'invalid_type':
      return issue.expected === 'int' ? 'not a whole number' : issue.expected === 'number' ? 'not a number' : issue.message;
    case 'invalid_value':
      return 'not one of the values';
    default:
      return issue.message;
  }
}

/**
 * One line per bad value, naming the variable, the value given and what it allows:
 * `TIMETABLE_INTERVAL_MS=2000: too small; allowed: 60 000 to 86 400 000`.
 */
export function problemLine(
  issue: z.core.$ZodIssue,
  raw: Readonly<Record<string, string | undefined>>,
  shape: Readonly<Record<string, z.ZodType>>,
): string {
  const name = String(issue.path[0] ?? '');
  if (!name) return issue.message;
  const schema = shape[name];
  const allowed = schema ? allowedValues(schema) : null;
  const shown = shownValue(name, raw[name]);
  // A format's own message already says what the value must look like.
  if (issue.code === 'invalid_format' || !allowed) return `${shown}: ${reasonOf(issue)}`;
  return `${shown}: ${reasonOf(issue)}; allowed: ${allowed.replace(/`/g, '')}`;
}

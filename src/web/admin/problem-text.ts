/**
 * The server's reasons for an imported row in the page's language. The server sends each as a
 * code and its parameters beside the English `reason` (src/shared/row-problems.ts); the admin
 * catalog words every code (`rowProblem.<code>`). A role it names is said as the page says
 * roles, a changed field as the audit trail names it, a coded error by its sentence. A row
 * without codes (an older server) keeps the English reason.
 */
import { ROLES } from '../../shared/events.js';
import { isRowProblemCode, type RowProblem } from '../../shared/row-problems.js';
import { at } from '../lib/admin-text.js';
import { errorMessage, formatNumber, pageLanguage } from '../lib/i18n.js';
import { fieldLabel } from './audit-labels.js';

type Params = Record<string, string | number>;

/** `at` for a key built from a code the server sent (checked by isRowProblemCode). */
const say = at as (key: string, params?: Params) => string;

const roleWord = (role: string | number): string | number =>
  (ROLES as readonly unknown[]).includes(role) ? say(`role.${role}`).toLocaleLowerCase(pageLanguage()) : role;

function wordedParams(p: RowProblem): Params {
  const params: Params = {};
  for (const [name, value] of Object.entries(p.params)) {
    // Line numbers and counts as the language writes numbers; roles and fields in words.
    if (typeof value === 'number') params[name] = formatNumber(value);
    else if (p.code === 'roleMismatch' && (name === 'role' || name === 'expected')) params[name] = roleWord(value);
    else if (p.code === 'changesFields' && name === 'fields') params[name] = value.split(', ').map(fieldLabel).join(', ');
    else params[name] = value;
  }
  return params;
}

/** One problem in the page's language. */
export function problemText(p: RowProblem): string {
  if (p.code === 'refused') {
    // A coded error: said as the page says that code elsewhere (in English, the server's own message).
    const code = String(p.params['code'] ?? '');
    const message = String(p.params['message'] ?? '');
    return pageLanguage() === 'en' ? message : (errorMessage(code) ?? message);
  }
  return say(`rowProblem.${p.code}`, wordedParams(p));
}

/** A row's problems in the page's language, else the server's English `reason`. */
export function problemsText(problems: readonly RowProblem[] | null | undefined, reason: string | null): string {
  const known = (problems ?? []).filter((p) => isRowProblemCode(p.code));
  if (known.length === 0 || known.length !== (problems ?? []).length) return reason ?? '';
  return known.map(problemText).join(at('admin.listSeparator'));
}

/**
 * The rows of a refused file: those the server describes (the first LISTED_ROWS_MAX), how many
 * are bad in all, and every bad line (an older server listing them all sends neither).
 */
export interface RefusedRows<R> {
  rows: R[];
  total: number;
  lines: number[];
}

export function refusedRows<R extends { line: number }>(details: Record<string, unknown> | undefined): RefusedRows<R> | null {
  const rows = details?.['rows'];
  if (!Array.isArray(rows)) return null;
  const listed = rows as R[];
  const total = details?.['rowsInvalid'];
  const lines = details?.['lines'];
  return {
    rows: listed,
    total: typeof total === 'number' ? total : listed.length,
    lines: Array.isArray(lines) ? (lines as number[]) : listed.map((r) => r.line),
  };
}

/** Says how many bad rows the table below does not show; empty when it shows them all. */
export function unlistedText(refused: RefusedRows<unknown>): string {
  const more = refused.total - refused.rows.length;
  return more > 0 ? at('import.unlisted', { count: more, listed: formatNumber(refused.rows.length) }) : '';
}

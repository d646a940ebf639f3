/**
 * A refused list in words. The server names each refused field by its path ("contacts.1.email"
 * in `details.issues`); the table's reader counts rows from 1. "Row n, field" is said in the page's
 * language, and the reason too when the server sent it as a code (`problem`); otherwise it is the
 * server's (English).
 */
import { ApiError } from '../lib/auth.js';
import { at } from '../lib/admin-text.js';
import { errorText } from '../lib/dom.js';
import { formatNumber } from '../lib/i18n.js';
import type { RowProblem } from '../../shared/row-problems.js';
import { problemsText } from './problem-text.js';

export function rowIssuesText(err: unknown, list: string): string {
  const issues = err instanceof ApiError ? err.body.details?.['issues'] : undefined;
  if (!Array.isArray(issues) || issues.length === 0) return errorText(err);
  const rowPath = new RegExp(`^${list}\\.(\\d+)\\.(\\w+)$`);
  return (issues as Array<{ path: string; message: string; problem?: RowProblem }>)
    .map(({ path, message: english, problem }) => {
      const message = problem ? problemsText([problem], english) : english;
      const field = rowPath.exec(path);
      return field
        ? at('admin.rowProblem', { row: formatNumber(Number(field[1]) + 1), field: field[2] ?? '', message })
        : `${path}: ${message}`;
    })
    .join(' ');
}

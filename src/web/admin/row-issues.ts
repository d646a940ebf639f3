/**
 * A refused list in words. The server names each refused field by its path ("contacts.1.email"
 * in `details.issues`); the table's reader counts rows from 1. The field's reason is the server's
 * (English); "Row n, field" is said in the page's language.
 */
import { ApiError } from '../lib/auth.js';
import { at } from '../lib/admin-text.js';
import { errorText } from '../lib/dom.js';
import { formatNumber } from '../lib/i18n.js';

export function rowIssuesText(err: unknown, list: string): string {
  const issues = err instanceof ApiError ? err.body.details?.['issues'] : undefined;
  if (!Array.isArray(issues) || issues.length === 0) return errorText(err);
  const rowPath = new RegExp(`^${list}\\.(\\d+)\\.(\\w+)$`);
  return (issues as Array<{ path: string; message: string }>)
    .map(({ path, message }) => {
      const field = rowPath.exec(path);
      return field
        ? at('admin.rowProblem', { row: formatNumber(Number(field[1]) + 1), field: field[2] ?? '', message })
        : `${path}: ${message}`;
    })
    .join(' ');
}

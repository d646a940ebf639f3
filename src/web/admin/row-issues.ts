/**
 * A refused list in words. The server names each refused field by its path ("contacts.1.email"
 * in `details.issues`); the table's reader counts rows from 1. "Row n, field" is said in the page's
 * language, and the reason too: a row problem's code (`problem`), else the issue's code; in
 * English the server's own message.
 */
import { ApiError } from '../lib/auth.js';
import { at } from '../lib/admin-text.js';
import { errorText } from '../lib/dom.js';
import { formatNumber, pageLanguage, t } from '../lib/i18n.js';
import { issueProblem } from '../lib/issue-text.js';
import type { ValidationIssue } from '../../shared/validation-issues.js';
import { problemsText } from './problem-text.js';

export function rowIssuesText(err: unknown, list: string): string {
  const issues = err instanceof ApiError ? err.body.details?.['issues'] : undefined;
  if (!Array.isArray(issues) || issues.length === 0) return errorText(err);
  const rowPath = new RegExp(`^${list}\\.(\\d+)\\.(\\w+)$`);
  return (issues as ValidationIssue[])
    .map((issue) => {
      const { path, message: english, problem } = issue;
      const message = problem ? problemsText([problem], english) : pageLanguage() === 'en' ? english : issueProblem(issue);
      const field = rowPath.exec(path);
      return field
        ? at('admin.rowProblem', { row: formatNumber(Number(field[1]) + 1), field: field[2] ?? '', message })
        : t('issues.field', { field: path, problem: message });
    })
    .join(' ');
}

/**
 * A refused list in words. The server names each refused field by its path ("contacts.1.email"
 * in `details.issues`); the table's reader counts rows from 1 and knows each field by its
 * column's heading, so "Row 2, Email" is said with the heading the editor shows, never the
 * API's key. What is wrong is worded from the issue's code when it names the rule (a length,
 * a language tag), else from the row problem's code (`problem`, a duplicate), in the page's
 * language; an issue with neither says the server's English message in English.
 */
import { ApiError } from '../lib/auth.js';
import { at } from '../lib/admin-text.js';
import { errorText } from '../lib/dom.js';
import { formatNumber, pageLanguage, t } from '../lib/i18n.js';
import { issueProblem } from '../lib/issue-text.js';
import { isIssueCode, type ValidationIssue } from '../../shared/validation-issues.js';
import { problemsText } from './problem-text.js';

/** The editor's words for its list (`contacts`) and each column of a row (`email`), in the page's language. */
export interface RowLabels {
  list: string;
  fields: Readonly<Record<string, string>>;
}

function problemOf(issue: ValidationIssue): string {
  const { message: english, problem, code } = issue;
  if (isIssueCode(code) && code !== 'invalid') return issueProblem(issue);
  if (problem) return problemsText([problem], english);
  return pageLanguage() === 'en' ? english : issueProblem(issue);
}

export function rowIssuesText(err: unknown, list: string, labels: RowLabels): string {
  const issues = err instanceof ApiError ? err.body.details?.['issues'] : undefined;
  if (!Array.isArray(issues) || issues.length === 0) return errorText(err);
  const rowPath = new RegExp(`^${list}\\.(\\d+)\\.(\\w+)$`);
  return (issues as ValidationIssue[])
    .map((issue) => {
      const message = problemOf(issue);
      const field = rowPath.exec(issue.path);
      if (field) {
        const key = field[2] ?? '';
        return at('admin.rowProblem', { row: formatNumber(Number(field[1]) + 1), field: labels.fields[key] ?? key, message });
      }
      return t('issues.field', { field: issue.path === list ? labels.list : issue.path, problem: message });
    })
    .join(' ');
}

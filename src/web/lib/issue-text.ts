/**
 * A refused request's bad fields (`details.issues` of VALIDATION_FAILED) in the page's language.
 * The server's `message` of each is English; its `code` and `params` (src/shared/validation-issues.ts)
 * are worded from the shared catalog (`issue.<code>`). A field is named by the form that sent it:
 * the element marked `data-field="<path>"` (a list's heading), else the label of the control
 * named as the path's last part; without a form, by its path. An issue without a code (an older
 * server) keeps its English message in English and says only "not a valid value" otherwise.
 */
import { isIssueCode, type IssueCode, type ValidationIssue } from '../../shared/validation-issues.js';
import { formatNumber, pageLanguage, t } from './i18n.js';

type Params = Record<string, string | number>;

/** `t` for a key built from a code the server sent (checked by isIssueCode). */
const say = t as (key: string, params?: Params) => string;

/** The plural messages, and the limit each counts. */
const COUNTED: Partial<Record<IssueCode, 'minimum' | 'maximum'>> = {
  tooShort: 'minimum',
  tooLong: 'maximum',
  tooFew: 'minimum',
  tooMany: 'maximum',
  rangeTooLong: 'maximum',
  windowTooLong: 'maximum',
  tooManyBytes: 'maximum',
};

/** The issues of a VALIDATION_FAILED error (an ApiError or a CommandError), null for any other. */
export function issuesOf(err: unknown): ValidationIssue[] | null {
  if (!(err instanceof Error) || !('body' in err) || (err as { code?: unknown }).code !== 'VALIDATION_FAILED') return null;
  const issues = (err.body as { details?: Record<string, unknown> } | undefined)?.details?.['issues'];
  if (!Array.isArray(issues) || issues.length === 0) return null;
  return issues.every((i: { path?: unknown; message?: unknown }) => typeof i.path === 'string' && typeof i.message === 'string')
    ? (issues as ValidationIssue[])
    : null;
}

/** What is wrong with one field, without its name. */
export function issueProblem(issue: ValidationIssue): string {
  const { code } = issue;
  if (!isIssueCode(code)) return pageLanguage() === 'en' ? issue.message : say('issue.invalid');
  const params: Params = {};
  for (const [name, value] of Object.entries(issue.params ?? {})) params[name] = typeof value === 'number' ? formatNumber(value) : value;
  const counted = COUNTED[code];
  if (counted) params['count'] = Number(issue.params?.[counted] ?? 0);
  return say(`issue.${code}`, params);
}

function textOf(el: Element): string {
  // A label's hints ("(optional)", "(empty: one day)") are not the field's name.
  const copy = el.cloneNode(true) as Element;
  copy.querySelectorAll('.muted').forEach((hint) => hint.remove());
  return (copy.textContent ?? '').replace(/\s+/g, ' ').trim();
}

function labelIn(form: ParentNode, field: string): string | null {
  const marked = form.querySelector(`[data-field="${CSS.escape(field)}"]`);
  if (marked) return textOf(marked) || null;
  const control = form.querySelector(`[name="${CSS.escape(field.split('.').at(-1) ?? field)}"]`);
  const label = control && 'labels' in control ? (control as HTMLInputElement).labels?.[0] : undefined;
  if (label) return textOf(label) || null;
  return control?.getAttribute('aria-label') ?? null;
}

/** The field of `path` as the form names it: "Allowed networks, item 2" for `allowedIpRanges.1`. */
export function fieldName(path: string, form?: ParentNode | null): string {
  const parts = path.split('.');
  const index = parts.findIndex((p) => /^\d+$/.test(p));
  const field = (index === -1 ? parts : parts.slice(0, index)).join('.');
  const named = form && field ? labelIn(form, field) : null;
  if (!named) return path;
  return index === -1 ? named : say('issues.item', { field: named, n: formatNumber(Number(parts[index]) + 1) });
}

/** Every issue in the page's language: "The request is invalid: Name: at most 200 characters." */
export function issuesText(issues: readonly ValidationIssue[], form?: ParentNode | null): string {
  const problems = issues.map((issue) => {
    const problem = issueProblem(issue);
    const field = fieldName(issue.path, form);
    return field ? say('issues.field', { field, problem }) : problem;
  });
  return say('issues.refused', { problems: problems.join(say('issues.separator')) });
}

/**
 * A new school year on the Subjects page: next year's subjects made from the ticked ones (a code
 * rule, their teachers and students still active, a term's meetings), checked first with
 * nothing written, then made; each subject's outcome listed.
 */
import { apiJson } from '../lib/auth.js';
import { announce, byId, errorText, h } from '../lib/dom.js';
import { at } from '../lib/admin-text.js';
import { jsonBody } from './fetch-all.js';

/** Subjects per request (the API takes at most 200). */
const SUBJECTS_MAX = 200;

interface RolloverRow {
  subjectId: string;
  code: string;
  newCode: string | null;
  outcome: 'new' | 'exists' | 'finished' | 'refused';
  problem: keyof typeof PROBLEM_KEYS | null;
  renamedTo: string | null;
  teachersLeftOut: string[];
  students: number;
  studentsLeftOut: string[];
  meetings: number;
  meetingsRefused: { meetingId: string }[];
}

const PROBLEM_KEYS = {
  codeInvalid: 'rollover.problem.codeInvalid',
  codeRepeated: 'rollover.problem.codeRepeated',
  codeTaken: 'rollover.problem.codeTaken',
  codeUnchanged: 'rollover.problem.codeUnchanged',
  sourceInUse: 'rollover.problem.sourceInUse',
} as const;

interface Term {
  id: string;
  name: string;
}

const value = (id: string): string => byId<HTMLInputElement>(id).value.trim();
const optional = (id: string): string | undefined => value(id) || undefined;

function requestBody(ids: string[]): unknown {
  const from = byId<HTMLSelectElement>('ro-term-from').value;
  const to = byId<HTMLSelectElement>('ro-term-to').value;
  return {
    subjectIds: ids,
    codes: {
      prefix: optional('ro-prefix'),
      suffix: optional('ro-suffix'),
      ...(value('ro-replace-from') ? { replace: { from: value('ro-replace-from'), to: value('ro-replace-to') } } : {}),
    },
    previousSuffix: optional('ro-previous'),
    carryStudents: byId<HTMLInputElement>('ro-students').checked,
    ...(from && to ? { terms: [{ from, to }] } : {}),
  };
}

function outcomeText(r: RolloverRow, dryRun: boolean): string {
  if (r.outcome === 'refused') return at(PROBLEM_KEYS[r.problem ?? 'codeTaken']);
  if (r.outcome === 'exists') return at('rollover.exists');
  if (r.outcome === 'finished') return at(dryRun ? 'rollover.willFinish' : 'rollover.finished');
  return at(dryRun ? 'rollover.willCreate' : 'rollover.created');
}

function detailText(r: RolloverRow): string {
  const parts = [at('rollover.students', { count: r.students }), at('rollover.meetings', { count: r.meetings })];
  if (r.renamedTo) parts.push(at('rollover.renamed', { code: r.renamedTo }));
  if (r.teachersLeftOut.length > 0) parts.push(at('rollover.teachersLeftOut', { count: r.teachersLeftOut.length }));
  if (r.studentsLeftOut.length > 0) parts.push(at('rollover.studentsLeftOut', { count: r.studentsLeftOut.length }));
  if (r.meetingsRefused.length > 0) parts.push(at('rollover.meetingsRefused', { count: r.meetingsRefused.length }));
  return parts.join(at('admin.listSeparator'));
}

function showRows(rows: RolloverRow[], dryRun: boolean): void {
  byId('rollover-body').replaceChildren(
    ...rows.map((r) =>
      h(
        'tr',
        { 'data-outcome': r.outcome },
        h('td', {}, r.code),
        h('td', {}, r.newCode ?? ''),
        h('td', {}, outcomeText(r, dryRun)),
        h('td', {}, r.outcome === 'new' || r.outcome === 'finished' ? detailText(r) : ''),
      ),
    ),
  );
  byId('rollover-table').hidden = rows.length === 0;
}

async function run(ids: string[], dryRun: boolean): Promise<string> {
  const rows: RolloverRow[] = [];
  for (let i = 0; i < ids.length; i += SUBJECTS_MAX) {
    const answer = await apiJson<{ rows: RolloverRow[] }>(
      `api/v1/subjects/rollover${dryRun ? '?dryRun=true' : ''}`,
      jsonBody('POST', requestBody(ids.slice(i, i + SUBJECTS_MAX))),
    );
    rows.push(...answer.rows);
  }
  showRows(rows, dryRun);
  const made = rows.filter((r) => r.outcome === 'new').length;
  const refused = rows.filter((r) => r.outcome === 'refused').length;
  return at(dryRun ? 'rollover.checked' : 'rollover.done', { count: made, refused, exists: rows.length - made - refused });
}

async function fillTerms(): Promise<void> {
  const { terms } = await apiJson<{ terms: Term[] }>('api/v1/timetable/calendar');
  for (const id of ['ro-term-from', 'ro-term-to']) {
    byId<HTMLSelectElement>(id).replaceChildren(
      h('option', { value: '' }, at('rollover.noTerm')),
      ...terms.map((t) => h('option', { value: t.id }, t.name)),
    );
  }
}

/** `picked` reads the ticked subjects; `reload` lists the subjects again once some were made. */
export function bindSubjectRollover(picked: () => string[], reload: () => Promise<void>): void {
  const form = byId<HTMLFormElement>('rollover-form');
  const fail = (err: unknown) => (byId('rollover-error').textContent = errorText(err, form));
  byId('rollover-details').addEventListener('toggle', () => {
    fillTerms().catch(fail);
  });
  const start = (dryRun: boolean) => {
    const ids = picked();
    byId('rollover-error').textContent = '';
    if (ids.length === 0) {
      byId('rollover-error').textContent = at('subjects.pickFirst');
      return;
    }
    if (!dryRun && !confirm(at('rollover.confirm', { count: ids.length }))) return;
    const buttons = [...form.querySelectorAll('button')];
    for (const b of buttons) b.disabled = true;
    run(ids, dryRun)
      .then(async (text) => {
        announce(byId('rollover-status'), text);
        if (!dryRun) await reload();
      })
      .catch(fail)
      .finally(() => buttons.forEach((b) => (b.disabled = false)));
  };
  byId('rollover-check').addEventListener('click', () => start(true));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    start(false);
  });
}

/**
 * Guardian contacts from CSV (docs/absences.md): one all-or-nothing request; a refused file
 * lists its bad rows by line (the first the server describes, then how many more), and nothing was written.
 */
import { ApiError, apiFetch } from '../lib/auth.js';
import { announce, byId, errorText, h, show } from '../lib/dom.js';
import { at } from '../lib/admin-text.js';
import type { RowProblem } from '../../shared/row-problems.js';
import { problemsText, refusedRows, unlistedText, type RefusedRows } from './problem-text.js';

interface BadRow {
  line: number;
  reason: string;
  problems?: RowProblem[];
}

function badRows(err: unknown): RefusedRows<BadRow> | null {
  return err instanceof ApiError ? refusedRows<BadRow>(err.body.details) : null;
}

async function importFile(form: HTMLFormElement): Promise<void> {
  const file = byId<HTMLInputElement>('guardians-file').files?.[0];
  if (!file) throw new Error(at('admin.chooseCsv'));
  try {
    const res = await apiFetch('api/v1/guardians/import', {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: await file.text(),
    });
    const result = (await res.json()) as { students: number; contacts: number };
    form.reset();
    announce(
      byId('guardians-status'),
      at('guardianImport.done', {
        contacts: at('guardianImport.contacts', { count: result.contacts }),
        students: at('guardianImport.students', { count: result.students }),
      }),
    );
  } catch (err) {
    const refused = badRows(err);
    if (refused) {
      const more = byId('guardians-errors-more');
      more.textContent = unlistedText(refused);
      show(more, more.textContent !== '');
      byId('guardians-errors-body').replaceChildren(
        ...refused.rows.map((r) => h('tr', {}, h('th', { scope: 'row' }, String(r.line)), h('td', {}, problemsText(r.problems, r.reason)))),
      );
      show(byId('guardians-errors-block'), true);
    }
    throw err;
  }
}

export function bindGuardianImport(): void {
  const form = byId<HTMLFormElement>('guardians-form');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    byId('guardians-error').textContent = '';
    byId('guardians-status').textContent = '';
    show(byId('guardians-errors-block'), false);
    show(byId('guardians-errors-more'), false);
    importFile(form).catch((err: unknown) => (byId('guardians-error').textContent = errorText(err)));
  });
}

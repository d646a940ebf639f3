/**
 * The OneRoster attendance export (docs/oneroster.md): a range of days, optionally one subject,
 * downloaded as GET /oneroster/attendance.csv answers it.
 */
import { apiFetch } from '../lib/auth.js';
import { at } from '../lib/admin-text.js';
import { announce, byId, downloadBlob, errorText, h } from '../lib/dom.js';
import { fetchEverySubject } from './fetch-all.js';
import type { Subject } from './types.js';

/** The subjects to choose from; reloaded each time the section is shown. */
export async function loadOneRosterExport(): Promise<void> {
  const subjects = await fetchEverySubject<Subject>();
  const select = byId<HTMLSelectElement>('oneroster-export-subject');
  const chosen = select.value;
  select.replaceChildren(
    h('option', { value: '' }, at('oneroster.allSubjects')),
    ...subjects.map((s) => h('option', { value: s.id }, `${s.code} ${s.name}`)),
  );
  if (subjects.some((s) => s.id === chosen)) select.value = chosen;
}

async function download(): Promise<void> {
  const from = byId<HTMLInputElement>('oneroster-export-from').value;
  const to = byId<HTMLInputElement>('oneroster-export-to').value;
  const subjectId = byId<HTMLSelectElement>('oneroster-export-subject').value;
  // The server refuses it too, but only as "invalid request": say which fields.
  if (from > to) throw new Error(at('oneroster.backwards'));
  const status = byId('oneroster-export-status');
  announce(status, at('oneroster.preparing'));
  const params = new URLSearchParams({ from, to, ...(subjectId ? { subjectId } : {}) });
  const res = await apiFetch(`api/v1/oneroster/attendance.csv?${params}`);
  downloadBlob(`attendance-${from}-to-${to}.csv`, await res.blob());
  announce(status, at('oneroster.downloaded', { from, to }));
}

export function bindOneRosterExport(): void {
  const error = byId('oneroster-export-error');
  byId<HTMLFormElement>('oneroster-export-form').addEventListener('submit', (event) => {
    event.preventDefault();
    error.textContent = '';
    download().catch((err: unknown) => {
      byId('oneroster-export-status').textContent = '';
      error.textContent = errorText(err);
    });
  });
}

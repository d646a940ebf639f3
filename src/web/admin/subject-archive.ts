/**
 * A new school year on the Subjects page: last year's subjects ticked and archived (records,
 * reports and audit kept; nothing new starts in them), a filter that shows them, and unarchiving.
 */
import { apiJson } from '../lib/auth.js';
import { announce, byId, errorText, h } from '../lib/dom.js';
import { at } from '../lib/admin-text.js';
import { jsonBody } from './fetch-all.js';
import type { Subject } from './types.js';

/** Ids per request (the API takes at most 1 000). */
const IDS_MAX = 1_000;

/** Whether the list shows the archived subjects rather than those in use. */
export function archivedShown(): boolean {
  return byId<HTMLSelectElement>('subjects-show').value === 'true';
}

/** The row's tick box. */
export function pickCell(s: Subject): HTMLTableCellElement {
  return h(
    'td',
    {},
    h('input', { type: 'checkbox', name: 'subject-pick', value: s.id, 'aria-label': at('subjects.pick', { code: s.code }) }),
  );
}

/** The ids of the subjects ticked in the list. */
export function picked(): string[] {
  return [...document.querySelectorAll<HTMLInputElement>('#subjects-body input[name="subject-pick"]:checked')].map((c) => c.value);
}

async function archiveOrBack(): Promise<string | null> {
  const ids = picked();
  const archive = !archivedShown();
  if (ids.length === 0) return at('subjects.pickFirst');
  if (!confirm(at(archive ? 'subjects.confirmArchive' : 'subjects.confirmUnarchive', { count: ids.length }))) return null;
  let changed = 0;
  for (let i = 0; i < ids.length; i += IDS_MAX) {
    const answer = await apiJson<{ changed: Subject[] }>(
      `api/v1/subjects/${archive ? 'archive' : 'unarchive'}`,
      jsonBody('POST', { subjectIds: ids.slice(i, i + IDS_MAX) }),
    );
    changed += answer.changed.length;
  }
  return at(archive ? 'subjects.archivedDone' : 'subjects.unarchivedDone', { count: changed });
}

/** `reload` lists the subjects again, as the filter says. */
export function bindSubjectArchive(reload: () => Promise<void>): void {
  const button = byId<HTMLButtonElement>('subjects-archive');
  const show = byId<HTMLSelectElement>('subjects-show');
  const label = () => (button.textContent = at(archivedShown() ? 'subjects.unarchiveTicked' : 'subjects.archiveTicked'));
  show.addEventListener('change', () => {
    label();
    byId('subjects-error').textContent = '';
    reload().catch((err: unknown) => (byId('subjects-error').textContent = errorText(err)));
  });
  byId<HTMLInputElement>('subjects-all').addEventListener('change', (event) => {
    const on = (event.target as HTMLInputElement).checked;
    for (const c of document.querySelectorAll<HTMLInputElement>('#subjects-body input[name="subject-pick"]')) c.checked = on;
  });
  button.addEventListener('click', () => {
    button.disabled = true;
    byId('subjects-error').textContent = '';
    archiveOrBack()
      .then(async (text) => {
        if (text === null) return;
        announce(byId('subjects-status'), text);
        byId<HTMLInputElement>('subjects-all').checked = false;
        await reload();
      })
      .catch((err: unknown) => (byId('subjects-error').textContent = errorText(err)))
      .finally(() => (button.disabled = false));
  });
}

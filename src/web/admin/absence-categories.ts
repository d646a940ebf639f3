/**
 * Absence categories (docs/absences.md): the codes an excused absence carries, edited as one
 * list and saved whole (PUT /absence-categories replaces the stored list).
 */
import { apiJson } from '../lib/auth.js';
import { announce, byId, h } from '../lib/dom.js';
import { at } from '../lib/admin-text.js';
import { jsonBody } from './fetch-all.js';
import { rowIssuesText } from './row-issues.js';

interface Category {
  code: string;
  label: string;
  authorised: boolean;
}

/** MAX_ABSENCE_CATEGORIES of the server. */
const MAX = 50;
let added = 0;

function row(c: Category): HTMLTableRowElement {
  // Ids only tie each input to its row's header for screen readers; the order of rows is what is saved.
  const n = (added += 1);
  const remove = h(
    'button',
    { type: 'button', class: 'danger', 'aria-label': at('categories.removeOf', { code: c.code || at('categories.new') }) },
    at('categories.remove'),
  );
  const tr = h(
    'tr',
    {},
    h(
      'td',
      {},
      h('input', {
        type: 'text',
        name: 'code',
        value: c.code,
        required: true,
        maxlength: 32,
        pattern: '[A-Z][A-Z0-9_]*',
        title: at('categories.codeRule'),
        spellcheck: 'false',
        'aria-label': at('categories.codeN', { n }),
      }),
    ),
    h(
      'td',
      {},
      h('input', {
        type: 'text',
        name: 'label',
        value: c.label,
        required: true,
        maxlength: 100,
        'aria-label': at('categories.labelN', { n }),
      }),
    ),
    h(
      'td',
      {},
      h('input', { type: 'checkbox', name: 'authorised', checked: c.authorised, 'aria-label': at('categories.authorisedN', { n }) }),
    ),
    h('td', {}, remove),
  );
  remove.addEventListener('click', () => {
    tr.remove();
    updateAdd();
  });
  return tr;
}

function updateAdd(): void {
  byId<HTMLButtonElement>('cat-add').disabled = byId('cat-body').children.length >= MAX;
}

export async function loadAbsenceCategories(): Promise<void> {
  const { items } = await apiJson<{ items: Category[] }>('api/v1/absence-categories');
  byId('cat-body').replaceChildren(...items.map(row));
  updateAdd();
}

function read(): Category[] {
  return Array.from(byId('cat-body').querySelectorAll('tr'), (tr) => ({
    code: tr.querySelector<HTMLInputElement>('input[name="code"]')!.value.trim(),
    label: tr.querySelector<HTMLInputElement>('input[name="label"]')!.value.trim(),
    authorised: tr.querySelector<HTMLInputElement>('input[name="authorised"]')!.checked,
  }));
}

export function bindAbsenceCategories(): void {
  byId('cat-add').addEventListener('click', () => {
    const tr = row({ code: '', label: '', authorised: true });
    byId('cat-body').append(tr);
    updateAdd();
    tr.querySelector('input')?.focus();
  });
  const form = byId<HTMLFormElement>('cat-form');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const categories = read();
    const error = byId('cat-error');
    error.textContent = '';
    byId('cat-status').textContent = '';
    if (categories.length === 0) {
      error.textContent = at('categories.keepOne');
      return;
    }
    apiJson<{ items: Category[] }>('api/v1/absence-categories', jsonBody('PUT', { categories }))
      .then(async () => {
        await loadAbsenceCategories();
        announce(byId('cat-status'), at('categories.saved'));
      })
      .catch(
        (err: unknown) =>
          (error.textContent = rowIssuesText(err, 'categories', {
            list: at('categories.title'),
            fields: { code: at('categories.code'), label: at('categories.label'), authorised: at('categories.authorised') },
          })),
      );
  });
}

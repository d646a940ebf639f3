/**
 * One student's guardian contacts (docs/absences.md), opened from the student's row of the
 * users table: edited as one list and saved whole (PUT /users/{id}/guardians replaces it; an
 * empty list removes every contact).
 */
import { apiJson } from '../lib/auth.js';
import { announce, byId, h, show } from '../lib/dom.js';
import { at } from '../lib/admin-text.js';
import { formatNumber } from '../lib/i18n.js';
import { jsonBody } from './fetch-all.js';
import { rowIssuesText } from './row-issues.js';
import type { User } from './types.js';

interface Contact {
  name: string;
  relation: string;
  email: string;
  language: string;
  unsubscribed?: string[];
}

/** MAX_GUARDIANS of the server. */
const MAX = 10;
const unsubscribedText = (kind: string): string =>
  kind === 'alert' ? at('guardians.alerts') : kind === 'digest' ? at('guardians.digests') : kind;
let student: User | null = null;
let added = 0;

function input(name: keyof Contact, value: string, label: string, attrs: Record<string, string | number | boolean>): HTMLInputElement {
  return h('input', { type: 'text', name, value, required: true, 'aria-label': label, ...attrs });
}

function row(c: Contact): HTMLTableRowElement {
  // Ids only name each input for screen readers; the order of rows is what is saved.
  const n = (added += 1);
  const remove = h(
    'button',
    { type: 'button', class: 'danger', 'aria-label': at('guardians.removeOf', { name: c.name || String(n) }) },
    at('guardians.remove'),
  );
  const tr = h(
    'tr',
    {},
    h('td', {}, input('name', c.name, at('guardians.nameN', { n }), { maxlength: 200 })),
    h(
      'td',
      {},
      input('relation', c.relation, at('guardians.relationN', { n }), { maxlength: 50, placeholder: at('guardians.relationHint') }),
    ),
    h('td', {}, input('email', c.email, at('guardians.emailN', { n }), { type: 'email', maxlength: 320, spellcheck: 'false' })),
    h(
      'td',
      {},
      input('language', c.language, at('guardians.languageN', { n }), {
        maxlength: 35,
        size: 5,
        pattern: '[a-z]{2,3}(-[A-Za-z0-9]{2,8})*',
        title: at('guardians.languageRule'),
        spellcheck: 'false',
      }),
    ),
    h('td', {}, (c.unsubscribed ?? []).map(unsubscribedText).join(', ')),
    h('td', {}, remove),
  );
  remove.addEventListener('click', () => {
    tr.remove();
    updateAdd();
    byId('guardian-add').focus();
  });
  return tr;
}

function updateAdd(): void {
  const count = byId('guardian-body').children.length;
  byId<HTMLButtonElement>('guardian-add').disabled = count >= MAX;
  byId('guardian-caption').textContent = count === 0 ? at('guardians.none') : at('guardians.count', { count });
}

function read(): Contact[] {
  const value = (tr: Element, name: string) => tr.querySelector<HTMLInputElement>(`input[name="${name}"]`)!.value.trim();
  return Array.from(byId('guardian-body').querySelectorAll('tr'), (tr) => ({
    name: value(tr, 'name'),
    relation: value(tr, 'relation'),
    email: value(tr, 'email'),
    language: value(tr, 'language') || 'en',
  }));
}

function render(items: Contact[]): void {
  byId('guardian-body').replaceChildren(...items.map(row));
  updateAdd();
}

/** Opens the panel on `user`'s contacts (the Guardians button of a student's row). */
export async function openGuardians(user: User): Promise<void> {
  student = user;
  byId('guardian-error').textContent = '';
  byId('guardian-status').textContent = '';
  const { items } = await apiJson<{ items: Contact[] }>(`api/v1/users/${encodeURIComponent(user.id)}/guardians`);
  byId('guardians-title').textContent = at('guardians.titleOf', { name: user.name });
  render(items);
  show(byId('guardians-panel'), true);
  byId('guardians-title').focus();
}

export function bindGuardians(): void {
  byId('guardians-max').textContent = formatNumber(MAX);
  byId('guardian-add').addEventListener('click', () => {
    const tr = row({ name: '', relation: '', email: '', language: 'en' });
    byId('guardian-body').append(tr);
    updateAdd();
    tr.querySelector('input')?.focus();
  });
  byId('guardian-close').addEventListener('click', () => {
    show(byId('guardians-panel'), false);
    student = null;
  });
  byId<HTMLFormElement>('guardian-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const error = byId('guardian-error');
    error.textContent = '';
    byId('guardian-status').textContent = '';
    if (!student) return;
    const { id, name } = student;
    const contacts = read();
    apiJson<{ items: Contact[] }>(`api/v1/users/${encodeURIComponent(id)}/guardians`, jsonBody('PUT', { contacts }))
      .then(({ items }) => {
        render(items);
        announce(
          byId('guardian-status'),
          items.length === 0 ? at('guardians.noneNow', { name }) : at('guardians.saved', { count: items.length, name }),
        );
      })
      .catch(
        (err: unknown) =>
          (error.textContent = rowIssuesText(err, 'contacts', {
            list: at('guardians.title'),
            fields: {
              name: at('guardians.name'),
              relation: at('guardians.relation'),
              email: at('guardians.email'),
              language: at('guardians.language'),
            },
          })),
      );
  });
}

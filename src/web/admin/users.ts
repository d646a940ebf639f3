/**
 * Users: search, add, edit, deactivate or reactivate, invite; a student's guardian contacts; a user's audit trail;
 * export or erase a person's data (docs/privacy.md).
 */
import { apiJson } from '../lib/auth.js';
import { announce, byId, errorText, h } from '../lib/dom.js';
import { showUserHistory } from './audit.js';
import { jsonBody } from './fetch-all.js';
import { openGuardians } from './guardians.js';
import type { Page, User } from './types.js';

const PAGE = 25;
let offset = 0;
let total = 0;

function accountText(u: User): string {
  if (!u.active) return 'Deactivated';
  if (!u.hasPassword) return 'No password yet (invite)';
  if (u.mustChangePassword) return 'Must change password';
  return 'Active';
}

function actionButton(label: string, user: User, run: () => Promise<unknown>, cls = ''): HTMLButtonElement {
  const button = h('button', { type: 'button', class: cls, 'aria-label': `${label} ${user.name}` }, label);
  button.addEventListener('click', () => {
    button.disabled = true;
    byId('users-error').textContent = '';
    run()
      .then(() => loadUsers())
      .catch((err: unknown) => {
        byId('users-error').textContent = errorText(err);
        button.disabled = false;
      });
  });
  return button;
}

function row(user: User): HTMLTableRowElement {
  const actions = h('div', { class: 'row' });
  const edit = h('button', { type: 'button', 'aria-label': `Edit ${user.name}` }, 'Edit');
  edit.addEventListener('click', () => startEditing(user));
  actions.append(edit);
  if (user.role === 'student') {
    const guardians = h('button', { type: 'button', 'aria-label': `Guardians of ${user.name}` }, 'Guardians');
    guardians.addEventListener('click', () => {
      byId('users-error').textContent = '';
      openGuardians(user).catch((err: unknown) => (byId('users-error').textContent = errorText(err)));
    });
    actions.append(guardians);
  }
  if (user.active) {
    actions.append(
      actionButton('Invite', user, async () => {
        await apiJson(`api/v1/users/${encodeURIComponent(user.id)}/invite`, { method: 'POST' });
        // Queued, not sent: the SMTP server may refuse it for hours (the outbox shows it).
        announce(byId('users-status'), `Invitation to ${user.email} queued; the Email outbox shows its delivery.`);
      }),
      actionButton(
        'Deactivate',
        user,
        async () => {
          if (!confirm(`Deactivate ${user.name}? They are logged out and cannot log in until reactivated.`)) return;
          await apiJson(`api/v1/users/${encodeURIComponent(user.id)}/deactivate`, { method: 'POST' });
        },
        'danger',
      ),
    );
  } else {
    actions.append(
      actionButton('Reactivate', user, () => apiJson(`api/v1/users/${encodeURIComponent(user.id)}`, jsonBody('PATCH', { active: true }))),
    );
  }
  actions.append(
    actionButton('Export', user, async () => {
      const bundle = await apiJson<unknown>(`api/v1/users/${encodeURIComponent(user.id)}/export`);
      download(`personal-data-${user.id}.json`, JSON.stringify(bundle, null, 2));
      announce(byId('users-status'), `Downloaded everything held about ${user.name}.`);
    }),
    actionButton(
      'Erase',
      user,
      async () => {
        const reason = prompt(
          `Erase ${user.name}? Their account, face data, consents and logins are deleted for good; their attendance ` +
            'records stay anonymised. Export first if a copy must be kept. Why (kept in the audit trail)?',
        );
        if (reason === null || reason.trim() === '') return;
        await apiJson(`api/v1/users/${encodeURIComponent(user.id)}/erase`, jsonBody('POST', { reason: reason.trim() }));
        announce(byId('users-status'), `Erased ${user.name}.`);
      },
      'danger',
    ),
  );
  const history = h('button', { type: 'button', 'aria-label': `History of ${user.name}` }, 'History');
  history.addEventListener('click', () => showUserHistory(user));
  actions.append(history);
  return h(
    'tr',
    { 'data-user-id': user.id },
    h('th', { scope: 'row' }, user.name),
    h('td', { class: 'wrap' }, user.email),
    h('td', {}, user.role),
    h('td', {}, user.studentNumber ?? ''),
    h('td', {}, accountText(user)),
    h('td', { class: 'actions' }, actions),
  );
}

function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  const link = h('a', { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  URL.revokeObjectURL(url);
}

export async function loadUsers(): Promise<void> {
  const form = byId<HTMLFormElement>('user-search');
  const data = new FormData(form);
  const params = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
  for (const name of ['q', 'role', 'active']) {
    const value = String(data.get(name) ?? '').trim();
    if (value) params.set(name, value);
  }
  const page = await apiJson<Page<User>>(`api/v1/users?${params}`);
  total = page.total;
  byId('users-body').replaceChildren(...page.items.map(row));
  const shown = page.items.length === 0 ? 'No users match.' : `Users ${offset + 1} to ${offset + page.items.length} of ${total}`;
  byId('users-caption').textContent = shown;
  byId<HTMLButtonElement>('users-prev').disabled = offset === 0;
  byId<HTMLButtonElement>('users-next').disabled = offset + PAGE >= total;
}

function startEditing(user: User): void {
  const form = byId<HTMLFormElement>('user-form');
  (form.elements.namedItem('id') as HTMLInputElement).value = user.id;
  byId<HTMLInputElement>('uf-name').value = user.name;
  byId<HTMLInputElement>('uf-email').value = user.email;
  byId<HTMLSelectElement>('uf-role').value = user.role;
  byId<HTMLInputElement>('uf-number').value = user.studentNumber ?? '';
  byId<HTMLInputElement>('uf-invite').checked = false;
  byId('user-form-title').textContent = `Edit ${user.name}`;
  byId('user-save').textContent = 'Save changes';
  byId('user-cancel').hidden = false;
  byId('uf-name').focus();
}

function stopEditing(): void {
  const form = byId<HTMLFormElement>('user-form');
  form.reset();
  (form.elements.namedItem('id') as HTMLInputElement).value = '';
  byId('user-form-title').textContent = 'Add a user';
  byId('user-save').textContent = 'Add user';
  byId('user-cancel').hidden = true;
}

async function save(form: HTMLFormElement): Promise<string> {
  const data = new FormData(form);
  const id = String(data.get('id') ?? '');
  const role = String(data.get('role'));
  const number = String(data.get('studentNumber') ?? '').trim();
  const fields = {
    name: String(data.get('name') ?? '').trim(),
    email: String(data.get('email') ?? '').trim(),
    role,
    studentNumber: number || null,
  };
  const user = id
    ? await apiJson<User>(`api/v1/users/${encodeURIComponent(id)}`, jsonBody('PATCH', fields))
    : await apiJson<User>('api/v1/users', jsonBody('POST', fields));
  if (data.has('invite') && user.active) await apiJson(`api/v1/users/${encodeURIComponent(user.id)}/invite`, { method: 'POST' });
  return id
    ? `Saved ${user.name}.`
    : `Added ${user.name}${data.has('invite') ? ' and queued an invitation; the Email outbox shows its delivery' : ''}.`;
}

export function bindUsers(): void {
  const search = byId<HTMLFormElement>('user-search');
  search.addEventListener('submit', (event) => {
    event.preventDefault();
    offset = 0;
    loadUsers().catch((err: unknown) => (byId('users-error').textContent = errorText(err)));
  });
  byId('users-prev').addEventListener('click', () => {
    offset = Math.max(0, offset - PAGE);
    void loadUsers().catch((err: unknown) => (byId('users-error').textContent = errorText(err)));
  });
  byId('users-next').addEventListener('click', () => {
    offset += PAGE;
    void loadUsers().catch((err: unknown) => (byId('users-error').textContent = errorText(err)));
  });
  const form = byId<HTMLFormElement>('user-form');
  byId('user-cancel').addEventListener('click', stopEditing);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    byId('user-form-error').textContent = '';
    save(form)
      .then((message) => {
        announce(byId('users-status'), message);
        stopEditing();
        return loadUsers();
      })
      .catch((err: unknown) => (byId('user-form-error').textContent = errorText(err)));
  });
}

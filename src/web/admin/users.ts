/**
 * Users: search, add, edit, deactivate or reactivate, invite; a student's guardian contacts; a user's audit trail;
 * export or erase a person's data (docs/privacy.md).
 */
import { apiJson } from '../lib/auth.js';
import { announce, byId, errorText, h } from '../lib/dom.js';
import { showUserHistory } from './audit.js';
import { formatNumber } from '../lib/i18n.js';
import { fetchAll, jsonBody } from './fetch-all.js';
import { invitedText, inviteMany } from './invitations.js';
import { at } from '../lib/admin-text.js';
import { openGuardians } from './guardians.js';
import { offerLeavingAll, openStudentSubjects } from './student-subjects.js';
import { openTeacherSubjects } from './teacher-subjects.js';
import { bindLeavers } from './leavers.js';
import type { Page, User } from './types.js';

const PAGE = 25;
const FILTERS = ['q', 'role', 'active', 'hasPassword'] as const;
let offset = 0;
let total = 0;

function accountText(u: User): string {
  if (!u.active) return at('account.deactivated');
  if (!u.hasPassword) return at('account.noPassword');
  if (u.mustChangePassword) return at('account.mustChange');
  return at('account.active');
}

function actionButton(label: string, user: User, run: () => Promise<unknown>, cls = ''): HTMLButtonElement {
  const button = h('button', { type: 'button', class: cls, 'aria-label': at('users.actionOf', { action: label, name: user.name }) }, label);
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
  const edit = h('button', { type: 'button', 'aria-label': at('users.editOf', { name: user.name }) }, at('users.edit'));
  edit.addEventListener('click', () => startEditing(user));
  actions.append(edit);
  if (user.role === 'student') {
    const guardians = h('button', { type: 'button', 'aria-label': at('users.guardiansOf', { name: user.name }) }, at('users.guardians'));
    guardians.addEventListener('click', () => {
      byId('users-error').textContent = '';
      openGuardians(user).catch((err: unknown) => (byId('users-error').textContent = errorText(err)));
    });
    const subjects = h('button', { type: 'button', 'aria-label': at('users.subjectsOf', { name: user.name }) }, at('users.subjects'));
    subjects.addEventListener('click', () => {
      byId('users-error').textContent = '';
      openStudentSubjects(user).catch((err: unknown) => (byId('users-error').textContent = errorText(err)));
    });
    actions.append(guardians, subjects);
  }
  if (user.role === 'teacher') {
    const subjects = h('button', { type: 'button', 'aria-label': at('users.subjectsOf', { name: user.name }) }, at('users.subjects'));
    subjects.addEventListener('click', () => {
      byId('users-error').textContent = '';
      openTeacherSubjects(user).catch((err: unknown) => (byId('users-error').textContent = errorText(err)));
    });
    actions.append(subjects);
  }
  if (user.active) {
    actions.append(
      // A user who has a password gets a reset link (docs/notifications.md): the button says so.
      actionButton(at(user.hasPassword ? 'users.sendReset' : 'users.invite'), user, async () => {
        const report = await apiJson<{ resets: number }>(`api/v1/users/${encodeURIComponent(user.id)}/invite`, { method: 'POST' });
        // Queued, not sent: the SMTP server may refuse it for hours (the outbox shows it).
        announce(byId('users-status'), at(report.resets > 0 ? 'users.resetQueued' : 'users.invited', { email: user.email }));
      }),
      actionButton(
        at('users.deactivate'),
        user,
        async () => {
          if (!confirm(at('users.confirmDeactivate', { name: user.name }))) return;
          await apiJson(`api/v1/users/${encodeURIComponent(user.id)}/deactivate`, { method: 'POST' });
          const left = user.role === 'student' ? await offerLeavingAll(user) : null;
          announce(byId('users-status'), left ?? at('users.deactivated', { name: user.name }));
        },
        'danger',
      ),
    );
  } else {
    actions.append(
      actionButton(at('users.reactivate'), user, () =>
        apiJson(`api/v1/users/${encodeURIComponent(user.id)}`, jsonBody('PATCH', { active: true })),
      ),
    );
  }
  actions.append(
    actionButton(at('users.export'), user, async () => {
      const bundle = await apiJson<unknown>(`api/v1/users/${encodeURIComponent(user.id)}/export`);
      download(`personal-data-${user.id}.json`, JSON.stringify(bundle, null, 2));
      announce(byId('users-status'), at('users.exported', { name: user.name }));
    }),
    actionButton(
      at('users.erase'),
      user,
      async () => {
        const reason = prompt(at('users.confirmErase', { name: user.name }));
        if (reason === null || reason.trim() === '') return;
        await apiJson(`api/v1/users/${encodeURIComponent(user.id)}/erase`, jsonBody('POST', { reason: reason.trim() }));
        announce(byId('users-status'), at('users.erased', { name: user.name }));
      },
      'danger',
    ),
  );
  const history = h('button', { type: 'button', 'aria-label': at('users.historyOf', { name: user.name }) }, at('users.history'));
  history.addEventListener('click', () => showUserHistory(user));
  actions.append(history);
  return h(
    'tr',
    { 'data-user-id': user.id },
    h('th', { scope: 'row' }, user.name),
    h('td', { class: 'wrap' }, user.email),
    h('td', {}, at(`role.${user.role}`)),
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

/** The search form's filters as query parameters. */
function filterParams(): URLSearchParams {
  const data = new FormData(byId<HTMLFormElement>('user-search'));
  const params = new URLSearchParams();
  for (const name of FILTERS) {
    const value = String(data.get(name) ?? '').trim();
    if (value) params.set(name, value);
  }
  return params;
}

export async function loadUsers(): Promise<void> {
  const params = filterParams();
  const page = await apiJson<Page<User>>(`api/v1/users?${params}&limit=${PAGE}&offset=${offset}`);
  total = page.total;
  byId('users-body').replaceChildren(...page.items.map(row));
  const shown =
    page.items.length === 0
      ? at('users.none')
      : at('users.shown', { from: formatNumber(offset + 1), to: formatNumber(offset + page.items.length), total: formatNumber(total) });
  byId('users-caption').textContent = shown;
  byId<HTMLButtonElement>('users-prev').disabled = offset === 0;
  byId<HTMLButtonElement>('users-next').disabled = offset + PAGE >= total;
  // Offered on the list of those who never chose a password (deactivated ones get no invitation).
  byId('users-invite-pending').hidden = !(params.get('hasPassword') === 'false' && params.get('active') !== 'false' && total > 0);
  byId('users-deactivate-listed').hidden = !(params.get('active') !== 'false' && total > 0);
}

/**
 * A new invitation to every active user the search lists without a password: all its pages, not
 * the one shown (a term starts with hundreds who have not accepted). Each new link voids the one
 * sent before, so the admin confirms with the number first.
 */
async function invitePending(): Promise<string | null> {
  const params = filterParams();
  params.set('active', 'true');
  params.set('hasPassword', 'false');
  const ids = (await fetchAll<User>(`api/v1/users?${params}`)).map((u) => u.id);
  if (ids.length === 0) return at('users.noneToInvite');
  if (!confirm(at('users.confirmInvitePending', { count: ids.length }))) return null;
  return invitedText(await inviteMany(ids));
}

function startEditing(user: User): void {
  const form = byId<HTMLFormElement>('user-form');
  (form.elements.namedItem('id') as HTMLInputElement).value = user.id;
  byId<HTMLInputElement>('uf-name').value = user.name;
  byId<HTMLInputElement>('uf-email').value = user.email;
  byId<HTMLSelectElement>('uf-role').value = user.role;
  byId<HTMLInputElement>('uf-number').value = user.studentNumber ?? '';
  byId<HTMLInputElement>('uf-invite').checked = false;
  byId<HTMLInputElement>('uf-password').value = '';
  byId<HTMLInputElement>('uf-must-change').checked = true;
  byId('user-form-title').textContent = at('users.editOf', { name: user.name });
  byId('user-save').textContent = at('users.saveChanges');
  byId('user-cancel').hidden = false;
  byId('uf-name').focus();
}

function stopEditing(): void {
  const form = byId<HTMLFormElement>('user-form');
  form.reset();
  (form.elements.namedItem('id') as HTMLInputElement).value = '';
  byId('user-form-title').textContent = at('users.addTitle');
  byId('user-save').textContent = at('users.add');
  byId('user-cancel').hidden = true;
}

async function save(form: HTMLFormElement): Promise<string> {
  const data = new FormData(form);
  const id = String(data.get('id') ?? '');
  const role = String(data.get('role'));
  const number = String(data.get('studentNumber') ?? '').trim();
  // A password typed is set as is (never trimmed): for someone the invitation cannot reach, handed over in person.
  const password = String(data.get('password') ?? '');
  const mustChange = data.has('mustChangePassword');
  const fields = {
    name: String(data.get('name') ?? '').trim(),
    email: String(data.get('email') ?? '').trim(),
    role,
    studentNumber: number || null,
    ...(password ? { password, mustChangePassword: mustChange } : {}),
  };
  const user = id
    ? await apiJson<User>(`api/v1/users/${encodeURIComponent(id)}`, jsonBody('PATCH', fields))
    : await apiJson<User>('api/v1/users', jsonBody('POST', fields));
  if (data.has('invite') && user.active) await apiJson(`api/v1/users/${encodeURIComponent(user.id)}/invite`, { method: 'POST' });
  if (id && password) return at(mustChange ? 'users.savedPasswordToChange' : 'users.savedPassword', { name: user.name });
  if (id) return at('users.saved', { name: user.name });
  return at(data.has('invite') ? 'users.addedInvited' : 'users.added', { name: user.name });
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
  const inviteButton = byId<HTMLButtonElement>('users-invite-pending');
  inviteButton.addEventListener('click', () => {
    inviteButton.disabled = true;
    byId('users-error').textContent = '';
    invitePending()
      .then((text) => {
        if (text !== null) announce(byId('users-status'), text);
      })
      .catch((err: unknown) => (byId('users-error').textContent = errorText(err)))
      .finally(() => (inviteButton.disabled = false));
  });
  bindLeavers(filterParams, loadUsers);
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
      .catch((err: unknown) => (byId('user-form-error').textContent = errorText(err, form)));
  });
}

/**
 * The audit trail (docs/reports.md): everything in the organisation (the default, shown when the
 * section opens), what was done to a user, what a user did, what changed in the organisation's
 * settings or in a subject. GET /reports/audit answers oldest first; the page shows the newest
 * entries first, so it starts from the last page of the answer.
 */
import { AUDIT_ACTIONS, isAuditAction, type AuditAction } from '../../shared/audit.js';
import { at } from '../lib/admin-text.js';
import { apiFetch, apiJson } from '../lib/auth.js';
import { pageLanguage } from '../lib/i18n.js';
import { announce, byId, dateTime, downloadBlob, errorText, h, show } from '../lib/dom.js';
import { actionGroup, actionLabel, fieldLabel, groupLabel, type AuditGroup } from './audit-labels.js';
import { fetchEverySubject } from './fetch-all.js';
import type { Page, Subject, User } from './types.js';

interface AuditEntry {
  id: string;
  entityType: string;
  entityId: string;
  sessionId: string | null;
  actorId: string | null;
  action: string;
  from: unknown;
  to: unknown;
  reason: string | null;
  ip: string | null;
  at: string;
  // Named by the server for the whole page (docs/reports.md); null: none, or an erased account.
  actorName: string | null;
  userName: string | null;
  subjectCode: string | null;
  subjectName: string | null;
  sessionStartsAt: string | null;
}

/** The values of the #audit-kind select. */
type Kind = 'all' | 'user' | 'actor' | 'organisation' | 'subject';

const PAGE = 50;
/** The query string of the selection shown (without paging). */
let selection: URLSearchParams | null = null;
let total = 0;
/** Pages are counted back from the newest entry: the one shown ends before entry `end` (oldest first, from 0). */
let end = 0;
let orgId: string | null = null;
/** Counts the searches begun: an answer to an older one is dropped (the view opened with one, then the form sent another). */
let searches = 0;
const subjectsById = new Map<string, Subject>();

const kind = (): Kind => byId<HTMLSelectElement>('audit-kind').value as Kind;

function showFields(): void {
  const k = kind();
  show(byId('audit-user-field'), k === 'user' || k === 'actor');
  show(byId('audit-subject-field'), k === 'subject');
  byId<HTMLInputElement>('audit-user').required = k === 'user' || k === 'actor';
}

/** The one user whose email or student number is `text`, or the only one the search finds. */
async function findUser(text: string): Promise<User> {
  const page = await apiJson<Page<User>>(`api/v1/users?${new URLSearchParams({ q: text, limit: '10', offset: '0' })}`);
  const wanted = text.toLowerCase();
  const exact = page.items.filter((u) => u.email.toLowerCase() === wanted || (u.studentNumber ?? '').toLowerCase() === wanted);
  const [only] = exact.length === 1 ? exact : page.items.length === 1 ? page.items : [];
  if (only) return only;
  throw new Error(page.total === 0 ? at('audit.noUser', { text }) : at('audit.manyUsers', { count: page.total, text }));
}

/** The form's action and day filters as query parameters, and words for the heading ('' for none). */
function filtersOf(): [Record<string, string>, string] {
  const actions = [...byId<HTMLSelectElement>('audit-actions').selectedOptions].map((o) => o.value).filter(isAuditAction);
  const from = byId<HTMLInputElement>('audit-from').value;
  const to = byId<HTMLInputElement>('audit-to').value;
  // The server refuses it too, but only as "invalid request": say which fields.
  if (from && to && from > to) throw new Error(at('audit.backwards'));
  const params: Record<string, string> = {};
  if (actions.length > 0) params.action = actions.join(',');
  if (from) params.from = from;
  if (to) params.to = to;
  const words = [
    actions.map(actionLabel).join(', '),
    from && to ? at('audit.between', { from, to }) : from ? at('audit.since', { from }) : to ? at('audit.until', { to }) : '',
  ].filter(Boolean);
  return [params, words.length > 0 ? ` (${words.join('; ')})` : ''];
}

/** The selector of GET /reports/audit for the form's choice, and a heading for it. */
async function selectorOf(): Promise<[URLSearchParams, string]> {
  const k = kind();
  if (k === 'all') return [new URLSearchParams(), at('audit.kind.all')];
  if (k === 'organisation') {
    orgId ??= (await apiJson<{ id: string }>('api/v1/organisation')).id;
    return [new URLSearchParams({ entityType: 'organisation', entityId: orgId }), at('audit.ofOrganisation')];
  }
  if (k === 'subject') {
    const id = byId<HTMLSelectElement>('audit-subject').value;
    const subject = subjectsById.get(id);
    if (!subject) throw new Error(at('audit.chooseSubject'));
    return [
      new URLSearchParams({ entityType: 'subject', entityId: id }),
      at('audit.changesTo', { name: `${subject.code} ${subject.name}` }),
    ];
  }
  const user = await findUser(byId<HTMLInputElement>('audit-user').value.trim());
  return k === 'actor'
    ? [new URLSearchParams({ actorId: user.id }), at('audit.didBy', { name: user.name })]
    : [new URLSearchParams({ entityType: 'user', entityId: user.id }), at('audit.changesTo', { name: user.name })];
}

/** "field: before → after" for each field an entry changed. */
function changeText(from: unknown, to: unknown): string {
  const obj = (v: unknown): Record<string, unknown> =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  const value = (v: unknown): string => {
    if (v === undefined) return '–';
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    return text.length > 80 ? `${text.slice(0, 79)}…` : text;
  };
  const before = obj(from);
  const after = obj(to);
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  if (keys.length === 0) return from === null && to === null ? '' : `${value(from ?? undefined)} → ${value(to ?? undefined)}`;
  return keys
    .map((k) => at('audit.change', { field: fieldLabel(k), from: value(before[k]), to: value(after[k]) }))
    .join(at('admin.listSeparator'));
}

/** The subject and time of the entry's session, e.g. "CS101 Introduction, 2 Mar 2026, 09:00"; '' for none. */
function sessionText(e: AuditEntry): string {
  const subject = e.subjectCode === null ? '' : `${e.subjectCode} ${e.subjectName ?? ''}`.trim();
  return [subject, dateTime(e.sessionStartsAt)].filter(Boolean).join(', ');
}

/** What the entry is about, in the words the server named it with; an erased person is named by nobody. */
function aboutText(e: AuditEntry): string {
  const person = e.userName ?? at('audit.erasedStudent');
  const session = sessionText(e);
  switch (e.entityType) {
    case 'organisation':
      return at('audit.theOrganisation');
    case 'subject':
      return e.subjectCode === null
        ? at('audit.deletedSubject', { id: e.entityId })
        : at('audit.subjectOf', { subject: `${e.subjectCode} ${e.subjectName ?? ''}`.trim() });
    case 'user':
      return e.userName ?? at('audit.erasedUser', { id: e.entityId });
    case 'session':
      return at('audit.sessionOf', { session: session || e.entityId });
    case 'record':
      return session ? at('audit.recordOfIn', { person, session }) : at('audit.recordOf', { person });
    case 'excuse':
      return at('audit.excuseOf', { person });
    default:
      return `${e.entityType} ${e.entityId}`;
  }
}

function row(e: AuditEntry): HTMLTableRowElement {
  const who = e.actorId === null ? at('audit.server') : (e.actorName ?? at('audit.erasedUser', { id: e.actorId }));
  // An action this page does not know (a newer server) is shown by its code.
  const action = isAuditAction(e.action) ? actionLabel(e.action) : e.action;
  return h(
    'tr',
    { 'data-audit-id': e.id },
    h('th', { scope: 'row' }, h('time', { datetime: e.at }, dateTime(e.at))),
    h('td', { 'data-action': e.action }, action),
    h('td', { class: 'wrap' }, who),
    h('td', { class: 'wrap' }, aboutText(e)),
    h('td', { class: 'wrap' }, changeText(e.from, e.to)),
    h('td', { class: 'wrap' }, e.reason ?? ''),
  );
}

/** Shows the page ending before `end`; `fetched` when the caller already holds it. */
async function render(fetched?: Page<AuditEntry>): Promise<void> {
  if (!selection) return;
  const shown = searches;
  const start = Math.max(0, end - PAGE);
  const params = new URLSearchParams(selection);
  params.set('limit', String(Math.max(1, end - start)));
  params.set('offset', String(start));
  const page = fetched ?? (end === 0 ? { items: [], total } : await apiJson<Page<AuditEntry>>(`api/v1/reports/audit?${params}`));
  const rows = page.items.slice().reverse().map(row);
  // Another search began meanwhile: its answer is the one to show.
  if (shown !== searches) return;
  // Entries made meanwhile raise the total: "Newer entries" then leads to them.
  total = Math.max(total, page.total);
  byId('audit-body').replaceChildren(...rows);
  // Counted from the newest: entry 1 is the latest change.
  const heading = byId('audit-heading').textContent ?? '';
  byId('audit-caption').textContent =
    page.items.length === 0
      ? at('audit.captionNone', { heading })
      : at('audit.caption', { heading, first: total - start - page.items.length + 1, last: total - start, total });
  byId<HTMLButtonElement>('audit-newer').disabled = end >= total;
  byId<HTMLButtonElement>('audit-older').disabled = start === 0;
  show(byId('audit-results'), true);
}

async function search(): Promise<void> {
  const mine = (searches += 1);
  const [selector, about] = await selectorOf();
  const [filters, narrowed] = filtersOf();
  const params = new URLSearchParams({ ...Object.fromEntries(selector), ...filters });
  const heading = about + narrowed;
  // The oldest page first, which also gives the total; when there is more, the newest page.
  const first = await apiJson<Page<AuditEntry>>(`api/v1/reports/audit?${params}&limit=${PAGE}&offset=0`);
  if (mine !== searches) return;
  selection = params;
  total = first.total;
  end = total;
  byId('audit-heading').textContent = heading;
  await render(total <= PAGE ? first : undefined);
  if (mine !== searches) return;
  announce(byId('audit-status'), total === 0 ? at('audit.noEntries') : at('audit.found', { count: total }));
}

/**
 * The subjects for the subject filter; reloaded each time the section is shown. With the form on
 * "Everything in the organisation" (its default) the latest entries are shown again too: what the
 * admin did in the other sections meanwhile is in them.
 */
export async function loadAudit(): Promise<void> {
  const subjects = await fetchEverySubject<Subject>();
  subjectsById.clear();
  for (const s of subjects) subjectsById.set(s.id, s);
  const select = byId<HTMLSelectElement>('audit-subject');
  const chosen = select.value;
  select.replaceChildren(...subjects.map((s) => h('option', { value: s.id }, `${s.code} ${s.name}`)));
  if (subjectsById.has(chosen)) select.value = chosen;
  if (kind() === 'all') await search();
}

/** Opens the section on what was done to `user` (the History button of the users table). */
export function showUserHistory(user: User): void {
  byId<HTMLSelectElement>('audit-kind').value = 'user';
  byId<HTMLInputElement>('audit-user').value = user.email;
  showFields();
  location.hash = 'audit';
  byId<HTMLFormElement>('audit-form').requestSubmit();
}

/** The action filter's choices, grouped by what they are about (the name before its first dot). */
function fillActions(): void {
  const groups = new Map<AuditGroup, AuditAction[]>();
  for (const action of AUDIT_ACTIONS) {
    const group = actionGroup(action);
    groups.set(group, [...(groups.get(group) ?? []), action]);
  }
  byId<HTMLSelectElement>('audit-actions').replaceChildren(
    ...[...groups].map(([group, actions]) =>
      h('optgroup', { label: groupLabel(group) }, ...actions.map((a) => h('option', { value: a }, actionLabel(a)))),
    ),
  );
}

export function bindAudit(): void {
  fillActions();
  const error = byId('audit-error');
  const fail = (err: unknown) => (error.textContent = errorText(err));
  const run = (step: () => Promise<void>) => {
    error.textContent = '';
    step().catch(fail);
  };
  byId('audit-kind').addEventListener('change', showFields);
  showFields();
  byId<HTMLFormElement>('audit-form').addEventListener('submit', (event) => {
    event.preventDefault();
    run(search);
  });
  byId('audit-older').addEventListener('click', () =>
    run(async () => {
      end = Math.max(0, end - PAGE);
      await render();
    }),
  );
  byId('audit-newer').addEventListener('click', () =>
    run(async () => {
      end = Math.min(total, end + PAGE);
      await render();
    }),
  );
  byId('audit-csv').addEventListener('click', () =>
    run(async () => {
      if (!selection) return;
      // A file for the person who clicked: in the page's language, as the attendance exports.
      const res = await apiFetch(`api/v1/reports/audit.csv?${selection}&lang=${pageLanguage()}`);
      downloadBlob('audit.csv', await res.blob());
      announce(byId('audit-status'), at('audit.downloaded'));
    }),
  );
}

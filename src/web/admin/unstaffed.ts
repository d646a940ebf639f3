/**
 * Sessions left without a teacher (docs/authorization.md, "Sessions left without a teacher"): the
 * organisation's upcoming sessions whose teacher can no longer run them, each given to an active
 * teacher of its subject or cancelled from here.
 */
import { apiJson } from '../lib/auth.js';
import { announce, byId, dateTime, errorText, h, show } from '../lib/dom.js';
import { at } from '../lib/admin-text.js';
import { formatNumber } from '../lib/i18n.js';
import { jsonBody } from './fetch-all.js';

/** UNSTAFFED_WHY of the server. */
type Why = 'deactivated' | 'notTeacher' | 'offSubject' | 'gone';

interface Unstaffed {
  session: { id: string; subjectCode: string; subjectName: string; startsAt: string; closesAt: string };
  teacherName: string | null;
  why: Why;
  teachers: { id: string; name: string }[];
}

/** A page as GET /api/v1/unstaffed-sessions answers it. */
interface UnstaffedPage {
  items: Unstaffed[];
  total: number;
  nextCursor: string | null;
}

const PAGE = 50;
const LIST = 'api/v1/unstaffed-sessions';
/** Rows the table shows, and the cursor of the page after them (null: none). */
let shown = 0;
let next: string | null = null;

const path = (id: string, action: 'teacher' | 'cancel') => `api/v1/unstaffed-sessions/${encodeURIComponent(id)}/${action}`;
const fail = (err: unknown) => (byId('unstaffed-error').textContent = errorText(err));

function row(u: Unstaffed): HTMLTableRowElement {
  const { session } = u;
  const label = `${session.subjectCode} ${dateTime(session.startsAt)}`;
  const select = h(
    'select',
    { 'aria-label': at('unstaffed.giveToOf', { session: label }) },
    ...u.teachers.map((t) => h('option', { value: t.id }, t.name)),
  );
  const give = h(
    'button',
    { type: 'button', class: 'primary', disabled: u.teachers.length === 0, 'aria-label': at('unstaffed.giveOf', { session: label }) },
    at('unstaffed.give'),
  );
  const cancel = h(
    'button',
    { type: 'button', class: 'danger', 'aria-label': at('unstaffed.cancelOf', { session: label }) },
    at('unstaffed.cancel'),
  );
  const act = (button: HTMLButtonElement, run: () => Promise<string>) =>
    button.addEventListener('click', () => {
      byId('unstaffed-error').textContent = '';
      give.disabled = cancel.disabled = true;
      run()
        .then(async (done) => {
          announce(byId('unstaffed-status'), done);
          await loadUnstaffed();
        })
        .catch(fail)
        .finally(() => {
          give.disabled = u.teachers.length === 0;
          cancel.disabled = false;
        });
    });
  act(give, async () => {
    const teacher = u.teachers.find((t) => t.id === select.value);
    await apiJson(path(session.id, 'teacher'), jsonBody('POST', { teacherId: select.value }));
    return at('unstaffed.given', { session: label, teacher: teacher?.name ?? '' });
  });
  act(cancel, async () => {
    if (!confirm(at('unstaffed.confirmCancel', { session: label }))) return at('unstaffed.kept', { session: label });
    await apiJson(path(session.id, 'cancel'), { method: 'POST' });
    return at('unstaffed.cancelled', { session: label });
  });
  return h(
    'tr',
    {},
    h('td', {}, dateTime(session.startsAt)),
    h('td', {}, `${session.subjectCode} ${session.subjectName}`),
    h('td', {}, u.teacherName ?? at('unstaffed.gone')),
    h('td', {}, at(`unstaffed.why.${u.why}`)),
    h(
      'td',
      {},
      u.teachers.length === 0 ? h('span', { class: 'muted' }, at('unstaffed.noTeacher')) : h('div', { class: 'row' }, select, give),
    ),
    h('td', {}, cancel),
  );
}

/**
 * The list's total beside the section's tab and, on every section, as a line that leads to it:
 * the console says what the alert email said without the admin opening the section.
 */
function showTotal(total: number): void {
  byId('unstaffed-count').textContent = total > 0 ? `(${formatNumber(total)})` : '';
  byId('unstaffed-notice-link').textContent = total > 0 ? at('unstaffed.notice', { count: total }) : '';
  show(byId('unstaffed-notice'), total > 0);
}

function paged(page: UnstaffedPage): void {
  next = page.nextCursor;
  showTotal(page.total);
  show(byId('unstaffed-none'), page.total === 0);
  show(byId('unstaffed-more'), next !== null);
  byId('unstaffed-shown').textContent =
    page.total > shown ? at('unstaffed.shown', { shown: formatNumber(shown), total: formatNumber(page.total) }) : '';
}

/** The total alone (a page of one), for the console's first paint on another section. */
export async function loadUnstaffedCount(): Promise<void> {
  showTotal((await apiJson<UnstaffedPage>(`${LIST}?limit=1`)).total);
}

/** The first page; after a give or a cancel, as many rows as were shown, so the admin keeps their place. */
export async function loadUnstaffed(): Promise<void> {
  const limit = Math.min(200, Math.max(PAGE, shown));
  const page = await apiJson<UnstaffedPage>(`${LIST}?limit=${limit}`);
  byId('unstaffed-body').replaceChildren(...page.items.map(row));
  shown = page.items.length;
  paged(page);
}

/** The page after the rows shown, added below them: the cursor starts after the last, whatever left the list meanwhile. */
async function loadMore(): Promise<void> {
  if (next === null) return;
  const page = await apiJson<UnstaffedPage>(`${LIST}?limit=${PAGE}&cursor=${encodeURIComponent(next)}`);
  byId('unstaffed-body').append(...page.items.map(row));
  shown += page.items.length;
  paged(page);
}

export function bindUnstaffed(): void {
  const more = byId<HTMLButtonElement>('unstaffed-more');
  more.addEventListener('click', () => {
    byId('unstaffed-error').textContent = '';
    more.disabled = true;
    loadMore()
      .catch(fail)
      .finally(() => (more.disabled = false));
  });
}

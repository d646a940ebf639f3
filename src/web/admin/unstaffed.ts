/**
 * Sessions left without a teacher (docs/authorization.md, "Sessions left without a teacher"): the
 * organisation's upcoming sessions whose teacher can no longer run them, each given to an active
 * teacher of its subject or cancelled from here.
 */
import { apiJson } from '../lib/auth.js';
import { announce, byId, dateTime, errorText, h, show } from '../lib/dom.js';
import { at } from '../lib/admin-text.js';
import { jsonBody } from './fetch-all.js';

/** UNSTAFFED_WHY of the server. */
type Why = 'deactivated' | 'notTeacher' | 'offSubject' | 'gone';

interface Unstaffed {
  session: { id: string; subjectCode: string; subjectName: string; startsAt: string; closesAt: string };
  teacherName: string | null;
  why: Why;
  teachers: { id: string; name: string }[];
}

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

export async function loadUnstaffed(): Promise<void> {
  const { items } = await apiJson<{ items: Unstaffed[] }>('api/v1/unstaffed-sessions');
  byId('unstaffed-body').replaceChildren(...items.map(row));
  show(byId('unstaffed-none'), items.length === 0);
}

/**
 * Terms and holidays (docs/timetable.md): the school year that weekly meetings hang on, and the
 * days no timetable session is created. Admins add and delete them; teachers then add their
 * subjects' weekly meetings to a term on the teacher console.
 */
import { apiFetch, apiJson } from '../lib/auth.js';
import { announce, byId, errorText, h } from '../lib/dom.js';
import { at } from '../lib/admin-text.js';
import { jsonBody } from './fetch-all.js';

interface DayRange {
  id: string;
  name: string;
  startDay: string;
  endDay: string;
}

type Kind = 'terms' | 'holidays';

const fail = (err: unknown) => (byId('calendar-error').textContent = errorText(err));

function days(r: DayRange): string {
  return r.startDay === r.endDay ? r.startDay : at('calendar.range', { start: r.startDay, end: r.endDay });
}

function row(kind: Kind, r: DayRange): HTMLTableRowElement {
  const remove = h(
    'button',
    {
      type: 'button',
      class: 'danger',
      'aria-label': at(kind === 'terms' ? 'calendar.deleteTerm' : 'calendar.deleteHoliday', { name: r.name }),
    },
    at('calendar.delete'),
  );
  remove.addEventListener('click', () => {
    const warning = at(kind === 'terms' ? 'calendar.confirmTerm' : 'calendar.confirmHoliday', { name: r.name });
    if (!confirm(warning)) return;
    remove.disabled = true;
    byId('calendar-error').textContent = '';
    apiFetch(`api/v1/timetable/${kind}/${encodeURIComponent(r.id)}`, { method: 'DELETE' })
      .then(async () => {
        announce(byId('calendar-status'), at(kind === 'terms' ? 'calendar.deletedTerm' : 'calendar.deletedHoliday', { name: r.name }));
        await loadCalendar();
      })
      .catch((err: unknown) => {
        remove.disabled = false;
        fail(err);
      });
  });
  return h('tr', { 'data-id': r.id }, h('th', { scope: 'row' }, r.name), h('td', {}, days(r)), h('td', {}, remove));
}

function fillTable(kind: Kind, items: DayRange[]): void {
  const body = byId(`${kind}-body`);
  body.replaceChildren(...items.map((r) => row(kind, r)));
  if (items.length === 0) {
    const empty = at(kind === 'terms' ? 'calendar.noTerm' : 'calendar.noHoliday');
    body.append(h('tr', {}, h('td', { colspan: 3 }, empty)));
  }
}

export async function loadCalendar(): Promise<void> {
  const calendar = await apiJson<Record<Kind, DayRange[]>>('api/v1/timetable/calendar');
  fillTable('terms', calendar.terms);
  fillTable('holidays', calendar.holidays);
}

function bindForm(kind: Kind): void {
  const form = byId<HTMLFormElement>(`${kind}-form`);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const startDay = String(data.get('startDay') ?? '');
    // One day is the common holiday: an empty last day means the first.
    const endDay = String(data.get('endDay') ?? '') || startDay;
    const body = { name: String(data.get('name') ?? '').trim(), startDay, endDay };
    const error = byId(`${kind}-form-error`);
    error.textContent = '';
    if (endDay < startDay) {
      error.textContent = at('calendar.backwards');
      return;
    }
    apiJson<DayRange>(`api/v1/timetable/${kind}`, jsonBody('POST', body))
      .then(async (created) => {
        form.reset();
        announce(
          byId('calendar-status'),
          at(kind === 'terms' ? 'calendar.addedTerm' : 'calendar.addedHoliday', { name: created.name, days: days(created) }),
        );
        await loadCalendar();
      })
      .catch((err: unknown) => (error.textContent = errorText(err, form)));
  });
}

export function bindCalendar(): void {
  bindForm('terms');
  bindForm('holidays');
}

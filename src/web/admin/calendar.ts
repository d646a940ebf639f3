/**
 * Terms and holidays (docs/timetable.md): the school year that weekly meetings hang on, and the
 * days no timetable session is created. Admins add and delete them; teachers then add their
 * subjects' weekly meetings to a term on the teacher console.
 */
import { apiFetch, apiJson } from '../lib/auth.js';
import { announce, byId, errorText, h } from '../lib/dom.js';
import { jsonBody } from './fetch-all.js';

interface DayRange {
  id: string;
  name: string;
  startDay: string;
  endDay: string;
}

type Kind = 'terms' | 'holidays';

const NOUN: Record<Kind, string> = { terms: 'term', holidays: 'holiday' };
const fail = (err: unknown) => (byId('calendar-error').textContent = errorText(err));

function days(r: DayRange): string {
  return r.startDay === r.endDay ? r.startDay : `${r.startDay} to ${r.endDay}`;
}

function row(kind: Kind, r: DayRange): HTMLTableRowElement {
  const remove = h('button', { type: 'button', class: 'danger', 'aria-label': `Delete the ${NOUN[kind]} ${r.name}` }, 'Delete');
  remove.addEventListener('click', () => {
    const warning =
      kind === 'terms'
        ? `Delete the term ${r.name} with its weekly meetings? Sessions already created stay.`
        : `Delete the holiday ${r.name}? Timetable sessions are created on its days again.`;
    if (!confirm(warning)) return;
    remove.disabled = true;
    byId('calendar-error').textContent = '';
    apiFetch(`api/v1/timetable/${kind}/${encodeURIComponent(r.id)}`, { method: 'DELETE' })
      .then(async () => {
        announce(byId('calendar-status'), `Deleted the ${NOUN[kind]} ${r.name}.`);
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
    const empty =
      kind === 'terms' ? 'No term yet: weekly meetings need one.' : 'No holiday yet: timetable sessions are created on every school day.';
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
      error.textContent = 'The last day comes before the first.';
      return;
    }
    apiJson<DayRange>(`api/v1/timetable/${kind}`, jsonBody('POST', body))
      .then(async (created) => {
        form.reset();
        announce(byId('calendar-status'), `Added the ${NOUN[kind]} ${created.name} (${days(created)}).`);
        await loadCalendar();
      })
      .catch((err: unknown) => (error.textContent = errorText(err)));
  });
}

export function bindCalendar(): void {
  bindForm('terms');
  bindForm('holidays');
}

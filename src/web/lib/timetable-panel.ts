/**
 * The teacher console's weekly timetable (docs/timetable.md): add a weekly meeting to the
 * subject chosen in the open form, and see its next seven days, with the one tap for a meeting
 * whose session is not created yet; and the teacher's own session defaults.
 */
import { POLICY_PRESETS, PRESET_LABELS, type PolicyPreset } from '../../shared/policy-presets.js';
import { apiJson } from './auth.js';
import { byId, clockTime, errorText, h } from './dom.js';

interface TeacherSettings {
  timetableOpen: 'auto' | 'tap';
  defaultPolicy: { preset?: PolicyPreset };
  lateGraceMinutes: number | null;
  codePeriodS: number | null;
}

interface Term {
  id: string;
  name: string;
  startDay: string;
  endDay: string;
}

interface Upcoming {
  meetingId: string;
  day: string;
  startsAt: string;
  closesAt: string;
  state: 'planned' | 'created' | 'cancelled';
  sessionId: string | null;
}

const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
// A 'YYYY-MM-DD' is already the organisation's day: read at noon UTC, it names itself.
const dayLabel = new Intl.DateTimeFormat([], { weekday: 'short', day: 'numeric', month: 'short', timeZone: 'UTC' });

const STATE_TEXT: Record<Upcoming['state'], string> = {
  planned: 'Not created yet',
  created: 'Session scheduled',
  cancelled: 'Called off',
};

const post = (path: string, body: unknown) =>
  apiJson(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function renderUpcoming(subjectId: string): Promise<void> {
  const list = byId('upcoming-list');
  if (!subjectId) {
    list.replaceChildren();
    return;
  }
  const items = await apiJson<Upcoming[]>(`/api/v1/subjects/${encodeURIComponent(subjectId)}/upcoming?days=7`);
  if (items.length === 0) {
    list.replaceChildren(h('li', { class: 'muted' }, 'No meeting in the next 7 days.'));
    return;
  }
  list.replaceChildren(
    ...items.map((u) => {
      const when = `${dayLabel.format(new Date(`${u.day}T12:00:00Z`))}, ${clockTime(u.startsAt)}–${clockTime(u.closesAt)}`;
      const li = h(
        'li',
        { 'data-day': u.day, 'data-state': u.state },
        h('span', {}, when),
        h('span', { class: 'muted' }, STATE_TEXT[u.state]),
      );
      if (u.state === 'planned') {
        const start = h('button', { type: 'button', 'aria-label': `Start the session of ${when}` }, 'Start');
        start.addEventListener('click', () => {
          start.disabled = true;
          post(`/api/v1/meetings/${encodeURIComponent(u.meetingId)}/start`, { day: u.day })
            .then(() => renderUpcoming(subjectId))
            .catch((err: unknown) => {
              start.disabled = false;
              byId('timetable-error').textContent = errorText(err);
            });
        });
        li.append(start);
      }
      return li;
    }),
  );
}

const numberOrNull = (input: HTMLInputElement): number | null => (input.value.trim() === '' ? null : Number(input.value));

/**
 * The "My session defaults" form. Only the preset is offered for the checks: a policy changed
 * here replaces the whole default policy, so it is sent only when the choice changed.
 */
async function bindTeacherSettings(): Promise<void> {
  const status = byId('teacher-settings-status');
  const open = byId<HTMLSelectElement>('ts-open');
  const preset = byId<HTMLSelectElement>('ts-preset');
  const grace = byId<HTMLInputElement>('ts-grace');
  const code = byId<HTMLInputElement>('ts-code');
  preset.replaceChildren(
    h('option', { value: '' }, "The organisation's"),
    ...POLICY_PRESETS.map((p) => h('option', { value: p }, PRESET_LABELS[p])),
  );
  let loadedPreset = '';
  const show = (s: TeacherSettings) => {
    open.value = s.timetableOpen;
    loadedPreset = s.defaultPolicy.preset ?? '';
    preset.value = loadedPreset;
    grace.value = s.lateGraceMinutes === null ? '' : String(s.lateGraceMinutes);
    code.value = s.codePeriodS === null ? '' : String(s.codePeriodS);
  };
  show(await apiJson<TeacherSettings>('/api/v1/timetable/settings'));
  byId<HTMLFormElement>('teacher-settings-form').addEventListener('submit', (event) => {
    event.preventDefault();
    status.textContent = '';
    const body: Record<string, unknown> = {
      timetableOpen: open.value,
      lateGraceMinutes: numberOrNull(grace),
      codePeriodS: numberOrNull(code),
    };
    if (preset.value !== loadedPreset) body['defaultPolicy'] = preset.value ? { preset: preset.value } : {};
    apiJson<TeacherSettings>('/api/v1/timetable/settings', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
      .then((saved) => {
        show(saved);
        status.textContent = 'Saved.';
      })
      .catch((err: unknown) => (status.textContent = errorText(err)));
  });
}

/** Wires the panel to the subject select; loads the terms and the teacher's settings once. */
export async function bindTimetablePanel(subjectSelect: HTMLSelectElement): Promise<void> {
  const error = byId('timetable-error');
  const termSelect = byId<HTMLSelectElement>('meeting-term');
  byId<HTMLSelectElement>('meeting-weekday').replaceChildren(...WEEKDAYS.map((name, i) => h('option', { value: i + 1 }, name)));
  const { terms } = await apiJson<{ terms: Term[] }>('/api/v1/timetable/calendar');
  termSelect.replaceChildren(...terms.map((t) => h('option', { value: t.id }, `${t.name} (${t.startDay} to ${t.endDay})`)));
  if (terms.length === 0) error.textContent = 'No term yet: an administrator adds the terms first.';

  const refresh = () => renderUpcoming(subjectSelect.value).catch((err: unknown) => (error.textContent = errorText(err)));
  subjectSelect.addEventListener('change', () => void refresh());
  byId<HTMLFormElement>('meeting-form').addEventListener('submit', (event) => {
    event.preventDefault();
    error.textContent = '';
    const body = {
      termId: termSelect.value,
      weekday: Number(byId<HTMLSelectElement>('meeting-weekday').value),
      startTime: byId<HTMLInputElement>('meeting-start').value,
      endTime: byId<HTMLInputElement>('meeting-end').value,
    };
    post(`/api/v1/subjects/${encodeURIComponent(subjectSelect.value)}/meetings`, body)
      .then(() => refresh())
      .catch((err: unknown) => (error.textContent = errorText(err)));
  });
  await Promise.all([refresh(), bindTeacherSettings()]);
}

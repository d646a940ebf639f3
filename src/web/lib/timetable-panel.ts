/**
 * The teacher console's weekly timetable (docs/timetable.md): add a weekly meeting to the
 * subject chosen in the open form, with an optional room, list, edit and delete the subject's
 * meetings, and see its next seven days, with the one tap for a meeting whose session is not
 * created yet and a way to call one day off; and the teacher's own session defaults.
 */
import { POLICY_PRESETS, PRESET_LABELS, type PolicyPreset } from '../../shared/policy-presets.js';
import { ApiError, apiFetch, apiJson } from './auth.js';
import { announce, byId, clockTime, errorText, h } from './dom.js';

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

interface RoomLocation {
  lat: number;
  lon: number;
  radiusM: number;
}

interface Meeting {
  id: string;
  weekday: number;
  startTime: string;
  endTime: string;
  location: RoomLocation | null;
  allowedIpRanges: string[];
}

interface MeetingUpdate {
  meeting: Meeting;
  rescheduled: string[];
  cancelled: string[];
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

const send = <T = unknown>(method: 'POST' | 'PATCH', path: string, body: unknown) =>
  apiJson<T>(path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const post = (path: string, body: unknown) => send('POST', path, body);

/**
 * A meeting edit; one that would move a session onto another of the subject is asked about, as
 * when opening a session by hand, and sent again with parallel: true if the teacher confirms.
 */
async function editMeeting(id: string, fields: object): Promise<MeetingUpdate> {
  const path = `api/v1/meetings/${encodeURIComponent(id)}`;
  try {
    return await send<MeetingUpdate>('PATCH', path, fields);
  } catch (err) {
    if (!(err instanceof ApiError) || err.body.code !== 'SESSION_ALREADY_OPEN') throw err;
    const days = [...new Set(((err.body.details?.clashes ?? []) as { day: string }[]).map((c) => c.day))];
    const when = days.length > 0 ? ` on ${days.map((d) => dayLabel.format(new Date(`${d}T12:00:00Z`))).join(', ')}` : '';
    if (!confirm(`This subject already has a session at the new time${when}. Move the meeting anyway, beside it?`)) throw err;
    return send<MeetingUpdate>('PATCH', path, { ...fields, parallel: true });
  }
}

const meetingLabel = (m: Meeting) => `${WEEKDAYS[m.weekday - 1] ?? m.weekday} ${m.startTime}–${m.endTime}`;

function roomText(m: Meeting): string {
  const parts = [
    m.location ? `${Math.round(m.location.radiusM)} m around ${m.location.lat}, ${m.location.lon}` : null,
    m.allowedIpRanges.length > 0 ? m.allowedIpRanges.join(', ') : null,
  ].filter((p) => p !== null);
  return parts.length > 0 ? `Room: ${parts.join('; ')}` : "The subject's classroom";
}

/** The Room fieldset: a location when latitude and longitude are both given, and the networks. */
function readRoom(): { location: RoomLocation | null; allowedIpRanges: string[] } {
  const lat = byId<HTMLInputElement>('meeting-lat').value.trim();
  const lon = byId<HTMLInputElement>('meeting-lon').value.trim();
  const radius = byId<HTMLInputElement>('meeting-radius').value.trim();
  const networks = byId<HTMLInputElement>('meeting-networks')
    .value.split(/[\s,]+/)
    .filter((r) => r !== '');
  return {
    location: lat !== '' && lon !== '' ? { lat: Number(lat), lon: Number(lon), radiusM: Number(radius || '100') } : null,
    allowedIpRanges: networks,
  };
}

function fillForm(m: Meeting | null): void {
  byId<HTMLSelectElement>('meeting-weekday').value = String(m?.weekday ?? 1);
  byId<HTMLInputElement>('meeting-start').value = m?.startTime ?? '09:00';
  byId<HTMLInputElement>('meeting-end').value = m?.endTime ?? '10:00';
  byId<HTMLInputElement>('meeting-lat').value = m?.location ? String(m.location.lat) : '';
  byId<HTMLInputElement>('meeting-lon').value = m?.location ? String(m.location.lon) : '';
  byId<HTMLInputElement>('meeting-radius').value = String(m?.location?.radiusM ?? 100);
  byId<HTMLInputElement>('meeting-networks').value = m ? m.allowedIpRanges.join(', ') : '';
}

function updateText(u: MeetingUpdate): string {
  const moved = u.rescheduled.length;
  const cancelled = u.cancelled.length;
  const parts = [`${meetingLabel(u.meeting)} saved.`];
  if (moved > 0) parts.push(`${moved} scheduled session${moved === 1 ? '' : 's'} moved.`);
  if (cancelled > 0) parts.push(`${cancelled} cancelled; the new day's sessions are created by the timetable.`);
  return parts.join(' ');
}

/** A button that asks first, then runs `act` and refreshes; a refusal goes to the panel's error line. */
function confirmedButton(label: string, ariaLabel: string, question: string, act: () => Promise<unknown>, done: () => Promise<unknown>) {
  const button = h('button', { type: 'button', class: 'danger', 'aria-label': ariaLabel }, label);
  button.addEventListener('click', () => {
    if (!confirm(question)) return;
    button.disabled = true;
    byId('timetable-error').textContent = '';
    act()
      .then(done)
      .catch((err: unknown) => {
        button.disabled = false;
        byId('timetable-error').textContent = errorText(err);
      });
  });
  return button;
}

async function renderUpcoming(subjectId: string): Promise<void> {
  const list = byId('upcoming-list');
  if (!subjectId) {
    list.replaceChildren();
    return;
  }
  const items = await apiJson<Upcoming[]>(`api/v1/subjects/${encodeURIComponent(subjectId)}/upcoming?days=7`);
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
          post(`api/v1/meetings/${encodeURIComponent(u.meetingId)}/start`, { day: u.day })
            .then(() => renderUpcoming(subjectId))
            .catch((err: unknown) => {
              start.disabled = false;
              byId('timetable-error').textContent = errorText(err);
            });
        });
        li.append(start);
      }
      if (u.state !== 'cancelled') {
        li.append(
          confirmedButton(
            'Call off',
            `Call off the meeting of ${when}`,
            `Call off the meeting of ${when}? ${u.state === 'created' ? 'Its session is cancelled' : 'No session is created for it'}; the other weeks stay.`,
            async () => {
              await post(`api/v1/meetings/${encodeURIComponent(u.meetingId)}/cancel`, { day: u.day });
              announce(byId('meeting-status'), `The meeting of ${when} is called off.`);
            },
            () => renderUpcoming(subjectId),
          ),
        );
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
  show(await apiJson<TeacherSettings>('api/v1/timetable/settings'));
  byId<HTMLFormElement>('teacher-settings-form').addEventListener('submit', (event) => {
    event.preventDefault();
    status.textContent = '';
    const body: Record<string, unknown> = {
      timetableOpen: open.value,
      lateGraceMinutes: numberOrNull(grace),
      codePeriodS: numberOrNull(code),
    };
    if (preset.value !== loadedPreset) body['defaultPolicy'] = preset.value ? { preset: preset.value } : {};
    apiJson<TeacherSettings>('api/v1/timetable/settings', {
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
  const status = byId('meeting-status');
  const termSelect = byId<HTMLSelectElement>('meeting-term');
  const submit = byId<HTMLButtonElement>('meeting-submit');
  const stopEditing = byId<HTMLButtonElement>('meeting-edit-cancel');
  byId<HTMLSelectElement>('meeting-weekday').replaceChildren(...WEEKDAYS.map((name, i) => h('option', { value: i + 1 }, name)));
  const { terms } = await apiJson<{ terms: Term[] }>('api/v1/timetable/calendar');
  termSelect.replaceChildren(...terms.map((t) => h('option', { value: t.id }, `${t.name} (${t.startDay} to ${t.endDay})`)));
  if (terms.length === 0) error.textContent = 'No term yet: an administrator adds the terms first.';

  // The meeting being edited; null: the form adds one.
  let editing: Meeting | null = null;
  const setEditing = (m: Meeting | null) => {
    editing = m;
    fillForm(m);
    // The term of a meeting stays: an edit changes its day, times and room.
    termSelect.disabled = m !== null;
    submit.textContent = m ? `Save ${meetingLabel(m)}` : 'Add weekly meeting';
    stopEditing.hidden = m === null;
  };

  const renderMeetings = async (subjectId: string) => {
    const list = byId('meeting-list');
    const meetings = subjectId ? await apiJson<Meeting[]>(`api/v1/subjects/${encodeURIComponent(subjectId)}/meetings`) : [];
    if (meetings.length === 0) {
      list.replaceChildren(h('li', { class: 'muted' }, 'No weekly meeting yet.'));
      return;
    }
    list.replaceChildren(
      ...meetings.map((m) => {
        const edit = h('button', { type: 'button', 'aria-label': `Edit the meeting of ${meetingLabel(m)}` }, 'Edit');
        edit.addEventListener('click', () => {
          error.textContent = '';
          status.textContent = '';
          setEditing(m);
          byId('meeting-weekday').focus();
        });
        const remove = confirmedButton(
          'Delete',
          `Delete the meeting of ${meetingLabel(m)}`,
          `Delete the weekly meeting of ${meetingLabel(m)}? No more sessions are created for it; those already created stay as they are.`,
          async () => {
            await apiFetch(`api/v1/meetings/${encodeURIComponent(m.id)}`, { method: 'DELETE' });
            if (editing?.id === m.id) setEditing(null);
            announce(status, `The weekly meeting of ${meetingLabel(m)} is deleted.`);
          },
          refresh,
        );
        return h('li', { 'data-meeting': m.id }, h('span', {}, meetingLabel(m)), h('span', { class: 'muted' }, roomText(m)), edit, remove);
      }),
    );
  };

  const refresh = () =>
    Promise.all([renderUpcoming(subjectSelect.value), renderMeetings(subjectSelect.value)]).catch(
      (err: unknown) => (error.textContent = errorText(err)),
    );
  subjectSelect.addEventListener('change', () => {
    setEditing(null);
    void refresh();
  });
  stopEditing.addEventListener('click', () => setEditing(null));
  byId<HTMLFormElement>('meeting-form').addEventListener('submit', (event) => {
    event.preventDefault();
    error.textContent = '';
    status.textContent = '';
    const fields = {
      weekday: Number(byId<HTMLSelectElement>('meeting-weekday').value),
      startTime: byId<HTMLInputElement>('meeting-start').value,
      endTime: byId<HTMLInputElement>('meeting-end').value,
      ...readRoom(),
    };
    const saved = editing
      ? editMeeting(editing.id, fields).then((u) => {
          setEditing(null);
          status.textContent = updateText(u);
        })
      : post(`api/v1/subjects/${encodeURIComponent(subjectSelect.value)}/meetings`, { termId: termSelect.value, ...fields }).then(() =>
          fillForm(null),
        );
    saved.then(() => refresh()).catch((err: unknown) => (error.textContent = errorText(err)));
  });
  await Promise.all([refresh(), bindTeacherSettings()]);
}

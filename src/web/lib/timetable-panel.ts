/**
 * The teacher console's weekly timetable (docs/timetable.md): add a weekly meeting to the
 * subject chosen in the open form, with an optional room, list, edit and delete the subject's
 * meetings, and see its next seven days, with the one tap for a meeting whose session is not
 * created yet and a way to call one day off; and the teacher's own session defaults.
 */
import { POLICY_PRESETS, type PolicyPreset } from '../../shared/policy-presets.js';
import { ApiError, apiFetch, apiJson } from './auth.js';
import { announce, byId, clockTime, errorText, h } from './dom.js';
import { errorMessage } from './i18n.js';
import { tt } from './teacher-text.js';
import { dayLabel, weekdayName } from './slot-words.js';

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
  abandoned: { rescheduled: string[]; cancelled: string[] };
}

/** What earlier runs of a refused edit already did (the refusal's `details.partlyApplied`). */
interface PartlyApplied {
  rescheduled: string[];
  cancelled: string[];
  rescheduledDays: string[];
  cancelledDays: string[];
}

interface Upcoming {
  meetingId: string;
  day: string;
  startsAt: string;
  closesAt: string;
  state: 'planned' | 'created' | 'cancelled';
  sessionId: string | null;
}

const send = <T = unknown>(method: 'POST' | 'PATCH', path: string, body: unknown) =>
  apiJson<T>(path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const post = (path: string, body: unknown) => send('POST', path, body);

/**
 * A refused edit that earlier runs had partly carried out (a node paused past its locks): which
 * sessions already moved or were cancelled, on which days, and that saving again finishes it, in
 * the page's language (the server's message says it in English only). Null for any other error.
 */
function partlyText(err: unknown): string | null {
  const partly = err instanceof ApiError ? (err.body.details?.['partlyApplied'] as PartlyApplied | undefined) : undefined;
  if (!partly) return null;
  const days = (list: string[] | undefined) => (list ?? []).map(dayLabel).join(', ');
  const done = [
    partly.rescheduled.length > 0
      ? tt('timetable.partlyMoved', { count: partly.rescheduled.length, days: days(partly.rescheduledDays) })
      : null,
    partly.cancelled.length > 0
      ? tt('timetable.partlyCancelled', { count: partly.cancelled.length, days: days(partly.cancelledDays) })
      : null,
  ].filter((p) => p !== null);
  return tt('timetable.partlyApplied', { done: done.join(' ') });
}

/**
 * What another edit of the meeting, refused and given up, left moved or cancelled (a refusal's or
 * an answer's `abandoned`), in the page's language; null when it left nothing.
 */
function abandonedText(left: { rescheduled: string[]; cancelled: string[] } | undefined): string | null {
  const count = (left?.rescheduled.length ?? 0) + (left?.cancelled.length ?? 0);
  return count > 0 ? tt('timetable.abandoned', { count }) : null;
}

/** What a refusal says beyond its code: the edit partly carried out, and what a given-up edit left; null when neither. */
function refusalNotes(err: unknown): string | null {
  const left = err instanceof ApiError ? (err.body.details?.['abandoned'] as MeetingUpdate['abandoned'] | undefined) : undefined;
  const notes = [partlyText(err), abandonedText(left)].filter((n) => n !== null);
  return notes.length > 0 ? notes.join(' ') : null;
}

/** A refused save in the page's language: the code's words and, for an edit partly carried out, what already changed. */
function saveErrorText(err: unknown, form: ParentNode): string {
  const notes = refusalNotes(err);
  if (notes === null) return errorText(err, form);
  return `${errorMessage((err as ApiError).body.code) ?? errorText(err, form)} ${notes}`;
}

/**
 * The clashes a meeting save asks about, each with the flag that confirms it: a session moved
 * onto another of the subject (parallel), a teacher double-booked (teacherOverlap). An edit
 * already partly carried out says so in the question: confirming finishes it.
 */
function clashQuestion(err: ApiError): { question: string; confirm: object } | null {
  const days = [...new Set(((err.body.details?.['clashes'] ?? []) as { day: string }[]).map((c) => c.day))];
  const when = days.length > 0 ? tt('timetable.on', { days: days.map(dayLabel).join(', ') }) : '';
  const notes = refusalNotes(err);
  const asked = (question: string) => (notes === null ? question : `${notes} ${question}`);
  if (err.body.code === 'SESSION_ALREADY_OPEN')
    return { question: asked(tt('timetable.clashParallel', { when })), confirm: { parallel: true } };
  if (err.body.code === 'TEACHER_DOUBLE_BOOKED') {
    return { question: asked(tt('timetable.clashTeacher', { when })), confirm: { teacherOverlap: true } };
  }
  return null;
}

/**
 * Saves a meeting (adds or edits it); a clash is asked about, as when opening a session by
 * hand, and the save sent again with its flag if the teacher confirms.
 */
async function saveMeeting<T>(method: 'POST' | 'PATCH', path: string, fields: object): Promise<T> {
  let sent = fields;
  // Each clash is asked about once: two questions at most, then the answer stands.
  for (let asked = 0; ; asked += 1) {
    try {
      return await send<T>(method, path, sent);
    } catch (err) {
      const clash = err instanceof ApiError ? clashQuestion(err) : null;
      if (!clash || asked >= 2 || !confirm(clash.question)) throw err;
      sent = { ...sent, ...clash.confirm };
    }
  }
}

const meetingLabel = (m: Meeting) => tt('timetable.meetingLabel', { day: weekdayName(m.weekday), from: m.startTime, to: m.endTime });

function roomText(m: Meeting): string {
  const parts = [
    m.location
      ? tt('timetable.roomAround', { radius: Math.round(m.location.radiusM), lat: String(m.location.lat), lon: String(m.location.lon) })
      : null,
    m.allowedIpRanges.length > 0 ? m.allowedIpRanges.join(', ') : null,
  ].filter((p) => p !== null);
  return parts.length > 0 ? tt('timetable.roomLine', { parts: parts.join('; ') }) : tt('timetable.subjectRoom');
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
  const parts = [tt('timetable.savedLine', { meeting: meetingLabel(u.meeting) })];
  if (moved > 0) parts.push(tt('timetable.moved', { count: moved }));
  if (cancelled > 0) parts.push(tt('timetable.cancelledSessions', { count: cancelled }));
  // Left by an earlier edit the teacher gave up after its refusal: cancelled sessions stay cancelled.
  const left = abandonedText(u.abandoned);
  if (left !== null) parts.push(left);
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
    list.replaceChildren(h('li', { class: 'muted' }, tt('timetable.noUpcoming')));
    return;
  }
  list.replaceChildren(
    ...items.map((u) => {
      const when = tt('timetable.when', { day: dayLabel(u.day), from: clockTime(u.startsAt), to: clockTime(u.closesAt) });
      const li = h(
        'li',
        { 'data-day': u.day, 'data-state': u.state },
        h('span', {}, when),
        h('span', { class: 'muted' }, tt(`timetable.state.${u.state}`)),
      );
      if (u.state === 'planned') {
        const start = h('button', { type: 'button', 'aria-label': tt('timetable.startLabel', { when }) }, tt('timetable.start'));
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
            tt('timetable.callOff'),
            tt('timetable.callOffLabel', { when }),
            tt(u.state === 'created' ? 'timetable.callOffCreated' : 'timetable.callOffPlanned', { when }),
            async () => {
              await post(`api/v1/meetings/${encodeURIComponent(u.meetingId)}/cancel`, { day: u.day });
              announce(byId('meeting-status'), tt('timetable.calledOff', { when }));
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
    h('option', { value: '' }, tt('preset.organisation')),
    ...POLICY_PRESETS.map((p) => h('option', { value: p }, tt(`preset.${p}`))),
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
        status.textContent = tt('timetable.saved');
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
  byId<HTMLSelectElement>('meeting-weekday').replaceChildren(
    ...[1, 2, 3, 4, 5, 6, 7].map((n) => h('option', { value: n }, weekdayName(n))),
  );
  const { terms } = await apiJson<{ terms: Term[] }>('api/v1/timetable/calendar');
  termSelect.replaceChildren(
    ...terms.map((term) =>
      h('option', { value: term.id }, tt('timetable.termLine', { name: term.name, from: term.startDay, to: term.endDay })),
    ),
  );
  if (terms.length === 0) error.textContent = tt('timetable.noTerm');

  // The meeting being edited; null: the form adds one.
  let editing: Meeting | null = null;
  const setEditing = (m: Meeting | null) => {
    editing = m;
    fillForm(m);
    // The term of a meeting stays: an edit changes its day, times and room.
    termSelect.disabled = m !== null;
    delete submit.dataset['i18n'];
    submit.textContent = m ? tt('timetable.saveMeeting', { meeting: meetingLabel(m) }) : tt('timetable.add');
    stopEditing.hidden = m === null;
  };

  const renderMeetings = async (subjectId: string) => {
    const list = byId('meeting-list');
    const meetings = subjectId ? await apiJson<Meeting[]>(`api/v1/subjects/${encodeURIComponent(subjectId)}/meetings`) : [];
    if (meetings.length === 0) {
      list.replaceChildren(h('li', { class: 'muted' }, tt('timetable.noMeeting')));
      return;
    }
    list.replaceChildren(
      ...meetings.map((m) => {
        const edit = h(
          'button',
          { type: 'button', 'aria-label': tt('timetable.editLabel', { meeting: meetingLabel(m) }) },
          tt('timetable.edit'),
        );
        edit.addEventListener('click', () => {
          error.textContent = '';
          status.textContent = '';
          setEditing(m);
          byId('meeting-weekday').focus();
        });
        const remove = confirmedButton(
          tt('timetable.delete'),
          tt('timetable.deleteLabel', { meeting: meetingLabel(m) }),
          tt('timetable.confirmDelete', { meeting: meetingLabel(m) }),
          async () => {
            await apiFetch(`api/v1/meetings/${encodeURIComponent(m.id)}`, { method: 'DELETE' });
            if (editing?.id === m.id) setEditing(null);
            announce(status, tt('timetable.deleted', { meeting: meetingLabel(m) }));
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
      ? saveMeeting<MeetingUpdate>('PATCH', `api/v1/meetings/${encodeURIComponent(editing.id)}`, fields).then((u) => {
          setEditing(null);
          status.textContent = updateText(u);
        })
      : saveMeeting('POST', `api/v1/subjects/${encodeURIComponent(subjectSelect.value)}/meetings`, {
          termId: termSelect.value,
          ...fields,
        }).then(() => fillForm(null));
    saved.then(() => refresh()).catch((err: unknown) => (error.textContent = saveErrorText(err, byId('meeting-form'))));
  });
  await Promise.all([refresh(), bindTeacherSettings()]);
}

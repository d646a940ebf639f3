/**
 * One teacher's subjects, opened from the teacher's row of the users table: a teacher away for a
 * month hands all or some of them to a colleague at once (POST /users/{id}/handover), and on
 * their return one button hands back exactly what was handed (POST /users/{id}/handover/back),
 * instead of editing each subject and remembering which.
 */
import { ApiError, apiJson } from '../lib/auth.js';
import { announce, byId, errorText, h, show } from '../lib/dom.js';
import { at } from '../lib/admin-text.js';
import { dayLabel, weekdayName } from '../lib/slot-words.js';
import { fetchAll, jsonBody } from './fetch-all.js';
import type { Subject, User } from './types.js';

interface Pending {
  toTeacherId: string;
  subjects: { subjectId: string; code: string }[];
}
interface Taught {
  items: Subject[];
  handover: Pending | null;
}

let teacher: User | null = null;
let colleagues: User[] = [];

const userPath = (id: string, rest: string) => `api/v1/users/${encodeURIComponent(id)}/${rest}`;

function row(s: Subject): HTMLTableRowElement {
  const hand = h('input', {
    type: 'checkbox',
    name: 'hand',
    value: s.id,
    checked: '',
    'aria-label': at('teacherSubjects.handOf', { code: s.code }),
  });
  return h('tr', {}, h('td', {}, hand), h('th', { scope: 'row' }, s.code), h('td', {}, s.name));
}

function render(user: User, taught: Taught): void {
  byId('teacher-subjects-body').replaceChildren(...taught.items.map(row));
  byId('teacher-subjects-caption').textContent =
    taught.items.length === 0 ? at('teacherSubjects.none') : at('teacherSubjects.count', { count: taught.items.length });
  const pending = taught.handover;
  const to = pending ? (colleagues.find((c) => c.id === pending.toTeacherId)?.name ?? '?') : '';
  byId('teacher-subjects-pending').textContent = pending
    ? at('teacherSubjects.pending', { name: user.name, to, codes: pending.subjects.map((s) => s.code).join(', ') })
    : '';
  show(byId('teacher-subjects-back'), pending !== null);
  show(byId('teacher-subjects-form'), pending === null && taught.items.length > 0);
}

async function reload(user: User): Promise<void> {
  render(user, await apiJson<Taught>(userPath(user.id, 'taught-subjects')));
}

/** Opens the panel on `user`'s subjects (the Subjects button of a teacher's row). */
export async function openTeacherSubjects(user: User): Promise<void> {
  teacher = user;
  byId('teacher-subjects-error').textContent = '';
  byId('teacher-subjects-status').textContent = '';
  colleagues = await fetchAll<User>('api/v1/users?role=teacher&active=true');
  const select = byId<HTMLSelectElement>('teacher-subjects-to');
  select.replaceChildren(
    h('option', { value: '' }, at('teacherSubjects.choose')),
    ...colleagues.filter((c) => c.id !== user.id).map((c) => h('option', { value: c.id }, `${c.name} (${c.email})`)),
  );
  byId('teacher-subjects-title').textContent = at('teacherSubjects.titleOf', { name: user.name });
  await reload(user);
  show(byId('teacher-subjects-panel'), true);
  byId('teacher-subjects-title').focus();
}

interface Slot {
  weekday: number;
  startTime: string;
  endTime: string;
}
/** One clash of a TEACHER_DOUBLE_BOOKED refusal (`doubleBookings`): a meeting, or a day of sessions, against another subject's. */
interface DoubleBooking {
  code: string;
  meeting: Slot | null;
  day: string | null;
  withCode: string;
  withMeeting: Slot | null;
}
interface Refusal {
  code: string;
  error: string;
  doubleBookings?: DoubleBooking[];
}

const slotText = (s: Slot) => at('teacherSubjects.slot', { day: weekdayName(s.weekday), from: s.startTime, to: s.endTime });

function clashText(c: DoubleBooking): string {
  if (c.meeting && c.withMeeting) {
    return at('teacherSubjects.clashMeetings', {
      code: c.code,
      when: slotText(c.meeting),
      with: c.withCode,
      withWhen: slotText(c.withMeeting),
    });
  }
  return at('teacherSubjects.clashSessions', { code: c.code, with: c.withCode, day: c.day === null ? '?' : dayLabel(c.day) });
}

/** A refusal names every subject that refused, each double-booking with what it meets, in the page's language; nothing was changed. */
function refusalText(err: unknown): string {
  const refused = err instanceof ApiError ? err.body.details?.['refused'] : undefined;
  if (!Array.isArray(refused)) return errorText(err);
  const all = refused as Refusal[];
  const booked = all.filter((r) => r.error === 'TEACHER_DOUBLE_BOOKED');
  if (booked.length === 0) return at('teacherSubjects.refused', { codes: all.map((r) => r.code).join(', ') });
  const clashes = booked.flatMap((r) => r.doubleBookings ?? []);
  // Each refused subject is named: by its clashes where the answer gives them, else by its code.
  const named = [...clashes.map(clashText), ...booked.filter((r) => !r.doubleBookings?.length).map((r) => r.code)];
  return at('teacherSubjects.doubleBookedEach', { clashes: named.join(at('teacherSubjects.clashSeparator')) });
}

async function handOver(user: User): Promise<string> {
  const to = byId<HTMLSelectElement>('teacher-subjects-to').value;
  if (to === '') return Promise.reject(new Error(at('teacherSubjects.chooseFirst')));
  const boxes = [...byId('teacher-subjects-body').querySelectorAll<HTMLInputElement>('input[name="hand"]')];
  const ticked = boxes.filter((b) => b.checked).map((b) => b.value);
  if (ticked.length === 0) return Promise.reject(new Error(at('teacherSubjects.nothing')));
  const body = {
    toTeacherId: to,
    ...(ticked.length < boxes.length ? { subjectIds: ticked } : {}),
    keepAbsent: byId<HTMLInputElement>('teacher-subjects-keep').checked,
    teacherOverlap: byId<HTMLInputElement>('teacher-subjects-overlap').checked,
  };
  await apiJson(userPath(user.id, 'handover'), jsonBody('POST', body));
  await reload(user);
  const name = colleagues.find((c) => c.id === to)?.name ?? '?';
  return at('teacherSubjects.handed', { count: ticked.length, to: name });
}

async function handBack(user: User): Promise<string> {
  const overlap = byId<HTMLInputElement>('teacher-subjects-overlap').checked;
  await apiJson(userPath(user.id, 'handover/back'), jsonBody('POST', { teacherOverlap: overlap }));
  await reload(user);
  return at('teacherSubjects.handedBack', { name: user.name });
}

function run(button: HTMLButtonElement, action: (user: User) => Promise<string>): void {
  if (!teacher) return;
  const error = byId('teacher-subjects-error');
  error.textContent = '';
  byId('teacher-subjects-status').textContent = '';
  button.disabled = true;
  action(teacher)
    .then((text) => announce(byId('teacher-subjects-status'), text))
    .catch((err: unknown) => (error.textContent = refusalText(err)))
    .finally(() => (button.disabled = false));
}

export function bindTeacherSubjects(): void {
  byId('teacher-subjects-close').addEventListener('click', () => {
    show(byId('teacher-subjects-panel'), false);
    teacher = null;
  });
  const form = byId<HTMLFormElement>('teacher-subjects-form');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    run(form.querySelector<HTMLButtonElement>('button[type="submit"]')!, handOver);
  });
  const back = byId<HTMLButtonElement>('teacher-subjects-back');
  back.addEventListener('click', () => run(back, handBack));
}

/**
 * One student's subjects, opened from the student's row of the users table: a student moving to
 * another class leaves some subjects and joins others, a student arriving late joins theirs, in
 * one form (POST /users/{id}/subjects by codes, then DELETE /users/{id}/subjects for all those
 * ticked, in one request), instead of opening each subject of the school to find them.
 */
import { ApiError, apiJson } from '../lib/auth.js';
import { announce, byId, errorText, h, show } from '../lib/dom.js';
import { at } from '../lib/admin-text.js';
import { formatNumber } from '../lib/i18n.js';
import { jsonBody } from './fetch-all.js';
import type { Subject, User } from './types.js';

let student: User | null = null;

const subjectsPath = (id: string) => `api/v1/users/${encodeURIComponent(id)}/subjects`;

function row(s: Subject): HTMLTableRowElement {
  const leave = h('input', { type: 'checkbox', name: 'leave', value: s.id, 'aria-label': at('studentSubjects.leaveOf', { code: s.code }) });
  return h('tr', {}, h('td', {}, leave), h('th', { scope: 'row' }, s.code), h('td', {}, s.name));
}

function render(items: Subject[]): void {
  byId('student-subjects-body').replaceChildren(...items.map(row));
  byId('student-subjects-caption').textContent =
    items.length === 0 ? at('studentSubjects.none') : at('studentSubjects.count', { count: items.length });
}

/** Opens the panel on `user`'s subjects (the Subjects button of a student's row). */
export async function openStudentSubjects(user: User): Promise<void> {
  student = user;
  byId('student-subjects-error').textContent = '';
  byId('student-subjects-status').textContent = '';
  byId<HTMLInputElement>('student-subjects-codes').value = '';
  const { items } = await apiJson<{ items: Subject[] }>(subjectsPath(user.id));
  byId('student-subjects-title').textContent = at('studentSubjects.titleOf', { name: user.name });
  render(items);
  show(byId('student-subjects-panel'), true);
  byId('student-subjects-title').focus();
}

/** One request, all or nothing: a failure leaves the student in every one of them. */
const leave = (studentId: string, subjectIds: string[]) => apiJson(subjectsPath(studentId), jsonBody('DELETE', { subjectIds }));

/**
 * A deactivated student stays enrolled, and so on their subjects' rosters, marked absent at every
 * close (docs/protocol.md §11): a student who left is offered to leave their subjects as well.
 * Answers what was done, null when nothing was.
 */
export async function offerLeavingAll(user: User): Promise<string | null> {
  const { items } = await apiJson<{ items: Subject[] }>(subjectsPath(user.id));
  if (items.length === 0 || !confirm(at('studentSubjects.confirmLeaveAll', { name: user.name, count: items.length }))) return null;
  try {
    await leave(
      user.id,
      items.map((s) => s.id),
    );
  } catch (err) {
    // The deactivation stands: say so, with why the removal did not happen.
    throw new Error(at('studentSubjects.leaveAllFailed', { name: user.name, reason: errorText(err) }), { cause: err });
  }
  return at('studentSubjects.leftAll', { name: user.name, count: items.length });
}

/** Codes as typed: separated by commas, semicolons or spaces (a column pasted from a spreadsheet too). */
function typedCodes(): string[] {
  return [
    ...new Set(
      byId<HTMLInputElement>('student-subjects-codes')
        .value.split(/[\s,;]+/)
        .filter(Boolean),
    ),
  ];
}

/**
 * Joins first, all or nothing: a mistyped code stops the save before the student leaves anything,
 * so a move never leaves them between two classes. Then leaves the ticked subjects, all or none.
 */
async function save(user: User): Promise<string> {
  const codes = typedCodes();
  const leaving = [...byId('student-subjects-body').querySelectorAll<HTMLInputElement>('input[name="leave"]:checked')].map((i) => i.value);
  if (codes.length === 0 && leaving.length === 0) return at('studentSubjects.nothing');
  if (codes.length > 0) {
    try {
      await apiJson(subjectsPath(user.id), jsonBody('POST', { codes }));
    } catch (err) {
      const details = err instanceof ApiError ? err.body.details : undefined;
      const unknown = details?.['unknownCodes'];
      if (Array.isArray(unknown)) throw new Error(at('studentSubjects.unknownCodes', { codes: unknown.join(', ') }), { cause: err });
      if (Array.isArray(details?.['deactivatedStudentIds']))
        throw new Error(at('studentSubjects.deactivated', { name: user.name }), { cause: err });
      throw err;
    }
  }
  if (leaving.length > 0) await leave(user.id, leaving);
  const { items } = await apiJson<{ items: Subject[] }>(subjectsPath(user.id));
  render(items);
  byId<HTMLInputElement>('student-subjects-codes').value = '';
  return at('studentSubjects.saved', { name: user.name, joined: formatNumber(codes.length), left: formatNumber(leaving.length) });
}

export function bindStudentSubjects(): void {
  byId('student-subjects-close').addEventListener('click', () => {
    show(byId('student-subjects-panel'), false);
    student = null;
  });
  const form = byId<HTMLFormElement>('student-subjects-form');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!student) return;
    const error = byId('student-subjects-error');
    error.textContent = '';
    byId('student-subjects-status').textContent = '';
    const button = form.querySelector<HTMLButtonElement>('button[type="submit"]')!;
    button.disabled = true;
    save(student)
      .then((text) => announce(byId('student-subjects-status'), text))
      .catch((err: unknown) => (error.textContent = errorText(err)))
      .finally(() => (button.disabled = false));
  });
}

/**
 * Leavers at the end of a school year: everyone the Users search lists, or the students and staff
 * of a CSV of student numbers or emails, deactivated at once (POST /users/deactivate).
 */
import { apiJson } from '../lib/auth.js';
import { columnValues, splitCsv } from '../lib/csv-records.js';
import { announce, byId, errorText } from '../lib/dom.js';
import { at } from '../lib/admin-text.js';
import { fetchAll, jsonBody } from './fetch-all.js';
import type { User } from './types.js';

/** Ids per request (the API takes at most 1 000). */
const IDS_MAX = 1_000;
/** The longest student number the API keeps. */
const STUDENT_NUMBER_MAX = 64;

interface Outcome {
  deactivatedIds: string[];
  alreadyInactiveIds: string[];
  notFoundIds: string[];
  selfId: string | null;
  unenrolled: number;
}

async function deactivate(ids: readonly string[], removeFromSubjects: boolean): Promise<Outcome> {
  const all: Outcome = { deactivatedIds: [], alreadyInactiveIds: [], notFoundIds: [], selfId: null, unenrolled: 0 };
  for (let i = 0; i < ids.length; i += IDS_MAX) {
    const part = await apiJson<Outcome>(
      'api/v1/users/deactivate',
      jsonBody('POST', { userIds: ids.slice(i, i + IDS_MAX), removeFromSubjects }),
    );
    all.deactivatedIds.push(...part.deactivatedIds);
    all.alreadyInactiveIds.push(...part.alreadyInactiveIds);
    all.notFoundIds.push(...part.notFoundIds);
    all.selfId ??= part.selfId;
    all.unenrolled += part.unenrolled;
  }
  return all;
}

function outcomeText(o: Outcome): string {
  const parts = [at('leavers.done', { count: o.deactivatedIds.length })];
  if (o.unenrolled > 0) parts.push(at('leavers.unenrolled', { count: o.unenrolled }));
  if (o.alreadyInactiveIds.length > 0) parts.push(at('leavers.already', { count: o.alreadyInactiveIds.length }));
  if (o.notFoundIds.length > 0) parts.push(at('leavers.gone', { count: o.notFoundIds.length }));
  if (o.selfId) parts.push(at('leavers.notYou'));
  return parts.join(' ');
}

/** The file's student_number or email column; without either header, every non-empty line. */
function entriesOf(text: string): string[] {
  const file = splitCsv(text);
  const column = columnValues(file, 'student_number') ?? columnValues(file, 'email');
  const values = column ?? text.split(/\r?\n/);
  return [...new Set(values.map((v) => v.trim()).filter(Boolean))];
}

/** The active users the entries name (an email, else a student number), and the entries nobody has. */
async function resolve(entries: readonly string[]): Promise<{ users: User[]; unknown: string[] }> {
  const emails = entries.filter((e) => e.includes('@'));
  const numbers = entries.filter((e) => !e.includes('@') && e.length <= STUDENT_NUMBER_MAX);
  const found = new Map<string, User>();
  for (let i = 0; i < numbers.length; i += IDS_MAX) {
    const page = await apiJson<{ items: User[] }>(
      'api/v1/users/by-student-number',
      jsonBody('POST', { studentNumbers: numbers.slice(i, i + IDS_MAX) }),
    );
    for (const u of page.items) if (u.active && u.studentNumber) found.set(u.studentNumber, u);
  }
  // No route finds users by exact emails: the active users are read once and matched here.
  if (emails.length > 0) for (const u of await fetchAll<User>('api/v1/users?active=true')) found.set(u.email.toLowerCase(), u);
  const users = new Map<string, User>();
  const unknown: string[] = [];
  for (const e of entries) {
    const u = found.get(e.includes('@') ? e.toLowerCase() : e);
    if (u) users.set(u.id, u);
    else unknown.push(e);
  }
  return { users: [...users.values()], unknown };
}

async function confirmAndRun(users: readonly User[], skipped: string | null): Promise<string | null> {
  if (users.length === 0) return at('leavers.nobody');
  const question = at('leavers.confirm', { count: users.length });
  if (!confirm(skipped ? `${skipped}\n\n${question}` : question)) return null;
  return outcomeText(
    await deactivate(
      users.map((u) => u.id),
      byId<HTMLInputElement>('leavers-unenrol').checked,
    ),
  );
}

/** `filter`: the Users search's parameters; `reload` shows the list again afterwards. */
export function bindLeavers(filter: () => URLSearchParams, reload: () => Promise<void>): void {
  const run = (button: HTMLButtonElement, work: () => Promise<string | null>) => {
    button.disabled = true;
    byId('leavers-error').textContent = '';
    work()
      .then(async (text) => {
        if (text === null) return;
        announce(byId('leavers-status'), text);
        await reload();
      })
      .catch((err: unknown) => (byId('leavers-error').textContent = errorText(err)))
      .finally(() => (button.disabled = false));
  };
  const listed = byId<HTMLButtonElement>('users-deactivate-listed');
  listed.addEventListener('click', () =>
    run(listed, async () => {
      // Every page of the search, not the one shown; the deactivated ones need nothing.
      const params = filter();
      params.set('active', 'true');
      return confirmAndRun(await fetchAll<User>(`api/v1/users?${params}`), null);
    }),
  );
  const form = byId<HTMLFormElement>('leavers-form');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const submit = form.querySelector<HTMLButtonElement>('button[type="submit"]')!;
    run(submit, async () => {
      const chosen = byId<HTMLInputElement>('leavers-file').files?.[0];
      if (!chosen) throw new Error(at('leavers.chooseFile'));
      const { users, unknown } = await resolve(entriesOf(await chosen.text()));
      const skipped = unknown.length > 0 ? at('leavers.unknown', { entries: unknown.join(', ') }) : null;
      if (skipped) byId('leavers-error').textContent = skipped;
      const text = await confirmAndRun(users, skipped);
      if (text !== null) form.reset();
      return text;
    });
  });
}

// An admin's onboarding script over HTTP, written from the README ("First run in production",
// "Inviting users", "Rules worth knowing") and docs/integrations.md: users from CSV, invitations,
// a subject with its teacher, class list and classroom, then the exports.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Http, login } from './http.js';

export interface ImportedUser {
  id: string;
  email: string;
  role: string;
  studentNumber: string | null;
}
export interface Subject {
  id: string;
  code: string;
  name: string;
  teacherIds: string[];
  location: { lat: number; lon: number; radiusM: number } | null;
  allowedIpRanges: string[];
}

export const classroom = { lat: 48.8566, lon: 2.3522, radiusM: 60 };

/** The users CSV of README "CSV user import": `name,email,role,student_number`. */
export function usersCsv(rows: { name: string; email: string; role: string; studentNumber?: string }[]): string {
  return (
    ['name,email,role,student_number', ...rows.map((r) => `${r.name},${r.email},${r.role},${r.studentNumber ?? ''}`)].join('\n') + '\n'
  );
}

export async function importUsers(http: Http, csv: string): Promise<ImportedUser[]> {
  const dry = await http.expect<{ created: number; users: unknown[]; checked: number }>(
    200,
    'POST',
    '/users/import?dryRun=true',
    undefined,
    { raw: csv, contentType: 'text/csv' },
  );
  if (dry.created !== 0 || dry.users.length !== 0) throw new Error(`a dry run created ${dry.created}`);
  const done = await http.expect<{ created: number; users: ImportedUser[]; checked: number }>(201, 'POST', '/users/import', undefined, {
    raw: csv,
    contentType: 'text/csv',
  });
  return done.users;
}

export async function invite(http: Http, userIds: string[]): Promise<{ queued: number; skipped: string[]; resets: number }> {
  return http.expect(202, 'POST', '/users/invitations', { userIds });
}

/** Undoes quoted-printable as README "Without SMTP" says: soft line breaks, then `=XX`. */
export function unQuote(eml: string): string {
  return eml.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/** The set-password token of the newest `.eml` to `email` in DATA_DIR/outbox (README "Without SMTP"). */
export async function linkTokenFor(dataDir: string, email: string, timeoutMs = 15_000): Promise<string> {
  const dir = join(dataDir, 'outbox');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // The folder appears with the first email.
    const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.eml')) : [];
    for (const f of files.sort().reverse()) {
      const text = unQuote(readFileSync(join(dir, f), 'utf8'));
      if (!new RegExp(`^To:.*${email.replace(/[.+]/g, '\\$&')}`, 'mi').test(text)) continue;
      const m = /reset\.html#token=([A-Za-z0-9_-]+)/.exec(text);
      if (m?.[1] !== undefined) return m[1];
    }
    if (Date.now() > deadline) throw new Error(`no invitation to ${email} in ${dir} (${files.length} files)`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The invited user chooses a password from the link, then logs in with it. */
export async function acceptInvitation(baseUrl: string, dataDir: string, email: string, password: string, org: string): Promise<Http> {
  const token = await linkTokenFor(dataDir, email);
  const anon = new Http(baseUrl);
  await anon.expect(204, 'POST', '/auth/reset-password', { token, password });
  const again = await anon.call<{ error: { code: string } }>('POST', '/auth/reset-password', { token, password });
  if (again.status !== 400 || again.body.error.code !== 'LINK_INVALID')
    throw new Error(`a used link answered ${again.status} ${again.text}`);
  const http = new Http(baseUrl);
  await login(http, email, password, org);
  return http;
}

export async function createSubject(http: Http, code: string, name: string, teacherId: string): Promise<Subject> {
  return http.expect<Subject>(201, 'POST', '/subjects', { code, name, teacherIds: [teacherId] });
}

export async function enrolByNumbers(http: Http, subjectId: string, numbers: string[]): Promise<string[]> {
  const found = await http.expect<{ items: ImportedUser[] }>(200, 'POST', '/users/by-student-number', { studentNumbers: numbers });
  const ids = found.items.map((u) => u.id);
  await http.expect(200, 'POST', `/subjects/${subjectId}/enrolments`, { studentIds: ids });
  return ids;
}

export async function setClassroom(http: Http, subjectId: string): Promise<Subject> {
  return http.expect<Subject>(200, 'PUT', `/subjects/${subjectId}/location`, classroom);
}

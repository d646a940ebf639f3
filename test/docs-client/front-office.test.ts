// What a school's front office and IT person meet after the first term's set-up, by a client
// written from README.md, docs/*.md and the OpenAPI document only, on one production node with
// Redis and a real SMTP server: a forgotten password, one's own logins, a student's excuse with
// its document decided by the teacher, guardian contacts, and the node's health for the IT person.
import { expect } from 'chai';
import type { SessionView } from '../../src/shared/events.js';
import { tokenFromMail } from '../support/mail.js';
import { pollUntil } from '../support/sockets.js';
import { firstRunWith, people, useDeployment, useSockets } from './deployment.js';
import type { HttpClient } from './http-client.js';
import { refusalOf, type HttpAnswer, type Tokens, type UserView } from './http-client.js';
import { data, send } from './socket-client.js';

const METRICS_TOKEN = 'front-office-metrics-token-1';

/** The Excuse of the OpenAPI document. */
interface Excuse {
  id: string;
  studentId: string;
  sessionId: string | null;
  subjectId: string | null;
  category: string;
  text: string;
  document: { fileName: string; contentType: string; size: number } | null;
  status: 'pending' | 'approved' | 'declined';
  decisionNote: string | null;
  updatedAt: string;
}

/** The smallest PDF a phone's scanner could make: the bytes absences.md recognises it by. */
const PDF = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n');

/** `PUT /excuses/{id}/document`: multipart, field `document` (absences.md "The document"). */
async function putDocument(http: HttpClient, excuseId: string, token: string, bytes: Buffer, name: string): Promise<HttpAnswer> {
  const form = new FormData();
  form.append('document', new Blob([new Uint8Array(bytes)], { type: 'application/octet-stream' }), name);
  const res = await fetch(new URL(`/api/v1/excuses/${excuseId}/document`, http.baseUrl), {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as unknown) : null, text };
}

describe('docs client: the front office and IT (forgotten password, logins, excuses, guardians, health)', function () {
  this.timeout(60_000);
  // RESET_REQUESTS_PER_ADDRESS_PER_HOUR at 8 (README: 30 by default) so the address limit is met
  // within the suite; RESET_EMAILS_PER_HOUR at its default 3.
  const dep = useDeployment('docs-front-office', 1, { METRICS_TOKEN, RESET_REQUESTS_PER_ADDRESS_PER_HOUR: '8' });
  const staff = people('f', 1, 0);
  const pupils = people('f', 0, 2);
  let admin: Tokens;
  let teacher: Tokens;
  let users: Map<string, UserView>;
  let subjectId = '';
  const open = useSockets(dep);
  const http = () => dep.http[0]!;
  const pupilId = (i: number) => users.get(pupils[i]!.email)!.id;

  before(async function () {
    this.timeout(180_000);
    ({ admin, users } = await firstRunWith(dep, [...staff, ...pupils]));
    teacher = await http().login(staff[0]!.email, staff[0]!.password);
    const subject = await http().post<{ id: string }>(
      '/api/v1/subjects',
      { code: 'GEO-1', name: 'Geography', teacherIds: [teacher.user.id] },
      admin.accessToken,
    );
    subjectId = subject.body.id;
    const enrolled = await http().post(
      `/api/v1/subjects/${subjectId}/enrolments`,
      { studentIds: [pupilId(0), pupilId(1)] },
      admin.accessToken,
    );
    expect(enrolled.status, enrolled.text).to.equal(200);
  });

  it('a forgotten password: the same 202 for any email, one link mailed, the link ends the earlier logins', async () => {
    const pupil = pupils[0]!;
    const earlier = await http().login(pupil.email, pupil.password);
    const before = dep.smtp.received.length;
    const asked = await http().post<{ message: string }>('/api/v1/auth/forgot-password', { email: pupil.email });
    const unknown = await http().post<{ message: string }>('/api/v1/auth/forgot-password', { email: 'nobody@docs-school.test' });
    expect(asked.status, asked.text).to.equal(202);
    // protocol.md §1: "always the same body", so the answer tells nothing of who has an account.
    expect(unknown.status).to.equal(202);
    expect(unknown.body).to.deep.equal(asked.body);
    const mail = await dep.smtp.next(pupil.email, before);
    const token = tokenFromMail(mail.raw);
    const short = await http().post('/api/v1/auth/reset-password', { token, password: 'short' });
    expect(refusalOf(short), 'a refused password leaves the link usable').to.deep.equal([400, 'VALIDATION_FAILED']);
    const set = await http().post('/api/v1/auth/reset-password', { token, password: 'a-new-pass-for-f1' });
    expect(set.status, set.text).to.equal(204);
    expect(refusalOf(await http().post('/api/v1/auth/reset-password', { token, password: 'another-pass-f1' }))).to.deep.equal([
      400,
      'LINK_INVALID',
    ]);
    expect(refusalOf(await http().post('/api/v1/auth/refresh', { refreshToken: earlier.refreshToken }))).to.deep.equal([
      401,
      'REFRESH_TOKEN_INVALID',
    ]);
    expect(refusalOf(await http().get('/api/v1/me', earlier.accessToken))[0]).to.equal(401);
    pupil.password = 'a-new-pass-for-f1';
    await http().login(pupil.email, pupil.password);
    const others = dep.smtp.received.slice(before).filter((m) => m.to.includes('nobody@docs-school.test'));
    expect(others, 'no mail for an address without an account').to.deep.equal([]);
  });

  it('forgot-password limits: 3 emails an address an hour, then the same 202 and no email; past 8 requests of the client address, 429', async () => {
    // The first case asked twice from this address; these six make eight.
    const pupil = pupils[1]!;
    const ask = (email: string) => http().post<{ message: string }>('/api/v1/auth/forgot-password', { email });
    for (let i = 0; i < 4; i += 1) expect((await ask(pupil.email)).status).to.equal(202);
    const resets = async () =>
      (
        await http().get<{ items: { category: string }[] }>(
          `/api/v1/outbox?recipient=${encodeURIComponent(pupil.email)}`,
          admin.accessToken,
        )
      ).body.items.filter((m) => m.category === 'reset').length;
    // The emails are written by the node's background work after each 202 (a production process:
    // nothing tells the client when it is done). Forty polls were about 4 s, which a loaded
    // machine could outrun; the deadline bounds a third email that never comes.
    await pollUntil(async () => (await resets()) >= 3, 20_000, 100);
    // Past the third, time for the fourth's work to have mailed, had it done so (an absence).
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await resets(), 'RESET_EMAILS_PER_HOUR: the fourth request mails nothing').to.equal(3);
    expect((await ask('someone@docs-school.test')).status).to.equal(202);
    expect((await ask('someone-else@docs-school.test')).status).to.equal(202);
    const refused = await ask('a-third@docs-school.test');
    expect(refusalOf(refused), 'RESET_REQUESTS_PER_ADDRESS_PER_HOUR, for any email').to.deep.equal([429, 'RATE_LIMITED']);
    expect(Number(refused.headers.get('retry-after'))).to.be.greaterThan(0);
  });

  it("one's own logins: listed with the current one marked, and one ended from another", async () => {
    const pupil = pupils[1]!;
    const phone = await http().request<Tokens>('POST', '/api/v1/auth/login', {
      json: { email: pupil.email, password: pupil.password },
      headers: { 'user-agent': 'PupilPhone/1.0' },
    });
    const laptop = await http().login(pupil.email, pupil.password);
    const list = await http().get<{
      items: { sid: string; current: boolean; userAgent: string | null; startedAt: string; lastUsedAt: string; expiresAt: string }[];
    }>('/api/v1/me/logins', laptop.accessToken);
    expect(list.status, list.text).to.equal(200);
    const current = list.body.items.filter((l) => l.current);
    expect(current, 'exactly the login that asked is current').to.have.length(1);
    const phoneLogin = list.body.items.find((l) => l.userAgent === 'PupilPhone/1.0');
    expect(phoneLogin, JSON.stringify(list.body.items)).to.not.equal(undefined);
    expect(phoneLogin!.current).to.equal(false);
    const ended = await http().request('DELETE', `/api/v1/me/logins/${phoneLogin!.sid}`, { token: laptop.accessToken });
    expect(ended.status, ended.text).to.equal(204);
    // README: "ends one, like logout": its refresh token no longer works, its access token is revoked.
    expect(refusalOf(await http().post('/api/v1/auth/refresh', { refreshToken: phone.body.refreshToken }))).to.deep.equal([
      401,
      'REFRESH_TOKEN_INVALID',
    ]);
    expect(refusalOf(await http().get('/api/v1/me', phone.body.accessToken))).to.deep.equal([401, 'TOKEN_REVOKED']);
    expect((await http().get('/api/v1/me', laptop.accessToken)).status).to.equal(200);
    const after = await http().get<{ items: { sid: string }[] }>('/api/v1/me/logins', laptop.accessToken);
    expect(after.body.items.map((l) => l.sid)).to.not.include(phoneLogin!.sid);
  });

  describe('an excuse for a missed lesson', () => {
    let student: Tokens;
    let session: SessionView;
    let excuse: Excuse;

    before(async () => {
      student = await http().login(pupils[0]!.email, pupils[0]!.password);
      const teacherSocket = await open(0, () => teacher.accessToken);
      session = data(await send(teacherSocket, 'session:open', { subjectId }));
      data(await send(teacherSocket, 'session:close', { sessionId: session.id }));
    });

    it('the categories are the defaults until an admin sets them', async () => {
      const cats = await http().get<{ items: { code: string; label: string; authorised: boolean }[] }>(
        '/api/v1/absence-categories',
        student.accessToken,
      );
      expect(cats.status, cats.text).to.equal(200);
      expect(cats.body.items.map((c) => c.code)).to.deep.equal(['MEDICAL', 'SCHOOL_TRIP', 'UNAUTHORISED']);
      expect(cats.body.items[0]).to.deep.equal({ code: 'MEDICAL', label: 'Medical', authorised: true });
    });

    it('the student sends one for the session; sent again as it stands it is the same excuse; an edit takes the new text', async () => {
      const unknown = await http().post('/api/v1/excuses', { sessionId: session.id, category: 'FLU' }, student.accessToken);
      expect(refusalOf(unknown)).to.deep.equal([400, 'ABSENCE_CATEGORY_UNKNOWN']);
      const sent = await http().post<Excuse>(
        '/api/v1/excuses',
        { sessionId: session.id, category: 'MEDICAL', text: 'dentist' },
        student.accessToken,
      );
      expect(sent.status, sent.text).to.equal(201);
      expect(sent.body).to.include({ status: 'pending', sessionId: session.id, category: 'MEDICAL', text: 'dentist', document: null });
      const again = await http().post<Excuse>(
        '/api/v1/excuses',
        { sessionId: session.id, category: 'MEDICAL', text: 'dentist' },
        student.accessToken,
      );
      expect(again.status).to.equal(200);
      expect(again.body).to.deep.equal(sent.body);
      const edited = await http().post<Excuse>(
        '/api/v1/excuses',
        { sessionId: session.id, category: 'MEDICAL', text: 'dentist, note attached' },
        student.accessToken,
      );
      expect(edited.status).to.equal(200);
      expect(edited.body).to.include({ id: sent.body.id, text: 'dentist, note attached' });
      excuse = edited.body;
    });

    it('the document: a PDF by its bytes, whatever its name; anything else 415; served as an attachment', async () => {
      const text = await putDocument(http(), excuse.id, student.accessToken, Buffer.from('just text, named like a pdf'), 'note.pdf');
      expect(refusalOf(text)).to.deep.equal([415, 'DOCUMENT_UNSUPPORTED_TYPE']);
      const put = await putDocument(http(), excuse.id, student.accessToken, PDF, 'scan.jpg');
      expect(put.status, put.text).to.equal(200);
      const listed = await http().get<{ items: Excuse[]; nextCursor: string | null }>(
        '/api/v1/excuses?status=pending',
        teacher.accessToken,
      );
      const seen = listed.body.items.find((e) => e.id === excuse.id)!;
      expect(seen.document).to.deep.equal({ fileName: `excuse-${excuse.id}.pdf`, contentType: 'application/pdf', size: PDF.length });
      expect(listed.body.nextCursor).to.equal(null);
      const doc = await fetch(new URL(`/api/v1/excuses/${excuse.id}/document`, http().baseUrl), {
        headers: { authorization: `Bearer ${teacher.accessToken}` },
      });
      expect(doc.status).to.equal(200);
      expect(Buffer.from(await doc.arrayBuffer()).equals(PDF)).to.equal(true);
      expect(doc.headers.get('content-type')).to.match(/^application\/pdf/);
      expect(doc.headers.get('content-disposition')).to.equal(`attachment; filename=excuse-${excuse.id}.pdf`);
      expect(doc.headers.get('x-content-type-options')).to.equal('nosniff');
      expect(doc.headers.get('cache-control')).to.equal('private, no-store');
      const other = await http().login(pupils[1]!.email, pupils[1]!.password);
      expect(refusalOf(await http().get(`/api/v1/excuses/${excuse.id}`, other.accessToken))).to.deep.equal([404, 'EXCUSE_NOT_FOUND']);
      excuse = seen;
    });

    it('a decision on what the teacher saw: a stale one is refused with the excuse as it stands; the record becomes excused', async () => {
      const stale = await http().post(
        `/api/v1/excuses/${excuse.id}/approve`,
        { updatedAt: '2020-01-01T00:00:00.000Z' },
        teacher.accessToken,
      );
      expect(refusalOf(stale)).to.deep.equal([409, 'RECORD_CHANGED']);
      const standing = (stale.body as { error: { details: { excuse: Excuse } } }).error.details.excuse;
      expect(standing).to.include({ id: excuse.id, updatedAt: excuse.updatedAt, status: 'pending' });
      const approved = await http().post<{ excuse: Excuse; recordsChanged: number }>(
        `/api/v1/excuses/${excuse.id}/approve`,
        { updatedAt: standing.updatedAt, note: 'get well' },
        teacher.accessToken,
      );
      expect(approved.status, approved.text).to.equal(200);
      expect(approved.body.excuse).to.include({ status: 'approved', decisionNote: 'get well' });
      expect(approved.body.recordsChanged).to.equal(1);
      const twice = await http().post(`/api/v1/excuses/${excuse.id}/decline`, {}, teacher.accessToken);
      expect(refusalOf(twice)).to.deep.equal([409, 'EXCUSE_DECIDED']);
      const records = await http().get<{
        entries: { studentId: string; status: string; reason: string | null; absenceCategory: string | null }[];
      }>(`/api/v1/sessions/${session.id}/records`, teacher.accessToken);
      expect(records.body.entries.find((e) => e.studentId === pupilId(0))).to.include({
        status: 'excused',
        reason: 'EXCUSED',
        absenceCategory: 'MEDICAL',
      });
      expect(records.body.entries.find((e) => e.studentId === pupilId(1))).to.include({ status: 'absent', absenceCategory: null });
      const mine = await http().get<{ items: Excuse[] }>('/api/v1/excuses', student.accessToken);
      expect(mine.body.items.find((e) => e.id === excuse.id)).to.include({ status: 'approved', decisionNote: 'get well' });
    });
  });

  it("guardian contacts: an admin replaces a student's list, the student reads it, a bare array is refused", async () => {
    const student = await http().login(pupils[1]!.email, pupils[1]!.password);
    const path = `/api/v1/users/${pupilId(1)}/guardians`;
    const contacts = [{ name: 'Ann Parent', relation: 'mother', email: 'ann@family.test', language: 'fr' }];
    const bare = await http().request('PUT', path, { token: admin.accessToken, json: contacts });
    expect(refusalOf(bare)).to.deep.equal([400, 'VALIDATION_FAILED']);
    const put = await http().request<{ items: unknown[] }>('PUT', path, { token: admin.accessToken, json: { contacts } });
    expect(put.status, put.text).to.equal(200);
    expect(put.body.items).to.deep.equal(contacts);
    expect((await http().get<{ items: unknown[] }>(path, student.accessToken)).body.items).to.deep.equal(contacts);
    const emptied = await http().request<{ items: unknown[] }>('PUT', path, { token: admin.accessToken, json: { contacts: [] } });
    expect(emptied.body.items).to.deep.equal([]);
  });

  it("the IT person's checks: /healthz, /readyz with each check ok, /metrics only for the token", async () => {
    const base = http().baseUrl;
    expect((await fetch(new URL('/healthz', base))).status).to.equal(200);
    const ready = await fetch(new URL('/readyz', base));
    expect(ready.status).to.equal(200);
    const checks = (await ready.json()) as Record<string, unknown>;
    // docs/deploy.md: the body names each check with `ok`; store and redis among them.
    expect(JSON.stringify(checks)).to.match(/"store":\{[^}]*"ok":true/);
    expect(JSON.stringify(checks)).to.match(/"redis":\{[^}]*"ok":true/);
    expect(JSON.stringify(checks), 'the public /readyz never shows the Redis address').to.not.include('target');
    const detailed = await fetch(new URL('/readyz', base), { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(JSON.stringify(await detailed.json())).to.include('target');
    expect((await fetch(new URL('/metrics', base))).status).to.not.equal(200);
    const metrics = await fetch(new URL('/metrics', base), { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(metrics.status).to.equal(200);
    const text = await metrics.text();
    expect(text).to.include('attendance_redis_connected');
    expect(text).to.include('nodejs_eventloop_lag');
  });
});

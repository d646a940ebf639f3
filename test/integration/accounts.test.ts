import { expect } from 'chai';
import { io as connect } from 'socket.io-client';
import type { Organisation } from '../../src/domain/ports/organisations.js';
import type { User } from '../../src/domain/ports/users.js';
import { createOrg, createUser, PASSWORD, unique } from '../support/fixtures.js';
import { startTestServer, type TestServer, refusal } from '../support/http.js';
import { decodedMail, startSmtpServer, tokenFromMail, type TestSmtpServer } from '../support/mail.js';
import { connectClient, nextEvent } from '../support/sockets.js';

// Invitations and resets travel through a real SMTP server in this process; the test reads the
// link from the message it received, as a student would from their inbox.

const HOUR = 3_600_000;

describe('accounts: invitations, password reset, own password and logins', function () {
  this.timeout(20_000);
  let smtp: TestSmtpServer;
  let srv: TestServer;
  let org: Organisation;
  let admin: User;
  let adminToken: string;
  let offsetMs = 0;
  const clock = () => new Date(Date.now() + offsetMs);

  before(async () => {
    smtp = await startSmtpServer();
    srv = await startTestServer({ SMTP_URL: smtp.url, PUBLIC_URL: 'https://attendance.school.example' }, { clock });
    org = await createOrg(srv.store);
    admin = await createUser(srv.store, org.id, 'admin');
    adminToken = (await srv.login(admin.email, PASSWORD)).accessToken;
  });
  beforeEach(() => {
    offsetMs = 0;
  });
  after(async () => {
    await srv.cleanup();
    await smtp.close();
  });

  async function importStudents(n: number): Promise<User[]> {
    const rows = Array.from({ length: n }, () => `Pupil,${unique('pupil')}@example.test,student,${unique('N')}`);
    const res = await srv.request('POST', '/api/v1/users/import', {
      token: adminToken,
      raw: `name,email,role,student_number\n${rows.join('\n')}\n`,
      contentType: 'text/csv',
    });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body.users as User[];
  }

  const reset = (token: string, password: string) => srv.request('POST', '/api/v1/auth/reset-password', { body: { token, password } });
  const loginStatus = async (email: string, password: string) =>
    (await srv.request('POST', '/api/v1/auth/login', { body: { email, password } })).status;

  it('an invited student sets a password from the emailed link and logs in', async () => {
    const [student] = await importStudents(1);
    expect(await loginStatus(student!.email, 'chosen-password')).to.equal(401);
    const before = smtp.received.length;
    const invited = await srv.request('POST', `/api/v1/users/${student!.id}/invite`, { token: adminToken });
    expect(invited.status, JSON.stringify(invited.body)).to.equal(202);
    expect(invited.body).to.deep.equal({ queued: 1, skipped: [], resets: 0 });

    const mail = await smtp.next(student!.email, before);
    expect(mail.raw).to.match(/^Subject: Your attendance account at /m);
    expect(decodedMail(mail.raw)).to.include('https://attendance.school.example/reset.html#token=');
    const token = tokenFromMail(mail.raw);
    // Only the hash is stored.
    expect(JSON.stringify(await srv.store.accountTokens.consume(token, new Date(0)))).to.equal('null');

    expect((await reset(token, 'chosen-password')).status).to.equal(204);
    const login = await srv.request('POST', '/api/v1/auth/login', { body: { email: student!.email, password: 'chosen-password' } });
    expect(login.status).to.equal(200);
    expect(login.body.user).to.include({ hasPassword: true, mustChangePassword: false });
  });

  it("'Invite' on a user who has a password sends a password reset, in their language; their password works until they use it", async () => {
    const teacher = await createUser(srv.store, org.id, 'teacher');
    await srv.store.notificationPreferences.put(org.id, teacher.id, { language: 'fr', unsubscribed: [] });
    const before = smtp.received.length;
    const sent = await srv.request('POST', `/api/v1/users/${teacher.id}/invite`, { token: adminToken });
    expect(sent.status, JSON.stringify(sent.body)).to.equal(202);
    expect(sent.body).to.deep.equal({ queued: 1, skipped: [], resets: 1 });
    const [row] = (await srv.store.outbox.list(org.id, { limit: 10, offset: 0, recipient: teacher.email })).items;
    expect(row).to.include({ category: 'admin-reset', subject: `${org.name}\u00a0: réinitialisation de votre mot de passe` });

    const mail = await smtp.next(teacher.email, before);
    const text = decodedMail(mail.raw);
    // Said as what it is: a reset an administrator sent, not a welcome nor a request they did not make.
    expect(text).to.include(`Un administrateur de ${org.name} vous envoie ce lien`);
    expect(text).to.not.include('Un compte a été créé');
    expect(text).to.include('#token=');
    expect(text).to.include('&lang=fr');
    expect(await loginStatus(teacher.email, PASSWORD)).to.equal(200);
    expect((await reset(tokenFromMail(mail.raw), 'a-new-password')).status).to.equal(204);
    expect(await loginStatus(teacher.email, 'a-new-password')).to.equal(200);
    const trail = await srv.store.audit.listForEntity(org.id, 'user', teacher.id);
    expect(trail.map((e) => e.action))
      .to.include('user.reset-send')
      .and.not.include('user.invite');
  });

  it('invites a whole import at once: one email each, sent in the background', async () => {
    const students = await importStudents(25);
    const before = smtp.received.length;
    const res = await srv.request('POST', '/api/v1/users/invitations', {
      token: adminToken,
      body: { userIds: [...students.map((s) => s.id), 'no-such-user'] },
    });
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    expect(res.body).to.deep.equal({ queued: 25, skipped: ['no-such-user'], resets: 0 });
    const mails = await Promise.all(students.map((s) => smtp.next(s.email, before)));
    const tokens = new Set(mails.map((m) => tokenFromMail(m.raw)));
    expect(tokens.size).to.equal(25);
  });

  it('a reused link is refused, and so is an older invitation once a newer one was sent', async () => {
    const [student] = await importStudents(1);
    let before = smtp.received.length;
    await srv.request('POST', `/api/v1/users/${student!.id}/invite`, { token: adminToken });
    const first = tokenFromMail((await smtp.next(student!.email, before)).raw);
    before = smtp.received.length;
    await srv.request('POST', `/api/v1/users/${student!.id}/invite`, { token: adminToken });
    const second = tokenFromMail((await smtp.next(student!.email, before)).raw);

    const stale = await reset(first, 'chosen-password');
    expect(stale.status).to.equal(400);
    expect(stale.body.error.code).to.equal('LINK_INVALID');
    expect((await reset(second, 'chosen-password')).status).to.equal(204);
    const again = await reset(second, 'another-password');
    expect(again.status).to.equal(400);
    expect(again.body.error.code).to.equal('LINK_INVALID');
    expect(await loginStatus(student!.email, 'chosen-password')).to.equal(200);
    expect(await loginStatus(student!.email, 'another-password')).to.equal(401);
  });

  async function invitedLink(student: User): Promise<string> {
    const before = smtp.received.length;
    const invited = await srv.request('POST', `/api/v1/users/${student.id}/invite`, { token: adminToken });
    expect(invited.status, JSON.stringify(invited.body)).to.equal(202);
    return tokenFromMail((await smtp.next(student.email, before)).raw);
  }

  it('a link mailed to an address the admin then corrects no longer works: whoever holds the old inbox cannot take the account', async () => {
    const [student] = await importStudents(1);
    const token = await invitedLink(student!);
    const email = `${unique('corrected')}@example.test`;
    const patched = await srv.request('PATCH', `/api/v1/users/${student!.id}`, { token: adminToken, body: { email } });
    expect(patched.status, JSON.stringify(patched.body)).to.equal(200);
    expect(refusal(await reset(token, 'taken-over-pass'))).to.deep.equal([400, 'LINK_INVALID']);
    expect(await loginStatus(email, 'taken-over-pass')).to.equal(401);
    // A new invitation reaches the corrected address and works.
    expect((await reset(await invitedLink({ ...student!, email }), 'chosen-password')).status).to.equal(204);
    expect(await loginStatus(email, 'chosen-password')).to.equal(200);
  });

  it('a password the admin sets voids the links sent before, so an older email cannot override it', async () => {
    const [student] = await importStudents(1);
    const token = await invitedLink(student!);
    const patched = await srv.request('PATCH', `/api/v1/users/${student!.id}`, {
      token: adminToken,
      body: { password: 'set-by-the-admin' },
    });
    expect(patched.status, JSON.stringify(patched.body)).to.equal(200);
    expect(refusal(await reset(token, 'from-old-email'))).to.deep.equal([400, 'LINK_INVALID']);
    expect(await loginStatus(student!.email, 'set-by-the-admin')).to.equal(200);
  });

  it('a password the admin sets ends every login of the user, open sockets included (a taken-over account is recovered)', async () => {
    const student = await createUser(srv.store, org.id, 'student');
    const old = await srv.login(student.email, PASSWORD);
    const socket = await connectClient(srv.baseUrl, old.accessToken);
    try {
      const told = nextEvent(socket, 'auth:revoked', () => true);
      const patched = await srv.request('PATCH', `/api/v1/users/${student.id}`, {
        token: adminToken,
        body: { password: 'set-by-the-admin' },
      });
      expect(patched.status, JSON.stringify(patched.body)).to.equal(200);
      expect(await told).to.deep.equal([{ code: 'TOKEN_REVOKED' }]);
    } finally {
      socket.disconnect();
    }
    expect(refusal(await srv.request('GET', '/api/v1/me', { token: old.accessToken }))).to.deep.equal([401, 'TOKEN_REVOKED']);
    const refreshed = await srv.request('POST', '/api/v1/auth/refresh', { body: { refreshToken: old.refreshToken } });
    expect(refusal(refreshed)).to.deep.equal([401, 'REFRESH_TOKEN_INVALID']);
    expect(await loginStatus(student.email, 'set-by-the-admin')).to.equal(200);
  });

  it("an admin's own password set through PATCH /users/{id} keeps the login that set it and ends the others", async () => {
    const other = await createUser(srv.store, org.id, 'admin');
    const here = await srv.login(other.email, PASSWORD);
    const elsewhere = await srv.login(other.email, PASSWORD);
    const patched = await srv.request('PATCH', `/api/v1/users/${other.id}`, {
      token: here.accessToken,
      body: { password: 'own-new-password' },
    });
    expect(patched.status, JSON.stringify(patched.body)).to.equal(200);
    expect((await srv.request('GET', '/api/v1/me', { token: here.accessToken })).status).to.equal(200);
    expect(refusal(await srv.request('GET', '/api/v1/me', { token: elsewhere.accessToken }))).to.deep.equal([401, 'TOKEN_REVOKED']);
  });

  it('a link sent before a deactivation stays void once the account is active again', async () => {
    const [student] = await importStudents(1);
    const token = await invitedLink(student!);
    expect((await srv.request('POST', `/api/v1/users/${student!.id}/deactivate`, { token: adminToken })).status).to.equal(200);
    const reactivated = await srv.request('PATCH', `/api/v1/users/${student!.id}`, { token: adminToken, body: { active: true } });
    expect(reactivated.status, JSON.stringify(reactivated.body)).to.equal(200);
    expect(refusal(await reset(token, 'after-reactivation'))).to.deep.equal([400, 'LINK_INVALID']);
    expect(await loginStatus(student!.email, 'after-reactivation')).to.equal(401);
  });

  it('a refused password leaves the link usable', async () => {
    const [student] = await importStudents(1);
    const before = smtp.received.length;
    await srv.request('POST', `/api/v1/users/${student!.id}/invite`, { token: adminToken });
    const token = tokenFromMail((await smtp.next(student!.email, before)).raw);
    const short = await reset(token, 'short');
    expect(short.status).to.equal(400);
    expect(short.body.error.code).to.equal('VALIDATION_FAILED');
    expect((await reset(token, 'long-enough-now')).status).to.equal(204);
  });

  it('forgot-password round trip: the emailed link sets a new password and ends every login', async () => {
    const student = await createUser(srv.store, org.id, 'student');
    const old = await srv.login(student.email, PASSWORD);
    const before = smtp.received.length;
    const asked = await srv.request('POST', '/api/v1/auth/forgot-password', { body: { email: student.email.toUpperCase() } });
    expect(asked.status).to.equal(202);
    const mail = await smtp.next(student.email, before);
    expect(mail.raw).to.match(/^Subject: Reset your attendance password/m);
    expect((await reset(tokenFromMail(mail.raw), 'brand-new-password')).status).to.equal(204);

    expect(await loginStatus(student.email, PASSWORD)).to.equal(401);
    expect(await loginStatus(student.email, 'brand-new-password')).to.equal(200);
    const me = await srv.request('GET', '/api/v1/me', { token: old.accessToken });
    expect(me.body.error.code).to.equal('TOKEN_REVOKED');
    const refreshed = await srv.request('POST', '/api/v1/auth/refresh', { body: { refreshToken: old.refreshToken } });
    expect(refusal(refreshed)).to.deep.equal([401, 'REFRESH_TOKEN_INVALID']);
  });

  it('an expired reset link is refused', async () => {
    const student = await createUser(srv.store, org.id, 'student');
    const before = smtp.received.length;
    await srv.request('POST', '/api/v1/auth/forgot-password', { body: { email: student.email } });
    const token = tokenFromMail((await smtp.next(student.email, before)).raw);
    offsetMs = HOUR + 1_000; // RESET_TTL_S defaults to one hour
    const res = await reset(token, 'brand-new-password');
    expect(res.status).to.equal(400);
    expect(res.body.error.code).to.equal('LINK_INVALID');
    offsetMs = 0;
    expect(await loginStatus(student.email, PASSWORD)).to.equal(200);
  });

  it('answers an unknown email exactly as a known one, sends nothing for it, and limits emails per address', async () => {
    const student = await createUser(srv.store, org.id, 'student');
    const before = smtp.received.length;
    const known = await srv.request('POST', '/api/v1/auth/forgot-password', { body: { email: student.email } });
    const unknown = await srv.request('POST', '/api/v1/auth/forgot-password', { body: { email: 'nobody-at-all@example.test' } });
    expect(unknown.status).to.equal(known.status);
    expect(unknown.body).to.deep.equal(known.body);
    await smtp.next(student.email, before);
    // RESET_EMAILS_PER_HOUR = 3: the fourth and fifth ask the same and get the same answer, but no email.
    for (let i = 0; i < 4; i++) {
      const res = await srv.request('POST', '/api/v1/auth/forgot-password', { body: { email: student.email } });
      expect(res.status).to.equal(known.status);
      expect(res.body).to.deep.equal(known.body);
    }
    // A later email to another address proves the queue has drained past them.
    const marker = await createUser(srv.store, org.id, 'student');
    await srv.request('POST', '/api/v1/auth/forgot-password', { body: { email: marker.email } });
    await smtp.next(marker.email, before);
    expect(smtp.received.slice(before).filter((m) => m.to.includes(student.email))).to.have.length(3);
    expect(smtp.received.slice(before).filter((m) => m.to.includes('nobody-at-all@example.test'))).to.have.length(0);
  });

  it("changes one's own password: the current one is checked and the other logins end", async () => {
    const student = await createUser(srv.store, org.id, 'student');
    const phone = await srv.login(student.email, PASSWORD);
    const laptop = await srv.login(student.email, PASSWORD);
    const wrong = await srv.request('POST', '/api/v1/me/password', {
      token: laptop.accessToken,
      body: { currentPassword: 'not-it-at-all', newPassword: 'my-new-password' },
    });
    expect(wrong.body.error.code).to.equal('CURRENT_PASSWORD_WRONG');
    const ok = await srv.request('POST', '/api/v1/me/password', {
      token: laptop.accessToken,
      body: { currentPassword: PASSWORD, newPassword: 'my-new-password' },
    });
    expect(ok.status, JSON.stringify(ok.body)).to.equal(204);
    expect((await srv.request('GET', '/api/v1/me', { token: laptop.accessToken })).status).to.equal(200);
    expect((await srv.request('GET', '/api/v1/me', { token: phone.accessToken })).body.error.code).to.equal('TOKEN_REVOKED');
    expect(await loginStatus(student.email, 'my-new-password')).to.equal(200);
  });

  it("lists one's own logins with device and address, and ends one of them (its socket too)", async () => {
    const student = await createUser(srv.store, org.id, 'student');
    const phoneLogin = await srv.request('POST', '/api/v1/auth/login', {
      body: { email: student.email, password: PASSWORD },
      headers: { 'user-agent': 'PhoneBrowser/1.0' },
    });
    const laptop = await srv.login(student.email, PASSWORD);
    const list = await srv.request('GET', '/api/v1/me/logins', { token: laptop.accessToken });
    expect(list.status).to.equal(200);
    expect(list.body.items).to.have.length(2);
    const phone = list.body.items.find((l: { userAgent: string | null }) => l.userAgent === 'PhoneBrowser/1.0');
    expect(phone).to.include({ current: false, ip: '127.0.0.1' });
    expect(list.body.items.filter((l: { current: boolean }) => l.current)).to.have.length(1);

    const socket = connect(srv.baseUrl, { auth: { token: phoneLogin.body.accessToken }, transports: ['websocket'], reconnection: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    const cut = new Promise<string>((resolve) => socket.once('disconnect', (reason) => resolve(reason)));
    const other = await createUser(srv.store, org.id, 'student');
    const otherLogin = await srv.login(other.email, PASSWORD);
    expect(refusal(await srv.request('DELETE', `/api/v1/me/logins/${phone.sid}`, { token: otherLogin.accessToken }))).to.deep.equal([
      404,
      'NOT_FOUND',
    ]);

    expect((await srv.request('DELETE', `/api/v1/me/logins/${phone.sid}`, { token: laptop.accessToken })).status).to.equal(204);
    // The server ended it (not the network, not the client): the revoked login is cut.
    expect(await cut).to.equal('io server disconnect');
    socket.disconnect();
    expect((await srv.request('GET', '/api/v1/me', { token: phoneLogin.body.accessToken })).body.error.code).to.equal('TOKEN_REVOKED');
    const after = await srv.request('GET', '/api/v1/me/logins', { token: laptop.accessToken });
    expect(after.body.items.map((l: { sid: string }) => l.sid)).to.not.include(phone.sid);
  });

  it('a forced change at first login: only /me and /me/password answer until the password is changed', async () => {
    const created = await srv.request('POST', '/api/v1/users', {
      token: adminToken,
      body: {
        name: 'New teacher',
        email: `${unique('forced')}@example.test`,
        role: 'teacher',
        password: 'given-by-admin',
        mustChangePassword: true,
      },
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const login = await srv.request('POST', '/api/v1/auth/login', { body: { email: created.body.email, password: 'given-by-admin' } });
    expect(login.body.user.mustChangePassword).to.equal(true);
    const token = login.body.accessToken as string;
    const refused = await srv.request('GET', '/api/v1/subjects', { token });
    expect(refused.status).to.equal(403);
    expect(refused.body.error.code).to.equal('PASSWORD_CHANGE_REQUIRED');
    expect((await srv.request('GET', '/api/v1/me', { token })).status).to.equal(200);
    const changed = await srv.request('POST', '/api/v1/me/password', {
      token,
      body: { currentPassword: 'given-by-admin', newPassword: 'my-own-password' },
    });
    expect(changed.status, JSON.stringify(changed.body)).to.equal(204);
    expect((await srv.request('GET', '/api/v1/subjects', { token })).status).to.equal(200);
  });
  it('without PUBLIC_URL, links name the port the node listens on (PORT=0 picks one), not port 0', async () => {
    const local = await startTestServer({ SMTP_URL: smtp.url });
    try {
      const localOrg = await createOrg(local.store);
      const localAdmin = await createUser(local.store, localOrg.id, 'admin');
      const student = await createUser(local.store, localOrg.id, 'student', { password: null });
      const token = (await local.login(localAdmin.email, PASSWORD)).accessToken;
      const before = smtp.received.length;
      expect((await local.request('POST', `/api/v1/users/${student.id}/invite`, { token })).status).to.equal(202);
      const mail = await smtp.next(student.email, before);
      const port = new URL(local.baseUrl).port;
      expect(decodedMail(mail.raw)).to.include(`http://localhost:${port}/reset.html#token=`);
    } finally {
      await local.cleanup();
    }
  });
});

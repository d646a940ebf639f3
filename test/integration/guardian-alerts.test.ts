import { expect } from 'chai';
import type { Organisation } from '../../src/domain/ports/organisations.js';
import type { Subject } from '../../src/domain/ports/subjects.js';
import type { User } from '../../src/domain/ports/users.js';
import { createOrg, createSubject, createUser } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { beforeDigestHour, decodedMail, startSmtpServer, type TestSmtpServer } from '../support/mail.js';
import { command, connectClient, nextEvent, ok, waitFor, type ClientSocket } from '../support/sockets.js';

const PUBLIC_URL = 'https://attendance.school.example';
const LINK = /https:\/\/attendance\.school\.example(\/api\/v1\/unsubscribe\?token=[A-Za-z0-9._-]+)/;

interface OutboxRow {
  to: string;
  status: string;
}

describe('alerts to the student and guardians, through the outbox and a real SMTP server', function () {
  this.timeout(20_000);
  let smtp: TestSmtpServer;
  let srv: TestServer;
  let org: Organisation;
  let admin: User;
  let teacher: User;
  let student: User;
  let classmate: User;
  let subject: Subject;
  const sockets: ClientSocket[] = [];
  const token = (u: User) => srv.app.tokenService.signAccess(u).token;

  before(async () => {
    smtp = await startSmtpServer();
    srv = await startTestServer({ PUBLIC_URL, SMTP_URL: smtp.url, DIGEST_HOUR: '7' }, { clock: beforeDigestHour() });
    org = await createOrg(srv.store);
    admin = await createUser(srv.store, org.id, 'admin');
    teacher = await createUser(srv.store, org.id, 'teacher');
    student = await createUser(srv.store, org.id, 'student');
    classmate = await createUser(srv.store, org.id, 'student');
    subject = await createSubject(srv.store, org.id, [teacher.id], [student.id, classmate.id]);
    const rule = await srv.request('POST', '/api/v1/alert-rules', {
      token: token(admin),
      body: { kind: 'consecutive-absences', count: 1 },
    });
    expect(rule.status).to.equal(201);
    const contacts = await srv.request('PUT', `/api/v1/users/${student.id}/guardians`, {
      token: token(admin),
      body: { contacts: [{ name: 'Marie Martin', relation: 'mother', email: 'marie@home.example', language: 'fr' }] },
    });
    expect(contacts.status).to.equal(200);
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.disconnect();
  });
  after(async () => {
    await srv.cleanup();
    await smtp.close();
  });

  /** Opens and closes a session: the classmate is marked present, the student is absent at closing. */
  async function holdSession(): Promise<void> {
    const socket = await connectClient(srv.baseUrl, token(teacher));
    try {
      const session = ok(await command(socket, 'session:open', { subjectId: subject.id }));
      ok(await command(socket, 'checkin:mark', { sessionId: session.id, studentId: classmate.id, status: 'present' }));
      ok(await command(socket, 'session:close', { sessionId: session.id }));
    } finally {
      socket.disconnect();
    }
  }

  /** A session where both attend: the student is back under the rule, which re-arms. */
  async function recover(): Promise<void> {
    const socket = await connectClient(srv.baseUrl, token(teacher));
    try {
      const session = ok(await command(socket, 'session:open', { subjectId: subject.id }));
      for (const s of [student, classmate])
        ok(await command(socket, 'checkin:mark', { sessionId: session.id, studentId: s.id, status: 'present' }));
      ok(await command(socket, 'session:close', { sessionId: session.id }));
    } finally {
      socket.disconnect();
    }
  }

  /** Once the alert evaluations are done and every email they queued is sent: the recipients of the messages received since `after`. */
  async function receivedSince(after: number): Promise<string[]> {
    expect(await srv.app.jobs.drain(10_000)).to.equal(true);
    await waitFor(async () => {
      const res = await srv.request<{ items: OutboxRow[] }>('GET', '/api/v1/outbox?limit=100', { token: token(admin) });
      const sent = res.body.items.filter((r) => r.status === 'sent').length;
      return sent === res.body.items.length && smtp.received.length === sent;
    });
    return smtp.received.slice(after).flatMap((m) => m.to);
  }

  it('with the settings off, neither the student nor the guardian hears of a crossing', async () => {
    const before = smtp.received.length;
    await holdSession();
    expect(await receivedSince(before)).to.have.members([teacher.email, admin.email]);
    const mine = await srv.request('GET', '/api/v1/me/notifications', { token: token(student) });
    expect(mine.body.total).to.equal(0);
    await recover();
  });

  it('a guardian gets the alert in their language with a working unsubscribe link, after which a new crossing sends them none', async () => {
    const patch = await srv.request('PATCH', '/api/v1/organisation', {
      token: token(admin),
      body: { settings: { notifyGuardians: true } },
    });
    expect(patch.status).to.equal(200);
    expect(patch.body.settings).to.include({ notifyGuardians: true }).and.not.to.have.property('notifyStudent');

    const before = smtp.received.length;
    await holdSession();
    const mail = decodedMail((await smtp.next('marie@home.example', before)).raw);
    expect(mail).to.include(`Subject: Alerte d’assiduité\u00a0: ${student.name}`);
    expect(mail).to.include('Bonjour Marie Martin,');
    expect(mail).to.include(`${student.name} a manqué 1 séance en ${subject.code}`);
    expect(mail).to.include('Content-Type: text/plain').and.include('Content-Type: text/html');
    expect(mail).to.match(/List-Unsubscribe:\s+<https:\/\/attendance\.school\.example\/api\/v1\/unsubscribe\?token=g1\./);
    // Worded for a guardian: no other student, no staff member.
    expect(mail).not.to.include(classmate.name).and.not.to.include(teacher.name).and.not.to.include(admin.name);

    // RFC 8058: a mail provider may offer its own button, which POSTs to the same link.
    expect(mail).to.match(/List-Unsubscribe-Post:\s+List-Unsubscribe=One-Click/);

    const link = LINK.exec(mail)![1]!;
    const marie = { name: 'Marie Martin', relation: 'mother', email: 'marie@home.example', language: 'fr' };
    const guardians = async () => (await srv.request('GET', `/api/v1/users/${student.id}/guardians`, { token: token(admin) })).body.items;

    // Following the link (as a mail scanner's prefetch does) shows a page in her language and changes nothing.
    const page = await srv.request('GET', link);
    expect(page.status).to.equal(200);
    expect(page.headers.get('content-type')).to.match(/^text\/html/);
    expect(page.headers.get('cache-control')).to.equal('no-store');
    expect(page.headers.get('referrer-policy')).to.equal('no-referrer');
    expect(page.body).to.include('<html lang="fr" dir="ltr">').and.include('Ne plus recevoir les e-mails d’alerte d’assiduité\u00a0?');
    expect(page.body).to.include('<form method="post" action="unsubscribe?token=g1.');
    expect(await guardians(), 'a GET unsubscribes nobody').to.deep.equal([marie]);

    // The page's button: a form POST to the same link; the next page offers the way back.
    const form = { contentType: 'application/x-www-form-urlencoded' };
    const done = await srv.request('POST', link, { ...form, raw: 'List-Unsubscribe=One-Click' });
    expect(done.status).to.equal(200);
    expect(done.body).to.include('Vous ne recevrez plus les e-mails d’alerte d’assiduité.');
    expect(done.body).to.include('<form method="post" action="resubscribe?token=g1.');
    expect(await guardians()).to.deep.equal([{ ...marie, unsubscribed: ['alert'] }]);
    // The student's subject access export says so too.
    const exported = await srv.request('GET', `/api/v1/users/${student.id}/export`, { token: token(admin) });
    expect(exported.status).to.equal(200);
    expect(exported.body.guardians).to.deep.equal([{ ...marie, unsubscribed: ['alert'] }]);
    // The link opened again shows she is unsubscribed, with the way back.
    expect((await srv.request('GET', link)).body).to.include('Se réabonner');

    const again = await srv.request('POST', link.replace('/unsubscribe?', '/resubscribe?'), { ...form, raw: '' });
    expect(again.status).to.equal(200);
    expect(again.body).to.include('Vous recevrez de nouveau les e-mails d’alerte d’assiduité.');
    expect(await guardians()).to.deep.equal([marie]);

    // A mail provider's one-click POST, multipart as RFC 8058 prefers: no page needed.
    const body = new FormData();
    body.set('List-Unsubscribe', 'One-Click');
    const oneClick = await fetch(srv.baseUrl + link, { method: 'POST', body });
    expect(oneClick.status).to.equal(200);
    await oneClick.text();
    expect(await guardians()).to.deep.equal([{ ...marie, unsubscribed: ['alert'] }]);

    // An altered link: a coded error for a program, a page for a browser, nothing changed.
    const forged = await srv.request('POST', `${link.slice(0, -3)}abc`, { ...form, raw: 'List-Unsubscribe=One-Click' });
    expect(forged.status).to.equal(400);
    expect(forged.body.error.code).to.equal('UNSUBSCRIBE_LINK_INVALID');
    const forgedPage = await srv.request('GET', `${link.slice(0, -3)}abc`, {
      headers: { accept: 'text/html,*/*;q=0.8', 'accept-language': 'fr-FR,fr;q=0.9' },
    });
    expect(forgedPage.status).to.equal(400);
    expect(forgedPage.body).to.include('<html lang="fr" dir="ltr">').and.include('Ce lien n’est pas valide');
    // A browser in a language no catalog serves reads it in English.
    const germanPage = await srv.request('GET', `${link.slice(0, -3)}abc`, {
      headers: { accept: 'text/html,*/*;q=0.8', 'accept-language': 'de-DE,de;q=0.9' },
    });
    expect(germanPage.body).to.include('<html lang="en" dir="ltr">').and.include('This link is not valid');
    // A POST without the one-click pair changes nothing either.
    const bare = await srv.request('POST', link, { ...form, raw: 'unsubscribe=yes' });
    expect(bare.status).to.equal(400);
    expect(bare.body.error.code).to.equal('VALIDATION_FAILED');

    // Recover, cross again: the staff are emailed, the guardian is not.
    await recover();
    const second = smtp.received.length;
    await holdSession();
    expect(await receivedSince(second)).to.have.members([teacher.email, admin.email]);
    await recover();
  });

  it('the student gets their alert in-app, pushed live over the socket, and by email', async () => {
    await srv.request('PATCH', '/api/v1/organisation', { token: token(admin), body: { settings: { notifyStudent: true } } });
    const studentSocket = await connectClient(srv.baseUrl, token(student));
    const classmateSocket = await connectClient(srv.baseUrl, token(classmate));
    sockets.push(studentSocket, classmateSocket);
    let classmateTold = 0;
    classmateSocket.on('notification:new', () => classmateTold++);
    const pushed = nextEvent(studentSocket, 'notification:new');

    const before = smtp.received.length;
    await holdSession();
    const [{ notification, unread }] = await pushed;
    expect(unread).to.equal(1);
    expect(notification.alert).to.include({ studentId: student.id, subjectCode: subject.code, observed: 1 });
    const list = await srv.request('GET', '/api/v1/me/notifications', { token: token(student) });
    expect(list.body).to.include({ total: 1, unread: 1 });

    const mail = decodedMail((await smtp.next(student.email, before)).raw);
    expect(mail).to.include(`Subject: Attendance alert: ${subject.code}`);
    expect(mail).to.include(`You missed 1 session in a row of ${subject.code}`);
    expect(mail).to.match(/List-Unsubscribe:\s+<https:\/\/attendance\.school\.example\/api\/v1\/unsubscribe\?token=u1\./);
    expect(await receivedSince(before)).to.have.members([teacher.email, admin.email, student.email]);
    expect(classmateTold, 'a classmate hears nothing of it').to.equal(0);
    expect((await srv.request('GET', '/api/v1/me/notifications', { token: token(classmate) })).body.total).to.equal(0);
  });
});

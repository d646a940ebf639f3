import { expect } from 'chai';
import type { Organisation } from '../../src/domain/ports/organisations.js';
import type { Subject } from '../../src/domain/ports/subjects.js';
import type { User } from '../../src/domain/ports/users.js';
import { createOrg, createSubject, createUser } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { beforeDigestHour, decodedMail, startSmtpServer, type TestSmtpServer } from '../support/mail.js';
import { command, connectClient, ok, waitFor } from '../support/sockets.js';

const PUBLIC_URL = 'https://attendance.school.example';

interface OutboxRow {
  category: string;
  to: string;
  status: string;
  attempts: number;
  lastError: string | null;
}

interface World {
  srv: TestServer;
  org: Organisation;
  admin: User;
  teacher: User;
  student: User;
  subject: Subject;
  token(u: User): string;
  /** Opens and closes a session of the subject as its teacher: the student is absent. */
  holdSession(): Promise<void>;
  outbox(query?: string): Promise<OutboxRow[]>;
}

async function world(env: Record<string, string>): Promise<World> {
  const srv = await startTestServer({ PUBLIC_URL, DIGEST_HOUR: '7', ...env }, { clock: beforeDigestHour() });
  const org = await createOrg(srv.store);
  const admin = await createUser(srv.store, org.id, 'admin');
  const teacher = await createUser(srv.store, org.id, 'teacher');
  const student = await createUser(srv.store, org.id, 'student');
  const subject = await createSubject(srv.store, org.id, [teacher.id], [student.id]);
  const token = (u: User) => srv.app.tokenService.signAccess(u).token;
  const created = await srv.request('POST', '/api/v1/alert-rules', {
    token: token(admin),
    body: { kind: 'consecutive-absences', count: 1 },
  });
  expect(created.status).to.equal(201);
  return {
    srv,
    org,
    admin,
    teacher,
    student,
    subject,
    token,
    async holdSession() {
      const socket = await connectClient(srv.baseUrl, token(teacher));
      try {
        const session = ok(await command(socket, 'session:open', { subjectId: subject.id }));
        ok(await command(socket, 'session:close', { sessionId: session.id }));
      } finally {
        socket.disconnect();
      }
    },
    async outbox(query = '') {
      const res = await srv.request<{ items: OutboxRow[] }>('GET', `/api/v1/outbox${query}`, { token: token(admin) });
      expect(res.status).to.equal(200);
      return res.body.items;
    },
  };
}

describe('alert emails through the outbox and a real SMTP server', function () {
  this.timeout(20_000);

  describe('delivered', () => {
    let smtp: TestSmtpServer;
    let w: World;
    before(async () => {
      smtp = await startSmtpServer();
      w = await world({ SMTP_URL: smtp.url });
    });
    after(async () => {
      await w.srv.cleanup();
      await smtp.close();
    });

    it('sends each recipient the alert in their language with their own unsubscribe link, which stops that category', async () => {
      const prefs = await w.srv.request('PUT', '/api/v1/me/notification-preferences', {
        token: w.token(w.teacher),
        body: { language: 'fr', unsubscribed: [] },
      });
      expect(prefs.body).to.deep.equal({ language: 'fr', unsubscribed: [] });
      await w.holdSession();

      const toTeacher = decodedMail((await smtp.next(w.teacher.email)).raw);
      expect(toTeacher).to.include('Subject: Alerte d’assiduité\u00a0: 1 élève en');
      expect(toTeacher).to.include(`${w.student.name} a manqué 1 séance en ${w.subject.code}`);
      expect(toTeacher).to.include('Ne plus recevoir les alertes');
      const toAdmin = decodedMail((await smtp.next(w.admin.email)).raw);
      expect(toAdmin).to.include(`Subject: Attendance alert: 1 student in ${w.subject.code}`);
      expect(toAdmin).to.include(`${w.student.name} missed 1 session in a row of ${w.subject.code}`);
      expect(toAdmin).to.match(/List-Unsubscribe:\s+<https:\/\/attendance\.school\.example\/api\/v1\/unsubscribe\?token=/);
      // Both text and HTML bodies.
      expect(toAdmin).to.include('Content-Type: text/plain').and.include('Content-Type: text/html');

      const link = /https:\/\/attendance\.school\.example(\/api\/v1\/unsubscribe\?token=[A-Za-z0-9._-]+)/.exec(toTeacher)![1]!;
      expect(toTeacher).to.match(/List-Unsubscribe-Post:\s+List-Unsubscribe=One-Click/);
      const prefsNow = async () => (await w.srv.request('GET', '/api/v1/me/notification-preferences', { token: w.token(w.teacher) })).body;
      // Following the link only shows the page, in the teacher's language.
      const page = await w.srv.request('GET', link);
      expect(page.status).to.equal(200);
      expect(page.body).to.include('<html lang="fr" dir="ltr">').and.include('Ne plus recevoir les e-mails d’alerte d’assiduité\u00a0?');
      expect(await prefsNow(), 'a GET unsubscribes nobody').to.deep.equal({ language: 'fr', unsubscribed: [] });
      // RFC 8058's one-click POST (urlencoded) unsubscribes without the page.
      const form = { contentType: 'application/x-www-form-urlencoded', raw: 'List-Unsubscribe=One-Click' };
      const res = await w.srv.request('POST', link, form);
      expect(res.status).to.equal(200);
      expect(res.body).to.include('Vous ne recevrez plus les e-mails d’alerte d’assiduité.').and.include('Se réabonner');
      expect(await prefsNow()).to.deep.equal({ language: 'fr', unsubscribed: ['alert'] });
      expect((await w.srv.request('POST', link, form)).status, 'again: no further change').to.equal(200);
      expect(await prefsNow()).to.deep.equal({ language: 'fr', unsubscribed: ['alert'] });
      const forged = await w.srv.request('GET', `${link.slice(0, -3)}abc`);
      expect(forged.status).to.equal(400);
      expect(forged.body.error.code).to.equal('UNSUBSCRIBE_LINK_INVALID');

      // The student recovers, then misses again: a new crossing. Only the admin is emailed now.
      const received = smtp.received.length;
      const socket = await connectClient(w.srv.baseUrl, w.token(w.teacher));
      const session = ok(await command(socket, 'session:open', { subjectId: w.subject.id }));
      ok(await command(socket, 'checkin:mark', { sessionId: session.id, studentId: w.student.id, status: 'present' }));
      ok(await command(socket, 'session:close', { sessionId: session.id }));
      socket.disconnect();
      await w.holdSession();
      await smtp.next(w.admin.email, received);
      await waitFor(async () => (await w.outbox()).filter((r) => r.status === 'sent').length === 3);
      expect(smtp.received.slice(received).map((m) => m.to)).to.deep.equal([[w.admin.email]]);
      // The in-app notification still reaches the teacher.
      expect((await w.srv.request('GET', '/api/v1/me/notifications', { token: w.token(w.teacher) })).body.total).to.equal(2);

      const rows = await w.outbox();
      expect(rows[0]).to.include({ category: 'alert', to: w.admin.email, status: 'sent', attempts: 1, lastError: null });
      expect(rows[0]).to.not.have.property('text');
    });
  });

  describe('a failing SMTP server', () => {
    it('retries a temporary failure with backoff until it is accepted, and reports each attempt', async () => {
      const smtp = await startSmtpServer({ failFirst: 2 });
      const w = await world({ SMTP_URL: smtp.url, MAIL_RETRY_BASE_MS: '20', MAIL_OUTBOX_POLL_MS: '100', MAIL_MAX_ATTEMPTS: '5' });
      try {
        await w.srv.request('PUT', '/api/v1/me/notification-preferences', {
          token: w.token(w.admin),
          body: { language: 'en', unsubscribed: ['alert'] },
        });
        await w.holdSession();
        const mail = await smtp.next(w.teacher.email);
        expect(decodedMail(mail.raw)).to.include('missed 1 session in a row');
        expect(smtp.refused).to.equal(2);
        await waitFor(async () => (await w.outbox())[0]?.status === 'sent');
        const [row] = await w.outbox();
        expect(row).to.include({ to: w.teacher.email, status: 'sent', attempts: 3, lastError: null });
      } finally {
        await w.srv.cleanup();
        await smtp.close();
      }
    });

    it('gives up after the last attempt and shows the email failed, with the server’s answer, to admins', async () => {
      const smtp = await startSmtpServer({ failFirst: 1_000 });
      const w = await world({ SMTP_URL: smtp.url, MAIL_RETRY_BASE_MS: '20', MAIL_OUTBOX_POLL_MS: '100', MAIL_MAX_ATTEMPTS: '2' });
      try {
        await w.srv.request('PUT', '/api/v1/me/notification-preferences', {
          token: w.token(w.admin),
          body: { language: 'en', unsubscribed: ['alert'] },
        });
        await w.holdSession();
        await waitFor(async () => (await w.outbox('?status=failed')).length === 1);
        const [row] = await w.outbox('?status=failed');
        expect(row).to.include({ to: w.teacher.email, status: 'failed', attempts: 2 });
        expect(row!.lastError).to.match(/451/);
        expect(smtp.refused).to.equal(2);
        expect(smtp.received).to.deep.equal([]);
      } finally {
        await w.srv.cleanup();
        await smtp.close();
      }
    });
  });
});

import { expect } from 'chai';
import { createOrg, createSubject, createUser } from '../support/fixtures.js';
import { startTestServer } from '../support/http.js';
import { decodedMail, startSmtpServer } from '../support/mail.js';
import { command, connectClient, ok } from '../support/sockets.js';

describe('daily digest email through a real SMTP server', function () {
  this.timeout(20_000);

  it('goes to each teacher once a day from DIGEST_HOUR, with the day’s sessions, pending reviews and new alerts', async () => {
    let now = Date.parse('2026-03-02T06:30:00.000Z');
    const clock = () => new Date(now);
    const smtp = await startSmtpServer();
    const srv = await startTestServer({ SMTP_URL: smtp.url, DIGEST_HOUR: '8' }, { clock });
    try {
      const org = await createOrg(srv.store); // UTC
      const admin = await createUser(srv.store, org.id, 'admin');
      const teacher = await createUser(srv.store, org.id, 'teacher');
      const idle = await createUser(srv.store, org.id, 'teacher');
      const student = await createUser(srv.store, org.id, 'student');
      const subject = await createSubject(srv.store, org.id, [teacher.id], [student.id]);
      const token = (u: typeof admin) => srv.app.tokenService.signAccess(u).token;
      await srv.request('PUT', '/api/v1/me/notification-preferences', { token: token(idle), body: { language: 'fr', unsubscribed: [] } });
      await srv.request('POST', '/api/v1/alert-rules', { token: token(admin), body: { kind: 'consecutive-absences', count: 1 } });
      const socket = await connectClient(srv.baseUrl, token(teacher));
      const session = ok(await command(socket, 'session:open', { subjectId: subject.id }));
      ok(await command(socket, 'session:close', { sessionId: session.id }));
      socket.disconnect();
      /** The first digest to `email` received after `after` messages (alert emails may arrive in between). */
      const digestTo = async (email: string, after: number): Promise<string> => {
        for (;;) {
          const m = await smtp.next(email, after);
          const text = decodedMail(m.raw);
          if (/digest|récapitulatif/.test(text)) return text;
          after = smtp.received.indexOf(m) + 1;
        }
      };
      const digests = async () =>
        (await srv.store.outbox.list(org.id, { limit: 100, offset: 0 })).items.filter((m) => m.category === 'digest');

      await srv.app.digest.tick(); // 06:30, before the hour
      expect(await digests()).to.deep.equal([]);

      now = Date.parse('2026-03-02T08:15:00.000Z');
      const received = smtp.received.length;
      await srv.app.digest.tick();
      const mail = await digestTo(teacher.email, received);
      expect(mail).to.include('Subject: Your attendance digest for Monday, 2 March 2026');
      expect(mail).to.include(`Your session of the day (1):`).and.include(`06:30 ${subject.code} Fixture subject (closed)`);
      expect(mail).to.include('Check-ins waiting for your review: 0.');
      expect(mail).to.include('New alerts since yesterday: 1.').and.include(`${student.name} missed 1 session in a row`);
      expect(mail).to.include('Stop digest emails:');
      const toIdle = await digestTo(idle.email, received);
      expect(toIdle).to.include('Aucune séance aujourd’hui.');
      expect((await digests()).map((m) => m.to).sort()).to.deep.equal([teacher.email, idle.email].sort());

      // Later the same day (another node's run, or this one's): no second digest.
      now = Date.parse('2026-03-02T20:00:00.000Z');
      await srv.app.digest.tick();
      expect(await digests()).to.have.length(2);
      // The next day's goes out.
      now = Date.parse('2026-03-03T08:05:00.000Z');
      await srv.app.digest.tick();
      expect(await digests()).to.have.length(4);
    } finally {
      await srv.cleanup();
      await smtp.close();
    }
  });
});

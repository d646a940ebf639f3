import { expect } from 'chai';
import type { RosterUpdates, SessionView } from '../../src/shared/events.js';
import type { Organisation } from '../../src/domain/ports/organisations.js';
import type { Subject } from '../../src/domain/ports/subjects.js';
import type { User } from '../../src/domain/ports/users.js';
import { RosterFeed } from '../../src/web/lib/roster.js';
import { createOrg, createSubject, createUser } from '../support/fixtures.js';
import { startTestServer } from '../support/http.js';
import { NO_CHECKS } from '../support/live-class.js';
import { command, connectClient, nextEvent, ok, waitFor, type ClientSocket } from '../support/sockets.js';

const STUDENTS = 500;

/** A teacher screen as the pages keep it (src/web/lib/roster.ts), counting the messages that reach it. */
function screen(socket: ClientSocket) {
  const batches: { at: number; batch: RosterUpdates }[] = [];
  const feed = new RosterFeed({
    fetchSnapshot: async (sessionId) => ok(await command(socket, 'session:watch', { sessionId })),
  });
  socket.on('roster:updates', (batch) => {
    batches.push({ at: performance.now(), batch });
    feed.updates(batch);
  });
  socket.on('roster:resync', (n) => feed.resyncNotice(n));
  return { feed, batches };
}

async function setup(env: Record<string, string>, students: number) {
  const srv = await startTestServer(env);
  const org: Organisation = await createOrg(srv.store);
  const teacher: User = await createUser(srv.store, org.id, 'teacher');
  const people = await srv.store.users.createMany(
    org.id,
    Array.from({ length: students }, (_, i) => ({
      email: `burst${i}@example.test`,
      name: `Student ${String(i).padStart(3, '0')}`,
      role: 'student' as const,
      studentNumber: `B${i}`,
      passwordHash: null,
      active: true,
    })),
  );
  const subject: Subject = await createSubject(
    srv.store,
    org.id,
    [teacher.id],
    people.map((p) => p.id),
  );
  const token = (u: User) => srv.app.tokenService.signAccess(u).token;
  const teacherSocket = await connectClient(srv.baseUrl, token(teacher));
  const studentSockets: ClientSocket[] = [];
  for (let i = 0; i < people.length; i += 50) {
    studentSockets.push(...(await Promise.all(people.slice(i, i + 50).map((p) => connectClient(srv.baseUrl, token(p))))));
  }
  const session: SessionView = ok(
    await command(teacherSocket, 'session:open', {
      subjectId: subject.id,
      policy: NO_CHECKS,
    }),
  );
  return {
    srv,
    org,
    people,
    session,
    teacherSocket,
    studentSockets,
    async cleanup() {
      for (const s of [teacherSocket, ...studentSockets]) s.disconnect();
      await srv.cleanup();
    },
  };
}

describe('roster batches: a burst of check-ins reaches the screens in a few messages', function () {
  this.timeout(60_000);

  it('500 check-ins within a second: at most one message per ROSTER_BATCH_MS (the default), every version once, the final roster equals the store', async () => {
    // The default window: what a school runs, and what "about 25 messages a second" is said of.
    const t = await setup({ CHECKIN_RATE_PER_MINUTE: '600' }, STUDENTS);
    try {
      const { feed, batches } = screen(t.teacherSocket);
      await feed.watch(t.session.id);
      const from = feed.roster.list().length;
      expect(from).to.equal(STUDENTS);

      // Open loop over one second: 25 submissions every 50 ms, none waiting for another's answer.
      const acks: Promise<unknown>[] = [];
      // No message about these check-ins can leave the server before the first is sent, nor after it arrived.
      const firstSent = performance.now();
      for (let i = 0; i < STUDENTS; i += 25) {
        for (const s of t.studentSockets.slice(i, i + 25))
          acks.push(command(s, 'checkin:submit', { sessionId: t.session.id }, 20_000).then(ok));
        // Load pacing, not a wait for anything: the next 25 leave 50 ms later whatever was answered.
        await new Promise((r) => setTimeout(r, 50));
      }
      await Promise.all(acks);
      const stored = await t.srv.store.records.listBySession(t.org.id, t.session.id);
      expect(stored).to.have.length(STUDENTS);
      await waitFor(() => batches.reduce((n, b) => n + b.batch.updates.length, 0) >= STUDENTS, 10_000);

      const versions = batches.flatMap((b) => b.batch.updates.map((u) => u.version));
      expect(versions, 'every change exactly once, in order').to.deep.equal(Array.from({ length: STUDENTS }, (_, i) => i + 1));
      // At most one message per interval (the first change of a quiet interval leaves at once),
      // counted over a window that surely holds every send: from the first submission to the
      // last arrival. Times of arrival alone do not do: a loaded loop delivers messages sent 50 ms
      // apart in one turn. Timers count whole milliseconds, so two sends may be 49.x ms apart; one
      // message more covers the rounding between performance.now() and the loop's clock. A burst
      // of one second gives about 25 messages for 500 check-ins at the default 40 ms; stretched
      // by load, the bound grows with it.
      const windowMs = batches.at(-1)!.at - firstSent;
      const intervalMs = t.srv.config.rosterBatchMs;
      expect(intervalMs, 'the default window: at most 25 messages a second').to.be.at.least(40);
      expect(batches.length, `${batches.length} messages within ${windowMs.toFixed(0)} ms`).to.be.at.most(
        Math.floor(windowMs / (intervalMs - 1)) + 2,
      );

      const byStudent = new Map(stored.map((r) => [r.studentId, r]));
      const shown = feed.roster.list().filter((e) => e.recordId !== null);
      expect(shown).to.have.length(STUDENTS);
      for (const e of shown) {
        const r = byStudent.get(e.studentId)!;
        expect({
          status: e.status,
          recordId: e.recordId,
          recordVersion: e.recordVersion,
        }).to.deep.equal({
          status: r.status,
          recordId: r.id,
          recordVersion: r.version,
        });
      }
    } finally {
      await t.cleanup();
    }
  });

  it('a change held in a batch is not lost when the session closes, and the student is answered without waiting for it', async () => {
    // A long interval, so the second change is surely still held when the close comes.
    const t = await setup({ ROSTER_BATCH_MS: '1000' }, 2);
    try {
      const { feed, batches } = screen(t.teacherSocket);
      await feed.watch(t.session.id);
      const [first, second] = t.studentSockets as [ClientSocket, ClientSocket];
      ok(await command(first, 'checkin:submit', { sessionId: t.session.id }));
      await waitFor(() => batches.length === 1);

      const decision = nextEvent(second, 'checkin:decision', () => true);
      const view = ok(await command(second, 'checkin:submit', { sessionId: t.session.id }));
      await decision;
      expect(batches, 'the student had the ack and the decision while the screen change was still held').to.have.length(1);

      const status = nextEvent(t.teacherSocket, 'session:status', (s) => s.status === 'closed');
      ok(
        await command(t.teacherSocket, 'session:close', {
          sessionId: t.session.id,
        }),
      );
      await status;
      const held = feed.roster.get(t.people[1]!.id);
      expect(held?.recordId).to.equal(view.recordId);
      expect(held?.recordVersion, 'the held change arrived before the closed status').to.equal(view.recordVersion);
    } finally {
      await t.cleanup();
    }
  });
});

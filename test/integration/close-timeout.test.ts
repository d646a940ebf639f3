import { expect } from 'chai';
import type { SessionView } from '../../src/shared/events.js';
import { createOrg, createSubject, createUser } from '../support/fixtures.js';
import { useHeldWritesServer } from '../support/held-server.js';
import { NO_CHECKS, openLiveClass } from '../support/live-class.js';
import { command, ok, waitFor, type ClientSocket } from '../support/sockets.js';

const STUDENTS = 4;
/** Closes answer after 200 ms and are given up after 1 s. */
const STUCK_CLOSE = { CLOSE_ANSWER_WAIT_MS: '200', CLOSE_MAX_MS: '1000' };

// A close whose store call never answers renewed its lease for ever, and the session stayed
// `closing` on every screen. Past CLOSE_MAX_MS the close gives the session up: the teacher's
// console is told (`session:close-failed`), and the next close finishes it.
describe('a close stuck past CLOSE_MAX_MS', function () {
  this.timeout(30_000);
  const server = useHeldWritesServer(STUCK_CLOSE);
  const { held, sockets } = server;

  it('tells the watching console CLOSE_TIMED_OUT, and the session is closed once, by the next close', async () => {
    const { srv } = server;
    const { org, staff, sessionId } = await openLiveClass(srv, sockets, STUDENTS);
    ok(await command(staff, 'session:watch', { sessionId }));
    const failed: unknown[] = [];
    const statuses: SessionView[] = [];
    staff.on('session:close-failed', (notice) => failed.push(notice));
    staff.on('session:status', (s) => statuses.push(s));

    expect(ok(await command(staff, 'session:close', { sessionId })).session.status).to.equal('closing');
    await waitFor(() => failed.length > 0);
    expect(failed).to.deep.equal([{ sessionId, code: 'CLOSE_TIMED_OUT' }]);
    const given = await srv.store.sessions.get(org.id, sessionId);
    expect(given?.status).to.equal('closing');

    // The store answers again: the scheduler's close (or the stuck one's last write) stores the
    // absents, the stuck close stops at its next fence, and the session closes once.
    held.release();
    await waitFor(() => statuses.some((s) => s.id === sessionId && s.status === 'closed'));
    const records = await srv.store.records.listBySession(org.id, sessionId);
    expect(records.map((r) => r.status)).to.deep.equal(Array(STUDENTS).fill('absent'));
    const closes = (await srv.store.audit.listForEntity(org.id, 'session', sessionId)).filter((e) => e.action === 'session.close');
    expect(closes).to.have.length(1);
  });
});

// The notice names a session and what became of its close: for the screens that watch its roster
// (its teachers', the organisation's admins'), not for its students nor anyone taken off it.
describe('session:close-failed reaches only the staff watching the session', function () {
  this.timeout(30_000);
  const server = useHeldWritesServer(STUCK_CLOSE);
  const { held, sockets, client } = server;

  it('not its joined students, a co-teacher taken off the subject, another class, or another organisation', async () => {
    const { srv } = server;
    const { org, teacher, subject, staff, sessionId, phones } = await openLiveClass(srv, sockets, 2);
    const admin = await createUser(srv.store, org.id, 'admin');
    const adminScreen = await client(admin);
    ok(await command(staff, 'session:watch', { sessionId }));
    ok(await command(adminScreen, 'session:watch', { sessionId }));
    for (const phone of phones) ok(await command(phone, 'session:join', { sessionId }));
    // A co-teacher watching, then taken off the subject by the admin.
    const former = await createUser(srv.store, org.id, 'teacher');
    await srv.store.subjects.update(org.id, subject.id, { teacherIds: [teacher.id, former.id] });
    const formerConsole = await client(former);
    ok(await command(formerConsole, 'session:watch', { sessionId }));
    const patched = await srv.request('PATCH', `/api/v1/subjects/${subject.id}`, {
      token: srv.app.tokenService.signAccess(admin).token,
      body: { teacherIds: [teacher.id] },
    });
    expect(patched.status).to.equal(200);
    // Another class of the organisation, live, and another organisation's admin.
    const otherTeacher = await createUser(srv.store, org.id, 'teacher');
    const otherSubject = await createSubject(srv.store, org.id, [otherTeacher.id], []);
    const otherConsole = await client(otherTeacher);
    ok(
      await command(otherConsole, 'session:watch', {
        sessionId: ok(await command(otherConsole, 'session:open', { subjectId: otherSubject.id, policy: NO_CHECKS })).id,
      }),
    );
    const outsideOrg = await createOrg(srv.store);
    const outsideAdmin = await client(await createUser(srv.store, outsideOrg.id, 'admin'));
    ok(await command(outsideAdmin, 'session:list-active', {}));

    const heard = new Map<ClientSocket, unknown[]>();
    for (const s of [staff, adminScreen, ...phones, formerConsole, otherConsole, outsideAdmin]) {
      const notices: unknown[] = [];
      s.on('session:close-failed', (notice) => notices.push(notice));
      heard.set(s, notices);
    }
    expect(ok(await command(staff, 'session:close', { sessionId })).session.status).to.equal('closing');
    await waitFor(() => heard.get(staff)!.length > 0 && heard.get(adminScreen)!.length > 0);
    // Packets keep their order: an answer after the notice means it would have arrived by now.
    for (const s of heard.keys()) ok(await command(s, 'session:list-active', {}));
    const notice = { sessionId, code: 'CLOSE_TIMED_OUT' };
    expect([...heard.values()]).to.deep.equal([[notice], [notice], [], [], [], [], []]);
    held.release();
  });
});

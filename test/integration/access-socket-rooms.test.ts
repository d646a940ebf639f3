import { expect } from 'chai';
import type { Organisation } from '../../src/domain/ports/organisations.js';
import type { Subject } from '../../src/domain/ports/subjects.js';
import type { User } from '../../src/domain/ports/users.js';
import { createOrg, createSubject, createUser } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { command, connectClient, nextEvent, ok, type ClientSocket, userClient } from '../support/sockets.js';

/**
 * A socket's rooms outlive the right that put it there: people taken off a subject must leave
 * its rooms even when none of its sessions is live at that moment, or the next opening (or a
 * reopening of a session just closed) reaches them.
 */
describe('socket rooms follow removal from a subject when no session is live', function () {
  this.timeout(20_000);
  let srv: TestServer;
  let org: Organisation;
  let admin: User;
  let teacher: User;
  let kept: User;
  let removed: User;
  let subject: Subject;
  const sockets: ClientSocket[] = [];

  const client = userClient(() => srv, sockets);
  const api = (method: string, path: string, body: unknown) =>
    srv.request(method, `/api/v1${path}`, { token: srv.app.tokenService.signAccess(admin).token, body });
  /** Everything the server sent a socket before this answer has reached it: packets keep their order. */
  const drained = async (s: ClientSocket) => void (await command(s, 'session:list-active', {}));
  /** Records every event of the kinds a removed member must no longer receive. */
  const overhear = (s: ClientSocket) => {
    const heard: string[] = [];
    s.on('session:status', (v) => heard.push(`session:status ${v.id} ${v.status}`));
    s.on('roster:resync', (n) => heard.push(`roster:resync ${n.sessionId}`));
    s.on('roster:updates', (b) => heard.push(`roster:updates ${b.sessionId}`));
    return heard;
  };

  before(async () => {
    srv = await startTestServer();
    org = await createOrg(srv.store);
    admin = await createUser(srv.store, org.id, 'admin');
  });
  beforeEach(async () => {
    teacher = await createUser(srv.store, org.id, 'teacher');
    kept = await createUser(srv.store, org.id, 'student');
    removed = await createUser(srv.store, org.id, 'student');
    subject = await createSubject(srv.store, org.id, [teacher.id], [kept.id, removed.id]);
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.disconnect();
  });
  after(() => srv.cleanup());

  it('an unenrolled student no longer hears the sessions of the subject open', async () => {
    const keptPhone = await client(kept);
    const removedPhone = await client(removed);
    ok(await command(keptPhone, 'session:list-active', {}));
    ok(await command(removedPhone, 'session:list-active', {}));
    const heard = overhear(removedPhone);

    expect((await api('DELETE', `/subjects/${subject.id}/enrolments`, { studentIds: [removed.id] })).status).to.equal(200);
    const staff = await client(teacher);
    const opened = nextEvent(keptPhone, 'session:status', (v) => v.subjectId === subject.id && v.status === 'open');
    const session = ok(await command(staff, 'session:open', { subjectId: subject.id, policy: { preset: 'manual' } }));
    await opened;
    await drained(removedPhone);
    expect(heard, `the unenrolled student heard of session ${session.id}`).to.deep.equal([]);
  });

  it('a teacher taken off the subject after its session closed hears nothing of its reopening', async () => {
    const staff = await client(teacher);
    const adminScreen = await client(admin);
    const session = ok(await command(staff, 'session:open', { subjectId: subject.id, policy: { preset: 'manual' } }));
    ok(await command(staff, 'session:watch', { sessionId: session.id }));
    ok(await command(adminScreen, 'session:watch', { sessionId: session.id }));
    ok(await command(staff, 'session:close', { sessionId: session.id }));
    await drained(staff);
    const heard = overhear(staff);

    expect((await api('PATCH', `/subjects/${subject.id}`, { teacherIds: [] })).status).to.equal(200);
    const reopened = nextEvent(adminScreen, 'session:status', (v) => v.id === session.id && v.status === 'open');
    ok(await command(adminScreen, 'session:reopen', { sessionId: session.id }));
    await reopened;
    await drained(staff);
    expect(heard, 'the removed teacher still sat in the staff room of the closed session').to.deep.equal([]);
  });

  it('a student unenrolled after the session closed hears nothing of its reopening', async () => {
    const staff = await client(teacher);
    const removedPhone = await client(removed);
    const session = ok(await command(staff, 'session:open', { subjectId: subject.id, policy: { preset: 'manual' } }));
    ok(await command(removedPhone, 'session:join', { sessionId: session.id }));
    ok(await command(staff, 'session:watch', { sessionId: session.id }));
    ok(await command(staff, 'session:close', { sessionId: session.id }));
    await drained(removedPhone);
    const heard = overhear(removedPhone);

    expect((await api('DELETE', `/subjects/${subject.id}/enrolments`, { studentIds: [removed.id] })).status).to.equal(200);
    const reopened = nextEvent(staff, 'session:status', (v) => v.id === session.id && v.status === 'open');
    ok(await command(staff, 'session:reopen', { sessionId: session.id }));
    await reopened;
    await drained(removedPhone);
    expect(heard, 'the unenrolled student still sat in the students room of the closed session').to.deep.equal([]);
  });

  it("a live session's closing reaches none of those taken off it, nor another subject's class", async () => {
    const staff = await client(teacher);
    const adminScreen = await client(admin);
    const session = ok(await command(staff, 'session:open', { subjectId: subject.id, policy: { preset: 'manual' } }));
    const formerTeacher = await createUser(srv.store, org.id, 'teacher');
    await srv.store.subjects.update(org.id, subject.id, { teacherIds: [teacher.id, formerTeacher.id] });
    const formerConsole = await client(formerTeacher);
    ok(await command(formerConsole, 'session:watch', { sessionId: session.id }));
    const removedPhone = await client(removed);
    ok(await command(removedPhone, 'session:list-active', {}));
    ok(await command(removedPhone, 'session:join', { sessionId: session.id }));
    // A class of another subject, its student listing its own sessions, its teacher watching its own.
    const otherTeacher = await createUser(srv.store, org.id, 'teacher');
    const otherStudent = await createUser(srv.store, org.id, 'student');
    const otherSubject = await createSubject(srv.store, org.id, [otherTeacher.id], [otherStudent.id]);
    const otherConsole = await client(otherTeacher);
    const otherSession = ok(await command(otherConsole, 'session:open', { subjectId: otherSubject.id, policy: { preset: 'manual' } }));
    ok(await command(otherConsole, 'session:watch', { sessionId: otherSession.id }));
    const otherPhone = await client(otherStudent);
    ok(await command(otherPhone, 'session:list-active', {}));
    ok(await command(otherPhone, 'session:join', { sessionId: otherSession.id }));
    const outsiders = [formerConsole, removedPhone, otherConsole, otherPhone];

    expect((await api('DELETE', `/subjects/${subject.id}/enrolments`, { studentIds: [removed.id] })).status).to.equal(200);
    expect((await api('PATCH', `/subjects/${subject.id}`, { teacherIds: [teacher.id] })).status).to.equal(200);
    for (const s of outsiders) await drained(s);
    const heard = outsiders.map(overhear);
    ok(await command(adminScreen, 'session:watch', { sessionId: session.id }));
    const closing = nextEvent(adminScreen, 'session:status', (v) => v.id === session.id && v.status === 'closing');
    const closed = nextEvent(adminScreen, 'session:status', (v) => v.id === session.id && v.status === 'closed');
    ok(await command(staff, 'session:close', { sessionId: session.id }));
    await closing;
    await closed;
    for (const s of outsiders) await drained(s);
    expect(heard.map((events) => events.filter((e) => e.includes(session.id)))).to.deep.equal([[], [], [], []]);
  });
});

describe('session:watch and session:join refused by their second check leave the room they joined', function () {
  this.timeout(20_000);
  let srv: TestServer;
  /**
   * When set, the next read naming this id (a subject read by its id, a student's enrolment read)
   * runs the removal first and answers what it read before.
   */
  let removeDuringRead: { id: string; remove: () => Promise<void> } | null = null;
  const readThenRemove = async <T>(id: string, read: T): Promise<T> => {
    const armed = removeDuringRead;
    if (armed?.id === id) {
      removeDuringRead = null;
      await armed.remove();
    }
    return read;
  };

  before(async () => {
    srv = await startTestServer(
      {},
      {
        wrapStore: (inner) => {
          const get = inner.subjects.get.bind(inner.subjects);
          const isEnrolled = inner.subjects.isEnrolled.bind(inner.subjects);
          inner.subjects.get = async (orgId, id) => readThenRemove(id, await get(orgId, id));
          inner.subjects.isEnrolled = async (orgId, subjectId, studentId) =>
            readThenRemove(studentId, await isEnrolled(orgId, subjectId, studentId));
          return inner;
        },
      },
    );
  });
  after(() => srv.cleanup());

  it('a teacher taken off the subject between the access check and the join hears none of the roster', async () => {
    const org = await createOrg(srv.store);
    const admin = await createUser(srv.store, org.id, 'admin');
    const teacher = await createUser(srv.store, org.id, 'teacher');
    const student = await createUser(srv.store, org.id, 'student');
    const subject = await createSubject(srv.store, org.id, [teacher.id], [student.id]);
    const sockets = await Promise.all(
      [teacher, admin, student].map((u) => connectClient(srv.baseUrl, srv.app.tokenService.signAccess(u).token)),
    );
    const [staff, adminScreen, phone] = sockets as [ClientSocket, ClientSocket, ClientSocket];
    try {
      const session = ok(await command(staff, 'session:open', { subjectId: subject.id, policy: { preset: 'manual' } }));
      ok(await command(adminScreen, 'session:watch', { sessionId: session.id }));
      removeDuringRead = {
        id: subject.id,
        remove: async () => {
          const res = await srv.request('PATCH', `/api/v1/subjects/${subject.id}`, {
            token: srv.app.tokenService.signAccess(admin).token,
            body: { teacherIds: [] },
          });
          expect(res.status).to.equal(200);
        },
      };
      const watched = await command(staff, 'session:watch', { sessionId: session.id });
      expect(watched.ok ? null : watched.error.code).to.equal('NOT_SUBJECT_TEACHER');
      const heard: string[] = [];
      staff.on('roster:updates', (b) => heard.push(`roster:updates ${b.sessionId}`));

      ok(await command(phone, 'session:join', { sessionId: session.id }));
      const adminSees = nextEvent(adminScreen, 'roster:updates', (b) => b.sessionId === session.id);
      ok(await command(adminScreen, 'checkin:mark', { sessionId: session.id, studentId: student.id, status: 'present' }));
      await adminSees;
      await command(staff, 'session:list-active', {});
      expect(heard, 'the removed teacher stayed in the staff room').to.deep.equal([]);
    } finally {
      for (const s of sockets) s.disconnect();
    }
  });

  it('a student unenrolled between the access check and the join hears nothing more of the session', async () => {
    const org = await createOrg(srv.store);
    const admin = await createUser(srv.store, org.id, 'admin');
    const teacher = await createUser(srv.store, org.id, 'teacher');
    const student = await createUser(srv.store, org.id, 'student');
    const subject = await createSubject(srv.store, org.id, [teacher.id], [student.id]);
    const sockets = await Promise.all([teacher, student].map((u) => connectClient(srv.baseUrl, srv.app.tokenService.signAccess(u).token)));
    const [staff, phone] = sockets as [ClientSocket, ClientSocket];
    try {
      const session = ok(await command(staff, 'session:open', { subjectId: subject.id, policy: { preset: 'manual' } }));
      ok(await command(staff, 'session:watch', { sessionId: session.id }));
      removeDuringRead = {
        id: student.id,
        remove: async () => {
          const res = await srv.request('DELETE', `/api/v1/subjects/${subject.id}/enrolments`, {
            token: srv.app.tokenService.signAccess(admin).token,
            body: { studentIds: [student.id] },
          });
          expect(res.status).to.equal(200);
        },
      };
      const joined = await command(phone, 'session:join', { sessionId: session.id });
      expect(joined.ok ? null : joined.error.code).to.equal('NOT_ENROLLED');
      const heard: string[] = [];
      phone.on('session:status', (v) => heard.push(`session:status ${v.id} ${v.status}`));

      const extended = nextEvent(staff, 'session:status', (v) => v.id === session.id);
      ok(await command(staff, 'session:extend', { sessionId: session.id, closesAt: new Date(Date.now() + 7_200_000).toISOString() }));
      await extended;
      await command(phone, 'session:list-active', {});
      expect(heard, 'the unenrolled student stayed in the students room').to.deep.equal([]);
    } finally {
      for (const s of sockets) s.disconnect();
    }
  });
});

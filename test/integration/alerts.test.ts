import { expect } from 'chai';
import type { Subject } from '../../src/domain/ports/subjects.js';
import type { User } from '../../src/domain/ports/users.js';
import { createSchool, createUser } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { command, connectClient, nextEvent, ok, waitFor, type ClientSocket } from '../support/sockets.js';

describe('at-risk alerts over HTTP and the socket', function () {
  this.timeout(20_000);
  let srv: TestServer;
  let admin: User;
  let teacher: User;
  let student: User;
  let subject: Subject;
  const sockets: ClientSocket[] = [];
  const token = (u: User) => srv.app.tokenService.signAccess(u).token;

  before(async () => {
    srv = await startTestServer();
    ({ admin, teacher, student, subject } = await createSchool(srv.store));
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.disconnect();
  });
  after(() => srv.cleanup());

  it('refuses a rule without the fields its kind needs, and changes nothing', async () => {
    const res = await srv.request('POST', '/api/v1/alert-rules', {
      token: token(admin),
      body: { kind: 'low-attendance', count: 3, windowDays: 14 },
    });
    expect(res.status).to.equal(400);
    expect(res.body.error.code).to.equal('VALIDATION_FAILED');
    expect((await srv.request('GET', '/api/v1/alert-rules', { token: token(admin) })).body.items).to.deep.equal([]);
  });

  it('a closing that crosses a rule pushes notification:new to the teacher and the admin, listed unread until marked read', async () => {
    const created = await srv.request('POST', '/api/v1/alert-rules', {
      token: token(admin),
      body: { kind: 'consecutive-absences', count: 1 },
    });
    expect(created.status).to.equal(201);
    expect(created.body).to.include({ kind: 'consecutive-absences', count: 1, thresholdPct: null, windowDays: null });

    const teacherSocket = await connectClient(srv.baseUrl, token(teacher));
    const adminSocket = await connectClient(srv.baseUrl, token(admin));
    const studentSocket = await connectClient(srv.baseUrl, token(student));
    sockets.push(teacherSocket, adminSocket, studentSocket);
    let studentTold = false;
    studentSocket.on('notification:new', () => {
      studentTold = true;
    });
    const toTeacher = nextEvent(teacherSocket, 'notification:new');
    const toAdmin = nextEvent(adminSocket, 'notification:new');

    const session = ok(await command(teacherSocket, 'session:open', { subjectId: subject.id }));
    ok(await command(teacherSocket, 'session:close', { sessionId: session.id }));

    const [pushed] = await toTeacher;
    expect(pushed.unread).to.equal(1);
    expect(pushed.notification).to.deep.include({ category: 'alert', readAt: null });
    expect(pushed.notification.alert).to.deep.include({
      rule: 'consecutive-absences',
      studentId: student.id,
      subjectId: subject.id,
      observed: 1,
    });
    expect((await toAdmin)[0].notification.alert.studentId).to.equal(student.id);

    const listed = await srv.request('GET', '/api/v1/me/notifications', { token: token(teacher) });
    expect(listed.status).to.equal(200);
    expect(listed.body).to.deep.include({ total: 1, unread: 1 });
    expect(listed.body.items).to.deep.equal([pushed.notification]);

    const read = await srv.request('POST', '/api/v1/me/notifications/read', {
      token: token(teacher),
      body: { ids: [pushed.notification.id] },
    });
    expect(read.body).to.deep.equal({ marked: 1, unread: 0 });
    const unread = await srv.request('GET', '/api/v1/me/notifications?unread=true', { token: token(teacher) });
    expect(unread.body).to.deep.include({ total: 0, unread: 0, items: [] });
    // The student is not told of their own alert (the teacher and admins are).
    expect(studentTold).to.equal(false);
    expect((await srv.request('GET', '/api/v1/me/notifications', { token: token(student) })).body.total).to.equal(0);
  });

  it('a teacher made a student, though the subject still names them, hears of no alert: no notification, no push, no email', async () => {
    const school = await createSchool(srv.store);
    const demoted = await createUser(srv.store, school.org.id, 'teacher');
    const asAdmin = { token: token(school.admin) };
    const coTaught = await srv.request('PATCH', `/api/v1/subjects/${school.subject.id}`, {
      ...asAdmin,
      body: { teacherIds: [school.teacher.id, demoted.id] },
    });
    expect(coTaught.status).to.equal(200);
    expect(
      (await srv.request('POST', '/api/v1/alert-rules', { ...asAdmin, body: { kind: 'consecutive-absences', count: 1 } })).status,
    ).to.equal(201);
    const made = await srv.request('PATCH', `/api/v1/users/${demoted.id}`, {
      ...asAdmin,
      body: { role: 'student', studentNumber: 'DEMOTED-1' },
    });
    expect(made.body.role).to.equal('student');
    // A role change leaves the account among the subject's teachers: only an admin's change of them takes it out.
    expect((await srv.store.subjects.get(school.org.id, school.subject.id))!.teacherIds).to.include(demoted.id);

    const student = { ...demoted, role: 'student' as const };
    const demotedSocket = await connectClient(srv.baseUrl, token(student));
    const teacherSocket = await connectClient(srv.baseUrl, token(school.teacher));
    sockets.push(demotedSocket, teacherSocket);
    let pushed = false;
    demotedSocket.on('notification:new', () => {
      pushed = true;
    });
    const toTeacher = nextEvent(teacherSocket, 'notification:new');
    const session = ok(await command(teacherSocket, 'session:open', { subjectId: school.subject.id }));
    ok(await command(teacherSocket, 'session:close', { sessionId: session.id }));
    await toTeacher;
    // Staff emails are queued after the in-app ones, teachers first, the admins last.
    const mailedTo = async () => (await srv.store.outbox.list(school.org.id, { limit: 50, offset: 0 })).items.map((m) => m.to);
    await waitFor(async () => (await mailedTo()).includes(school.admin.email));

    expect(await mailedTo())
      .to.include(school.teacher.email)
      .and.not.include(demoted.email);
    expect((await srv.request('GET', '/api/v1/me/notifications', { token: token(student) })).body).to.deep.include({ total: 0, unread: 0 });
    expect(pushed).to.equal(false);
  });

  it('a teacher made a student no longer reads the alerts sent to them as a teacher (classmates’ absences)', async () => {
    const school = await createSchool(srv.store);
    const asAdmin = { token: token(school.admin) };
    expect(
      (await srv.request('POST', '/api/v1/alert-rules', { ...asAdmin, body: { kind: 'consecutive-absences', count: 1 } })).status,
    ).to.equal(201);
    const teacherSocket = await connectClient(srv.baseUrl, token(school.teacher));
    sockets.push(teacherSocket);
    const toTeacher = nextEvent(teacherSocket, 'notification:new');
    const session = ok(await command(teacherSocket, 'session:open', { subjectId: school.subject.id }));
    ok(await command(teacherSocket, 'session:close', { sessionId: session.id }));
    expect((await toTeacher)[0].notification.alert.studentId).to.equal(school.student.id);
    const asTeacher = await srv.request('GET', '/api/v1/me/notifications', { token: token(school.teacher) });
    expect(asTeacher.body).to.deep.include({ total: 1, unread: 1 });

    const made = await srv.request('PATCH', `/api/v1/users/${school.teacher.id}`, {
      ...asAdmin,
      body: { role: 'student', studentNumber: 'DEMOTED-2' },
    });
    expect(made.body.role).to.equal('student');
    const asStudent = { token: token({ ...school.teacher, role: 'student' as const }) };
    for (const path of ['/api/v1/me/notifications', '/api/v1/me/notifications?unread=true']) {
      expect((await srv.request('GET', path, asStudent)).body, path).to.deep.include({ items: [], total: 0, unread: 0 });
    }
    const marked = await srv.request('POST', '/api/v1/me/notifications/read', { ...asStudent, body: {} });
    expect(marked.body.unread).to.equal(0);
  });
});

import { expect } from 'chai';
import type { Subject } from '../../src/domain/ports/subjects.js';
import type { User } from '../../src/domain/ports/users.js';
import { createSchool } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { command, connectClient, nextEvent, ok, type ClientSocket } from '../support/sockets.js';

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
});

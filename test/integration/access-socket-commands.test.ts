import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Ack } from '../../src/shared/errors.js';
import type { Organisation } from '../../src/domain/ports/organisations.js';
import type { Subject } from '../../src/domain/ports/subjects.js';
import type { User } from '../../src/domain/ports/users.js';
import { createOrg, createSubject, createUser } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { command, connectClient, ok, type ClientSocket } from '../support/sockets.js';

type Ref = { sessionId: string; subjectId: string; studentId: string };

/** Every socket command that names a session, a subject or a student, with a payload otherwise valid. */
const COMMANDS: Array<{ name: string; send: (s: ClientSocket, ref: Ref) => Promise<Ack<unknown>> }> = [
  { name: 'session:open', send: (s, r) => command(s, 'session:open', { subjectId: r.subjectId, policy: { preset: 'manual' } }) },
  { name: 'session:watch', send: (s, r) => command(s, 'session:watch', { sessionId: r.sessionId }) },
  { name: 'session:code', send: (s, r) => command(s, 'session:code', { sessionId: r.sessionId }) },
  { name: 'session:close', send: (s, r) => command(s, 'session:close', { sessionId: r.sessionId }) },
  { name: 'session:cancel', send: (s, r) => command(s, 'session:cancel', { sessionId: r.sessionId }) },
  {
    name: 'session:extend',
    send: (s, r) => command(s, 'session:extend', { sessionId: r.sessionId, closesAt: new Date(Date.now() + 7_200_000).toISOString() }),
  },
  { name: 'session:reopen', send: (s, r) => command(s, 'session:reopen', { sessionId: r.sessionId }) },
  { name: 'session:join', send: (s, r) => command(s, 'session:join', { sessionId: r.sessionId }) },
  { name: 'checkin:challenge', send: (s, r) => command(s, 'checkin:challenge', { sessionId: r.sessionId }) },
  { name: 'checkin:submit', send: (s, r) => command(s, 'checkin:submit', { sessionId: r.sessionId, code: '000000' }) },
  {
    name: 'checkin:decide',
    send: (s, r) => command(s, 'checkin:decide', { sessionId: r.sessionId, studentId: r.studentId, decision: 'accept' }),
  },
  {
    name: 'checkin:mark',
    send: (s, r) => command(s, 'checkin:mark', { sessionId: r.sessionId, studentId: r.studentId, status: 'present' }),
  },
];

/**
 * The socket side of the matrix's existence check: users of another organisation get for this
 * organisation's session, subject and student ids exactly the answer of ids that exist nowhere,
 * and change nothing.
 */
describe("socket commands: another organisation's users learn nothing of this one's ids", function () {
  this.timeout(20_000);
  let srv: TestServer;
  let org: Organisation;
  let subject: Subject;
  let student: User;
  let sessionId: string;
  const outsiders: ClientSocket[] = [];

  before(async () => {
    srv = await startTestServer();
    org = await createOrg(srv.store);
    const other = await createOrg(srv.store);
    const teacher = await createUser(srv.store, org.id, 'teacher');
    student = await createUser(srv.store, org.id, 'student');
    subject = await createSubject(srv.store, org.id, [teacher.id], [student.id]);
    const staff = await connectClient(srv.baseUrl, srv.app.tokenService.signAccess(teacher).token);
    sessionId = ok(await command(staff, 'session:open', { subjectId: subject.id, policy: { preset: 'manual' } })).id;
    staff.disconnect();
    for (const role of ['student', 'teacher', 'admin'] as const) {
      const user = await createUser(srv.store, other.id, role);
      outsiders.push(await connectClient(srv.baseUrl, srv.app.tokenService.signAccess(user).token));
    }
  });
  after(async () => {
    for (const s of outsiders) s.disconnect();
    await srv.cleanup();
  });

  for (const { name, send } of COMMANDS) {
    it(`${name}: the same answer as for ids that exist nowhere`, async () => {
      const before = await srv.store.sessions.get(org.id, sessionId);
      for (const socket of outsiders) {
        const real = await send(socket, { sessionId, subjectId: subject.id, studentId: student.id });
        const nowhere = await send(socket, { sessionId: randomUUID(), subjectId: randomUUID(), studentId: randomUUID() });
        expect(real.ok, JSON.stringify(real)).to.equal(false);
        expect(real.ok ? null : real.error.code).to.equal(nowhere.ok ? null : nowhere.error.code);
      }
      expect(await srv.store.sessions.get(org.id, sessionId)).to.deep.equal(before);
      expect(await srv.store.records.listBySession(org.id, sessionId)).to.deep.equal([]);
    });
  }
});

import { expect } from 'chai';
import type { SessionView } from '../../src/shared/events.js';
import type { Organisation } from '../../src/domain/ports/organisations.js';
import type { Subject } from '../../src/domain/ports/subjects.js';
import type { User } from '../../src/domain/ports/users.js';
import { createOrg, createUser } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { command, nextEvent, ok, type ClientSocket, userClient } from '../support/sockets.js';

describe("socket.io: a student's session list stays live", function () {
  this.timeout(20_000);
  let srv: TestServer;
  let org: Organisation;
  let teacher: User;
  let student: User;
  let outsider: User;
  let subject: Subject;
  const sockets: ClientSocket[] = [];
  const client = userClient(() => srv, sockets);

  before(async () => {
    srv = await startTestServer();
    org = await createOrg(srv.store);
    teacher = await createUser(srv.store, org.id, 'teacher');
    student = await createUser(srv.store, org.id, 'student');
    outsider = await createUser(srv.store, org.id, 'student');
    subject = await srv.store.subjects.create(org.id, {
      code: 'LIVE1',
      name: 'Live list',
      teacherIds: [teacher.id],
      location: null,
      allowedIpRanges: [],
    });
    await srv.store.subjects.enrol(org.id, subject.id, [student.id]);
  });
  after(async () => {
    for (const s of sockets) s.disconnect();
    await srv.cleanup();
  });

  it('tells a student who listed sessions when one of their subjects opens and closes, and no one else', async () => {
    const s = await client(student);
    const other = await client(outsider);
    expect(ok(await command(s, 'session:list-active', {}))).to.deep.equal([]);
    ok(await command(other, 'session:list-active', {}));
    const heardByOutsider: SessionView[] = [];
    other.on('session:status', (v) => heardByOutsider.push(v));

    const t = await client(teacher);
    const opened = nextEvent(s, 'session:status', (v) => v.subjectId === subject.id && v.status === 'open');
    const session = ok(await command(t, 'session:open', { subjectId: subject.id, policy: { preset: 'manual' } }));
    const [view] = await opened;
    expect(view.id).to.equal(session.id);
    expect(view.policy.preset).to.equal('manual');

    const closed = nextEvent(s, 'session:status', (v) => v.id === session.id && v.status === 'closed');
    ok(await command(t, 'session:close', { sessionId: session.id }));
    await closed;
    // The outsider's socket is on the same node: the broadcast that reached the student passed it by.
    expect(heardByOutsider).to.deep.equal([]);
  });
});

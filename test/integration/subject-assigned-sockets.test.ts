import { expect } from 'chai';
import type { User } from '../../src/domain/ports/users.js';
import { useEnrolmentNodes, type EnrolmentNodes } from '../support/enrolment-nodes.js';
import { createUser } from '../support/fixtures.js';
import { useRedis } from '../support/redis-server.js';
import { command, nextEvent } from '../support/sockets.js';

/** Long enough for a loaded machine; every wait below ends at the event it waits for. */
const EVENT_MS = 10_000;

// A teacher's open page lists its subjects once: a teacher an admin adds to a subject on node A
// hears of it on their socket on node B (the page lists again), and only the teachers it adds do.
describe('a teacher given a subject hears of it on every node (2 nodes)', function () {
  this.timeout(60_000);
  const start = useEnrolmentNodes(useRedis('subject-assigned'), { code: 'SA', name: 'Subject assigned' });

  async function setTeachers(nodes: EnrolmentNodes, teacherIds: string[]): Promise<void> {
    const { a, admin, subject } = nodes;
    const res = await fetch(`${a.url}/api/v1/subjects/${subject.id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${a.app.tokenService.signAccess(admin).token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ teacherIds }),
    });
    expect(res.status, await res.clone().text()).to.equal(200);
  }

  it('tells a teacher added on node A on their socket on node B, and not the teacher who had it already', async () => {
    const nodes = await start();
    const { a, b, teacher, subject, client } = nodes;
    const added: User = await createUser(a.store, subject.orgId, 'teacher');
    const newcomer = await client(b, added);
    const incumbent = await client(b, teacher);
    const heard: string[] = [];
    incumbent.on('subject:assigned', ({ subjectId }) => heard.push(subjectId));

    const told = nextEvent(newcomer, 'subject:assigned', undefined, EVENT_MS);
    await setTeachers(nodes, [teacher.id, added.id]);
    expect((await told)[0]).to.deep.equal({ subjectId: subject.id });
    // Packets keep their order: anything sent to the incumbent before this answer has arrived.
    await command(incumbent, 'session:list-active', {});
    expect(heard).to.deep.equal([]);
  });

  it('tells nobody when the teachers stay the same', async () => {
    const nodes = await start();
    const { a, b, teacher, subject, client } = nodes;
    const added = await createUser(a.store, subject.orgId, 'teacher');
    const socket = await client(b, teacher);
    const heard: string[] = [];
    socket.on('subject:assigned', ({ subjectId }) => heard.push(subjectId));
    await setTeachers(nodes, [teacher.id]);
    // Then a real change: its notice leaves node A after any the first would have sent, through
    // the same Redis channel, so once node B delivered it, it had written the first's to the socket.
    const newcomer = await client(b, added);
    const told = nextEvent(newcomer, 'subject:assigned', undefined, EVENT_MS);
    await setTeachers(nodes, [teacher.id, added.id]);
    await told;
    // Packets keep their order: anything sent to the socket before this answer has arrived.
    await command(socket, 'session:list-active', {});
    expect(heard).to.deep.equal([]);
  });
});

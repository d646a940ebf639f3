import { EventEmitter, once } from 'node:events';
import { expect } from 'chai';
import { useEnrolmentNodes } from '../support/enrolment-nodes.js';
import { createUser } from '../support/fixtures.js';
import { useRedis } from '../support/redis-server.js';
import { command, nextEvent, ok } from '../support/sockets.js';

/** Long enough for a loaded machine; every wait below ends at the event it waits for. */
const EVENT_MS = 10_000;

// A student's socket follows their enrolments wherever the change is made: enrolled on node A,
// their socket on node B hears the subject's next session opening without reconnecting (and
// without a live session to list, nothing else would have put it in the subject's room);
// unenrolled, it hears access-lost at once; and the periodic re-check of node B cannot take
// out a student enrolled again after its pass read the enrolments.
describe('enrolment changes reach open sockets on every node (2 nodes)', function () {
  this.timeout(60_000);
  const start = useEnrolmentNodes(useRedis('enrolment-sockets'), { code: 'ES', name: 'Enrolment sockets' });

  it("puts a student enrolled on node A in the subject's room on node B at once: the next session opened reaches them", async () => {
    const { a, b, teacher, student, subject, client, enrolments, open } = await start();
    const phone = await client(b, student);
    // The page listed its sessions before the enrolment: none, and no subject room to join.
    expect(ok(await command(phone, 'session:list-active', {}))).to.deep.equal([]);
    const staff = await client(a, teacher);

    const told = nextEvent(phone, 'subject:enrolled', undefined, EVENT_MS);
    await enrolments('POST', student.id);
    expect((await told)[0]).to.deep.equal({ subjectId: subject.id });

    const opened = nextEvent(phone, 'session:status', (view) => view.subjectId === subject.id && view.status === 'open', EVENT_MS);
    const sessionId = await open(staff);
    expect((await opened)[0].id).to.equal(sessionId);
  });

  it('tells nobody when the students were enrolled already (an import run again)', async () => {
    const { a, b, teacher, student, subject, client, enrolments } = await start();
    await a.store.subjects.enrol(subject.orgId, subject.id, [student.id]);
    const second = await a.store.subjects.create(subject.orgId, {
      code: `${subject.code}B`,
      name: 'Enrolment sockets, second',
      teacherIds: [teacher.id],
      location: null,
      allowedIpRanges: [],
    });
    const phone = await client(b, student);
    const heard: string[] = [];
    phone.on('subject:enrolled', ({ subjectId }) => heard.push(subjectId));
    await enrolments('POST', student.id);
    // Then a real one: its notice leaves node A after any the first would have sent, to the same
    // room, so once it is heard the first's would have been too.
    const told = nextEvent(phone, 'subject:enrolled', ({ subjectId }) => subjectId === second.id, EVENT_MS);
    await enrolments('POST', student.id, second.id);
    await told;
    expect(heard).to.deep.equal([second.id]);
  });

  it("tells a student unenrolled on node A at once on node B (access-lost), and takes them out of the subject's room", async () => {
    const { a, b, teacher, student, subject, client, enrolments, open } = await start();
    await a.store.subjects.enrol(subject.orgId, subject.id, [student.id]);
    const other = await createUser(a.store, subject.orgId, 'student');
    await a.store.subjects.enrol(subject.orgId, subject.id, [other.id]);
    const staff = await client(a, teacher);
    const sessionId = await open(staff);
    const phone = await client(b, student);
    const otherPhone = await client(b, other);
    for (const s of [phone, otherPhone])
      expect(ok(await command(s, 'session:list-active', {})).map((v) => v.id)).to.deep.equal([sessionId]);
    const heard: string[] = [];
    phone.on('session:status', (view) => heard.push(view.id));

    const lost = nextEvent(phone, 'session:access-lost', undefined, EVENT_MS);
    await enrolments('DELETE', student.id);
    expect((await lost)[0]).to.deep.equal({ sessionId, code: 'NOT_ENROLLED' });

    const next = nextEvent(otherPhone, 'session:status', (view) => view.id !== sessionId && view.status === 'open', EVENT_MS);
    await open(staff);
    await next;
    // Packets keep their order: anything sent to the phone before this answer has arrived.
    await command(phone, 'session:list-active', {});
    expect(heard).to.deep.equal([]);
  });

  it("keeps a student enrolled again between node B's re-check read and its removal in the subject's room", async () => {
    const { a, b, teacher, student, subject, client, enrolments, open } = await start({ env: { SOCKET_RECHECK_MS: '100' } });
    await a.store.subjects.enrol(subject.orgId, subject.id, [student.id]);
    const phone = await client(b, student);
    ok(await command(phone, 'session:list-active', {}));
    const staff = await client(a, teacher);

    // Node B's store: each read of the organisation's standing version starts a re-check pass
    // (one a pass: the student's standing itself is kept while the version stands).
    const passes = new EventEmitter();
    const standingVersion = b.store.standingVersions.current.bind(b.store.standingVersions);
    b.store.standingVersions.current = async (orgId) => {
      if (orgId === student.orgId) passes.emit('pass');
      return standingVersion(orgId);
    };
    // The re-check's read of the subject's enrolments that misses the student: before it answers,
    // the student is enrolled again on node A, and that announcement reaches the phone first.
    let raced = false;
    const listEnrolled = b.store.subjects.listEnrolled.bind(b.store.subjects);
    const stale = new Promise<void>((resolve, reject) => {
      b.store.subjects.listEnrolled = async (orgId, subjectId) => {
        const ids = await listEnrolled(orgId, subjectId);
        if (raced || subjectId !== subject.id || ids.includes(student.id)) return ids;
        raced = true;
        try {
          const told = nextEvent(phone, 'subject:enrolled', undefined, EVENT_MS);
          await enrolments('POST', student.id);
          await told;
          resolve();
        } catch (err) {
          reject(err as Error);
        }
        return ids;
      };
    });
    // Unenrolled with no announcement (another process, or a Redis outage on the way to node B).
    await a.store.subjects.unenrol(subject.orgId, subject.id, [student.id]);
    await stale;
    // A pass that starts after the raced one ended: its removal, if any, is done.
    await once(passes, 'pass');

    const lost: string[] = [];
    phone.on('session:access-lost', ({ sessionId }) => lost.push(sessionId));
    const opened = nextEvent(phone, 'session:status', (view) => view.subjectId === subject.id && view.status === 'open', EVENT_MS);
    const sessionId = await open(staff);
    expect((await opened)[0].id).to.equal(sessionId);
    expect(lost).to.deep.equal([]);
  });
});

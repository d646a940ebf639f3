import { expect } from 'chai';
import type { Subject } from '../../src/domain/ports/subjects.js';
import { rooms } from '../../src/shared/events.js';
import { startCuttableRelay, type CuttableRelay } from '../support/cuttable-relay.js';
import { useEnrolmentNodes } from '../support/enrolment-nodes.js';
import { createUser } from '../support/fixtures.js';
import type { TestNode } from '../support/nodes.js';
import { useRedis } from '../support/redis-server.js';
import { command, nextEvent, ok, waitFor, type ClientSocket } from '../support/sockets.js';

/** Long enough for a loaded machine; every wait below ends at the event it waits for. */
const EVENT_MS = 15_000;

// The two gaps in how a student's socket follows their enrolments across nodes: an enrolment
// announced while a node was off Redis (the node catches up once its link is back), and an
// unenrolment announced between session:list-active's read of the student's subjects and its
// join of their rooms (the listing reads the enrolments again after the join).
describe('enrolments through a Redis outage and the list-to-join gap (2 nodes)', function () {
  this.timeout(60_000);
  const suite = useRedis('enrolment-outage');
  let relay: CuttableRelay | null = null;
  const start = useEnrolmentNodes(suite, { code: 'EO', name: 'Enrolment outage' });

  /** Whether `node` holds this client's socket in the subject's room. */
  const inSubjectRoom = (node: TestNode, subject: Subject, s: ClientSocket) => {
    expect(s.id, 'a connected socket has an id').to.be.a('string');
    return (
      node.app.realtime.io
        .of('/')
        .adapter.rooms.get(rooms.subjectStudents(subject.id))
        ?.has(s.id as string) ?? false
    );
  };

  afterEach(async () => {
    await relay?.close();
    relay = null;
  });

  it("an enrolment made while node B was off Redis puts B's student socket in the subject's room once B is back", async () => {
    relay = await startCuttableRelay(suite.redis.url);
    const { a, b, teacher, student, subject, client, enrolments, open } = await start({ redisUrlB: relay.url });
    const phone = await client(b, student);
    // Listed before the enrolment: nothing, and no subject room joined.
    expect(ok(await command(phone, 'session:list-active', {}))).to.deep.equal([]);
    const staff = await client(a, teacher);

    relay.cut();
    await waitFor(() => !b.cluster.fanoutLink.up);
    // Announced by node A while B is not subscribed: lost to B.
    await enrolments('POST', student.id);

    const told = nextEvent(phone, 'subject:enrolled', undefined, EVENT_MS);
    relay.restore();
    expect((await told)[0]).to.deep.equal({ subjectId: subject.id });
    // Without reconnecting, and without listing again: the next session opened reaches the phone.
    const opened = nextEvent(phone, 'session:status', (view) => view.subjectId === subject.id && view.status === 'open', EVENT_MS);
    const sessionId = await open(staff);
    expect((await opened)[0].id).to.equal(sessionId);
  });

  it("the catch-up's join does not stand for a student unenrolled between its read and its join", async () => {
    relay = await startCuttableRelay(suite.redis.url);
    const { a, b, teacher, student, subject, client, enrolments, open } = await start({ redisUrlB: relay.url });
    const other = await createUser(a.store, subject.orgId, 'student');
    await a.store.subjects.enrol(subject.orgId, subject.id, [other.id]);
    const staff = await client(a, teacher);
    const sessionId = await open(staff);
    const phone = await client(b, student);
    const otherPhone = await client(b, other);
    expect(ok(await command(phone, 'session:list-active', {}))).to.deep.equal([]);
    expect(ok(await command(otherPhone, 'session:list-active', {})).map((v) => v.id)).to.deep.equal([sessionId]);
    const heard: string[] = [];
    phone.on('subject:enrolled', ({ subjectId }) => heard.push(subjectId));
    phone.on('session:status', (view) => heard.push(view.id));

    relay.cut();
    await waitFor(() => !b.cluster.fanoutLink.up);
    await enrolments('POST', student.id);

    // Node B's catch-up reads the enrolment; before it joins, the student is unenrolled on node A
    // and that announcement (its leave, then access-lost) reaches node B first.
    const reads: string[][] = [];
    const enrolmentsOf = b.store.subjects.enrolmentsOf.bind(b.store.subjects);
    b.store.subjects.enrolmentsOf = async (orgId, ids) => {
      const found = await enrolmentsOf(orgId, ids);
      reads.push([...ids]);
      if (reads.length > 1 || !ids.includes(student.id)) return found;
      expect(found).to.deep.include({ studentId: student.id, subjectId: subject.id });
      const lost = nextEvent(phone, 'session:access-lost', undefined, EVENT_MS);
      await enrolments('DELETE', student.id);
      expect((await lost)[0]).to.deep.equal({ sessionId, code: 'NOT_ENROLLED' });
      return found;
    };
    relay.restore();
    // The catch-up joined, read again, and left.
    await waitFor(() => reads.length === 2 && !inSubjectRoom(b, subject, phone), EVENT_MS);
    expect(reads[1]).to.deep.equal([student.id]);

    const next = nextEvent(otherPhone, 'session:status', (view) => view.id !== sessionId && view.status === 'open', EVENT_MS);
    await open(staff);
    await next;
    await command(phone, 'session:list-active', {});
    expect(heard).to.deep.equal([]);
  });

  it('a student unenrolled between the listing read of their subjects and its join ends out of the room, hearing nothing more', async () => {
    const { a, b, teacher, student, subject, client, enrolments, open } = await start();
    await a.store.subjects.enrol(subject.orgId, subject.id, [student.id]);
    const other = await createUser(a.store, subject.orgId, 'student');
    await a.store.subjects.enrol(subject.orgId, subject.id, [other.id]);
    const staff = await client(a, teacher);
    const sessionId = await open(staff);
    const phone = await client(b, student);
    const otherPhone = await client(b, other);
    expect(ok(await command(otherPhone, 'session:list-active', {})).map((v) => v.id)).to.deep.equal([sessionId]);

    // Node B's read of the student's subjects answers with the subject; before the listing
    // goes on to join its room, the student is unenrolled on node A, and that announcement
    // (its leave, then access-lost) reaches node B while the phone is not in the room yet.
    let raced = false;
    const list = b.store.subjects.list.bind(b.store.subjects);
    b.store.subjects.list = async (orgId, filter) => {
      const page = await list(orgId, filter);
      if (raced || filter.studentId !== student.id) return page;
      raced = true;
      expect(page.items.map((s) => s.id)).to.deep.equal([subject.id]);
      const lost = nextEvent(phone, 'session:access-lost', undefined, EVENT_MS);
      await enrolments('DELETE', student.id);
      expect((await lost)[0]).to.deep.equal({ sessionId, code: 'NOT_ENROLLED' });
      return page;
    };
    const heard: string[] = [];
    phone.on('session:status', (view) => heard.push(view.id));
    // The listing answers after the unenrolment: without the subject's session, and out of its room.
    expect(ok(await command(phone, 'session:list-active', {}))).to.deep.equal([]);
    expect(raced).to.equal(true);
    expect(inSubjectRoom(b, subject, phone)).to.equal(false);

    const next = nextEvent(otherPhone, 'session:status', (view) => view.id !== sessionId && view.status === 'open', EVENT_MS);
    await open(staff);
    await next;
    // Packets keep their order: anything sent to the phone before this answer has arrived.
    await command(phone, 'session:list-active', {});
    expect(heard).to.deep.equal([]);
  });
});

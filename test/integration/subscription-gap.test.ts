import { expect } from 'chai';
import { Redis } from 'ioredis';
import type { User } from '../../src/domain/ports/users.js';
import type { RosterUpdate } from '../../src/shared/events.js';
import { rooms } from '../../src/shared/events.js';
import { useEnrolmentNodes, type EnrolmentNodes } from '../support/enrolment-nodes.js';
import { createUser } from '../support/fixtures.js';
import { startHeldSubscriber, type HeldSubscriber } from '../support/held-subscriber.js';
import { useRedis } from '../support/redis-server.js';
import { command, nextEvent, ok, onRosterUpdate, waitFor, type ClientSocket } from '../support/sockets.js';

/** The Redis channel of one room's broadcasts (the adapters' `channelPrefix`/`key` and namespace). */
const channelOf = (room: string) => `attendance#/#${room}#`;
/** What the subscriber sends after a subscription to learn that Redis has taken it (confirmed-joins.ts). */
const CHECK = /ping/i;

// A socket that joins a room on node B is answered (its `connect`, a join's acknowledgement)
// only once Redis has taken node B's subscription to that room: what node A sends to the room
// from then on reaches it. Node B's subscriber connection goes through a relay that holds what it
// sends (its SSUBSCRIBE, or at node B's start every subscription), as a slow link would: a push
// sent while it is held was lost, since Redis had no one on node B to give it to.
describe('pushes sent as a socket joins a room on another node (2 nodes, subscription held)', function () {
  this.timeout(60_000);
  const suite = useRedis('subscription-gap');
  let relay: HeldSubscriber;
  let observer: Redis | null = null;
  // Declared before the nodes' hook, so it runs before they close: their QUIT must not wait on the relay.
  afterEach(() => {
    relay.release();
    observer?.disconnect();
    observer = null;
  });
  const nodesOf = useEnrolmentNodes(suite, { code: 'SG', name: 'Subscription gap' });
  /** No periodic re-check (SOCKET_RECHECK_MS=0): it would tell a socket later what the push must tell it now. */
  const start = (opts: { redisUrlB: string; adapter: 'sharded' | 'classic' }) =>
    nodesOf({ redisUrlB: opts.redisUrlB, env: { REDIS_ADAPTER: opts.adapter, SOCKET_RECHECK_MS: '0' } });

  before(async () => {
    relay = await startHeldSubscriber(suite.redis.url, 'attendance:node-B:sub');
  });
  after(async () => {
    await relay.close();
  });

  /** Resolves when Redis has a message on `room`'s channel, i.e. has processed its publication. */
  async function published(room: string, adapter: 'sharded' | 'classic'): Promise<() => Promise<void>> {
    observer = new Redis(suite.redis.url);
    const channel = channelOf(room);
    const seen = new Promise<void>((resolve) => {
      observer!.on(adapter === 'sharded' ? 'smessage' : 'message', (ch: string) => ch === channel && resolve());
    });
    if (adapter === 'sharded') await observer.ssubscribe(channel);
    else await observer.subscribe(channel);
    return () => seen;
  }

  /**
   * Connects `user` to node B while its subscriber is held: answered by node B before Redis took
   * the subscription (the gap), or held until the subscription check is sent, then released.
   */
  async function connectHeld(nodes: EnrolmentNodes, user: User): Promise<ClientSocket> {
    const connecting = nodes.client(nodes.b, user);
    const first = await Promise.race([connecting.then(() => 'connected' as const), relay.holding(CHECK).then(() => 'check' as const)]);
    if (first === 'check') relay.release();
    return connecting;
  }

  /** Two nodes (sharded adapter), the student's phone connected to node B as its subscriber is held. */
  async function studentOnHeldB(): Promise<{ nodes: EnrolmentNodes; phone: ClientSocket }> {
    const nodes = await start({ redisUrlB: relay.url, adapter: 'sharded' });
    relay.hold();
    return { nodes, phone: await connectHeld(nodes, nodes.student) };
  }

  /** Node A's push after a marker of its own to the same room: once the marker arrives, anything sent before it has. */
  async function markerAfter(nodes: EnrolmentNodes, phone: ClientSocket, userId: string): Promise<void> {
    let n = 0;
    await waitFor(async () => {
      n += 1;
      const marker = `marker-${n}`;
      const arrived = nextEvent(phone, 'subject:enrolled', ({ subjectId }) => subjectId === marker, 500).then(
        () => true,
        () => false,
      );
      nodes.a.app.realtime.io.to(rooms.user(userId)).emit('subject:enrolled', { subjectId: marker });
      return arrived;
    });
  }

  /**
   * Node A's push to the student (`push` makes it), then node B's subscriber let through and a
   * marker of node A to the same room: once the marker arrives, the push would have.
   */
  async function pushToStudent(
    nodes: EnrolmentNodes,
    adapter: 'sharded' | 'classic',
    phone: ClientSocket,
    push: () => Promise<void>,
  ): Promise<void> {
    const sent = await published(rooms.user(nodes.student.id), adapter);
    await push();
    // Redis has handled the push: whatever node B had subscribed by now is all it gets.
    await sent();
    relay.release();
    await markerAfter(nodes, phone, nodes.student.id);
  }

  for (const { adapter, at } of [
    { adapter: 'sharded', at: 'join' },
    { adapter: 'sharded', at: 'start' },
    { adapter: 'classic', at: 'start' },
  ] as const) {
    const when = at === 'join' ? "Redis has not taken node B's SSUBSCRIBE of the student's room yet" : 'node B has just started';
    it(`${adapter} adapter, ${when}: a student unenrolled on node A just after connecting to node B is told access-lost`, async () => {
      // Node B's subscriber held from its first subscription: node B started, Redis not yet subscribed it.
      if (at === 'start') relay.hold(/subscribe/i);
      const nodes = await start({ redisUrlB: relay.url, adapter });
      const { a, teacher, student, subject, client, enrolments, open } = nodes;
      await a.store.subjects.enrol(subject.orgId, subject.id, [student.id]);
      const sessionId = await open(await client(a, teacher));
      if (at === 'join') relay.hold();

      const phone = await connectHeld(nodes, student);
      const lost: unknown[] = [];
      phone.on('session:access-lost', (notice) => lost.push(notice));
      await pushToStudent(nodes, adapter, phone, () => enrolments('DELETE', student.id));
      expect(lost).to.deep.equal([{ sessionId, code: 'NOT_ENROLLED' }]);
    });
  }

  it('sharded adapter: a student enrolled on node A just after connecting to node B is told subject:enrolled', async () => {
    const { nodes, phone } = await studentOnHeldB();
    const { student, subject, enrolments } = nodes;
    const enrolled: string[] = [];
    phone.on('subject:enrolled', ({ subjectId }) => enrolled.push(subjectId));
    await pushToStudent(nodes, 'sharded', phone, () => enrolments('POST', student.id));
    expect(enrolled.filter((id) => !id.startsWith('marker-'))).to.deep.equal([subject.id]);
  });

  it('sharded adapter: a student deactivated on node A just after connecting to node B is told why before being disconnected', async () => {
    const { nodes, phone } = await studentOnHeldB();
    const { a, admin, student } = nodes;
    const heard: string[] = [];
    phone.on('auth:revoked', ({ code }) => heard.push(`auth:revoked ${code}`));
    const gone = new Promise<void>((resolve) => phone.once('disconnect', (reason) => (heard.push(reason), resolve())));
    const res = await fetch(`${a.url}/api/v1/users/${student.id}`, {
      method: 'PATCH',
      headers: {
        authorization: `Bearer ${a.app.tokenService.signAccess(admin).token}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ active: false }),
    });
    expect(res.status, await res.clone().text()).to.equal(200);
    // The disconnection travels on the adapter's own channel, subscribed since node B started,
    // after the notice on the student's: the notice first, or never.
    await gone;
    expect(heard).to.deep.equal(['auth:revoked ACCOUNT_DISABLED', 'io server disconnect']);
  });

  it("sharded adapter: a screen that starts watching on node B during node A's burst of changes ends equal to the store", async () => {
    const nodes = await start({ redisUrlB: relay.url, adapter: 'sharded' });
    const { a, b, teacher, subject, client, open } = nodes;
    const students: User[] = [];
    for (let i = 0; i < 6; i += 1) students.push(await createUser(a.store, subject.orgId, 'student'));
    await a.store.subjects.enrol(
      subject.orgId,
      subject.id,
      students.map((s) => s.id),
    );
    const desk = await client(a, teacher);
    const sessionId = await open(desk);
    const screen = await client(b, teacher);
    const updates: RosterUpdate[] = [];
    onRosterUpdate(screen, (u) => updates.push(u));
    const sent = await published(rooms.staff(sessionId), 'sharded');
    relay.hold();

    // Node A marks on and on, until node B's subscription is let through, and a round after.
    let released = false;
    let marks = 0;
    const mark = () => {
      const studentId = students[marks % students.length]!.id;
      const status = Math.floor(marks / students.length) % 2 === 0 ? 'present' : 'excused';
      marks += 1;
      return command(desk, 'checkin:mark', { sessionId, studentId, status });
    };
    const burst = (async () => {
      while (!released) ok(await mark());
      for (let i = 0; i < students.length; i += 1) ok(await mark());
    })();
    const watching = command(screen, 'session:watch', { sessionId });
    const first = await Promise.race([watching.then(() => 'answered' as const), relay.holding(CHECK).then(() => 'check' as const)]);
    // Answered before Redis took the subscription: a change sent now is lost unless the answer waited.
    if (first === 'answered') await sent();
    relay.release();
    released = true;
    const snapshot = ok(await watching);
    await burst;
    // The last change: once the screen has it, it has every one sent before it.
    const final = ok(await command(desk, 'session:watch', { sessionId }));
    await waitFor(() => final.version === snapshot.version || updates.some((u) => u.version === final.version));

    const after = updates.filter((u) => u.version > snapshot.version);
    const expected = Array.from({ length: final.version - snapshot.version }, (_, i) => snapshot.version + 1 + i);
    expect(
      after.map((u) => u.version),
      'every change after the snapshot, none lost',
    ).to.deep.equal(expected);
    const screenView = new Map(snapshot.entries.map((e) => [e.studentId, e.status]));
    for (const u of after) screenView.set(u.entry.studentId, u.entry.status);
    expect(Object.fromEntries(screenView)).to.deep.equal(Object.fromEntries(final.entries.map((e) => [e.studentId, e.status])));
  });
});

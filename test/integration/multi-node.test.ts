import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { createClusterDeps } from '../../src/cluster/cluster-deps.js';
import { connectRedis, RedisUnavailableError } from '../../src/cluster/redis.js';
import { createLogger } from '../../src/logger.js';
import { rooms, type CheckinView, type RosterUpdate } from '../../src/shared/events.js';
import { RosterFeed } from '../../src/web/lib/roster.js';
import type { Store } from '../../src/domain/ports/store.js';
import type { User } from '../../src/domain/ports/users.js';
import { createClass, createOrg, createUser, PASSWORD } from '../support/fixtures.js';
import { useMongo } from '../support/ferretdb.js';
import { testConfig } from '../support/http.js';
import { startNodes, type StartedNodes, type TestNode } from '../support/nodes.js';
import { freePort } from '../../scripts/lib/ports.js';
import { useRedis } from '../support/redis-server.js';
import {
  command,
  connectClient,
  nextEvent,
  nextRosterUpdate,
  ok,
  onRosterUpdate,
  pollUntil,
  waitFor,
  type ClientSocket,
} from '../support/sockets.js';
import { skipBecause } from '../support/skip.js';
import { useNodes } from '../support/use-nodes.js';

const ROOM = { lat: 45.4642, lon: 9.19, radiusM: 60 };
const RATE_PER_MINUTE = 4;
const LOGIN_FREE = 3;

/**
 * A roster screen run by the web pages' own logic (src/web/lib/roster.ts): snapshot, updates by
 * record version, and a fresh snapshot by itself on a version gap or a `roster:resync` notice.
 * The tests never ask it to resync: what it shows is what a projector would show.
 */
class Screen {
  readonly updates: RosterUpdate[] = [];
  readonly feed: RosterFeed;
  snapshots = 0;
  constructor(public socket: ClientSocket) {
    this.feed = new RosterFeed({
      fetchSnapshot: async (sessionId) => {
        this.snapshots += 1;
        return ok(await command(this.socket, 'session:watch', { sessionId }));
      },
      gapWaitMs: 300,
    });
    this.listen(socket);
  }
  private listen(socket: ClientSocket): void {
    onRosterUpdate(socket, (u) => {
      this.updates.push(u);
      this.feed.update(u);
    });
    socket.on('roster:resync', (n) => this.feed.resyncNotice(n));
  }
  /** A reconnection (to another node): the reconnect rule watches again on the new socket. */
  async moveTo(socket: ClientSocket, sessionId: string): Promise<void> {
    this.socket = socket;
    this.listen(socket);
    await this.watch(sessionId);
  }
  /** The first watch of a session (and the reconnect rule); never used to repair a stale roster. */
  watch(sessionId: string): Promise<void> {
    return this.feed.watch(sessionId);
  }
  sawUpdateFor(studentId: string, minRecordVersion = 1): boolean {
    return this.updates.some((u) => u.entry.studentId === studentId && u.entry.recordVersion >= minRecordVersion);
  }
  /** studentId → status of every entry with a record. */
  statuses(): Map<string, string> {
    return new Map(
      this.feed.roster
        .list()
        .filter((e) => e.recordId !== null)
        .map((e) => [e.studentId, e.status]),
    );
  }
}

/** Waits until every screen shows exactly the store's records, then asserts it (for the message). */
async function expectScreensToMatchStore(
  screens: Screen[],
  store: Store,
  orgId: string,
  sessionId: string,
  timeoutMs = 15_000,
): Promise<void> {
  const same = (a: Map<string, string>, b: Map<string, string>) => a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
  // Waits without failing: the assertions below name the screen that differs and how.
  await pollUntil(
    async () => {
      const truth = await storeStatuses(store, orgId, sessionId);
      return screens.every((sc) => same(sc.statuses(), truth));
    },
    timeoutMs,
    50,
  );
  const truth = await storeStatuses(store, orgId, sessionId);
  for (const [i, sc] of screens.entries()) expect(sc.statuses(), `screen ${i}`).to.deep.equal(truth);
}

async function storeStatuses(store: Store, orgId: string, sessionId: string): Promise<Map<string, string>> {
  const records = await store.records.listBySession(orgId, sessionId);
  return new Map(records.map((r) => [r.studentId, r.status]));
}

/**
 * Settles once each socket has received what `node` broadcast to `room` before now: a probe sent
 * the same way (through the cluster adapter, which publishes a one-room broadcast on that room's
 * channel) comes after it, as Redis delivers one connection's messages in order.
 */
async function sentSoFar(node: TestNode, room: string, sockets: ClientSocket[]): Promise<void> {
  const probe = `probe-${randomUUID()}`;
  const heard = sockets.map((s) => new Promise<void>((resolve) => (s as unknown as ProbeSocket).once(probe, () => resolve())));
  (node.app.realtime.io.to(room) as unknown as ProbeSocket).emit(probe);
  await Promise.all(heard);
}

/** The untyped side of a socket or broadcast, for an event the application does not know. */
interface ProbeSocket {
  once(event: string, listener: () => void): unknown;
  emit(event: string): unknown;
}

describe('several nodes behind one Redis (3 nodes, one SQLite file)', function () {
  this.timeout(60_000);
  let fileNo = 0;
  let cluster: StartedNodes | null = null;
  let nodes: TestNode[] = [];
  let orgId = '';
  let teacher: User;
  let students: User[] = [];
  let subjectId = '';
  const sockets: ClientSocket[] = [];

  const token = (u: User) => nodes[0]!.app.tokenService.signAccess(u).token;
  const client = async (node: TestNode, u: User) => {
    const s = await connectClient(node.url, token(u));
    sockets.push(s);
    return s;
  };
  const here = (accuracy = 10) => ({ lat: ROOM.lat, lon: ROOM.lon, accuracy, timestamp: Date.now() });
  const openSession = async (teacherSocket: ClientSocket) =>
    ok(
      await command(teacherSocket, 'session:open', {
        subjectId,
        policy: { geofence: true, rotatingCode: true, network: false, codePeriodS: 60 },
      }),
    ).id;
  const codeVia = async (socket: ClientSocket, sessionId: string) => ok(await command(socket, 'session:code', { sessionId })).code;

  const suite = useRedis('multi-node');

  beforeEach(async () => {
    fileNo += 1;
    cluster = await startNodes(3, {
      redisUrl: suite.redis.url,
      sqlitePath: path.join(suite.dir, `attendance-${fileNo}.db`),
      env: {
        CHECKIN_RATE_PER_MINUTE: String(RATE_PER_MINUTE),
        LOGIN_ACCOUNT_FREE_FAILURES: String(LOGIN_FREE),
        // A first pause longer than any case: a slow machine spreads the 60 concurrent guesses over
        // more than the default second, and one let through after it is back-off, not a lost count.
        LOGIN_BACKOFF_BASE_MS: '600000',
        LOGIN_BACKOFF_MAX_MS: '3600000',
      },
    });
    nodes = cluster.nodes;
    const made = await createClass(nodes[0]!.store, 12, { code: `MN${fileNo}`, location: ROOM });
    ({ teacher, students } = made);
    orgId = made.org.id;
    subjectId = made.subject.id;
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.disconnect();
    await cluster?.cleanup();
    cluster = null;
    // A killed Redis must come back for the next test.
    if (suite.redis.owned) await suite.redis.start();
  });

  it('fans roster updates and decisions out across nodes; a code from A verifies on C', async () => {
    const [a, b, c] = nodes as [TestNode, TestNode, TestNode];
    const teacherA = await client(a, teacher);
    const screen = new Screen(teacherA);
    const sessionId = await openSession(teacherA);
    await screen.watch(sessionId);
    const code = await codeVia(teacherA, sessionId);

    const onB = await client(b, students[0]!);
    const onC = await client(c, students[1]!);
    const pendingOnC = await client(c, students[2]!);
    const rejectedOnC = await client(c, students[3]!);
    for (const s of [onB, onC, pendingOnC, rejectedOnC]) ok(await command(s, 'session:join', { sessionId }));

    expect(ok(await command(onB, 'checkin:submit', { sessionId, location: here(), code })).status).to.equal('present');
    expect(ok(await command(onC, 'checkin:submit', { sessionId, location: here(), code })).status).to.equal('present');
    // An imprecise fix goes to the teacher's review on another node.
    expect(ok(await command(pendingOnC, 'checkin:submit', { sessionId, location: here(150), code })).status).to.equal('pending');
    expect(ok(await command(rejectedOnC, 'checkin:submit', { sessionId, location: here(150), code })).status).to.equal('pending');
    await waitFor(() => [0, 1, 2, 3].every((i) => screen.sawUpdateFor(students[i]!.id)));

    const accepted = nextEvent(pendingOnC, 'checkin:decision', (v: CheckinView) => v.status === 'present');
    const rejected = nextEvent(rejectedOnC, 'checkin:decision', (v: CheckinView) => v.status === 'rejected');
    ok(await command(teacherA, 'checkin:decide', { sessionId, studentId: students[2]!.id, decision: 'accept' }));
    ok(await command(teacherA, 'checkin:decide', { sessionId, studentId: students[3]!.id, decision: 'reject' }));
    expect((await accepted)[0].sessionId).to.equal(sessionId);
    expect((await rejected)[0].sessionId).to.equal(sessionId);

    // The roster versions come from one shared counter: every update has its own version.
    const versions = screen.updates.map((u) => u.version);
    expect(new Set(versions).size).to.equal(versions.length);
    await expectScreensToMatchStore([screen], a.store, orgId, sessionId);
  });

  it("pushes a check-in's decision to the student's devices on other nodes, once each", async () => {
    const [a, b, c] = nodes as [TestNode, TestNode, TestNode];
    const teacherA = await client(a, teacher);
    const sessionId = await openSession(teacherA);
    const code = await codeVia(teacherA, sessionId);
    // One student on two devices, each connected to another node; a classmate on the first node.
    const phone = await client(a, students[0]!);
    const laptop = await client(b, students[0]!);
    const tablet = await client(c, students[0]!);
    const classmate = await client(a, students[1]!);
    const pushes = new Map<ClientSocket, CheckinView[]>([phone, laptop, tablet, classmate].map((s) => [s, []]));
    for (const [s, seen] of pushes) s.on('checkin:decision', (v) => seen.push(v));

    const ack = ok(await command(phone, 'checkin:submit', { sessionId, location: here(), code }));
    expect(ack.status).to.equal('present');
    await waitFor(() => [phone, laptop, tablet].every((s) => pushes.get(s)!.length > 0));
    // A second push, or one to the classmate, was sent by node a before what it sends now to the
    // same rooms: through one Redis connection and channel per room, it arrives first.
    await Promise.all([
      sentSoFar(a, rooms.user(students[0]!.id), [phone, laptop, tablet]),
      sentSoFar(a, rooms.user(students[1]!.id), [classmate]),
    ]);
    expect([phone, laptop, tablet, classmate].map((s) => pushes.get(s))).to.deep.equal([[ack], [ack], [ack], []]);
  });

  it('counts check-in submissions of one student across nodes, with a retry hint', async () => {
    const teacherA = await client(nodes[0]!, teacher);
    const sessionId = await openSession(teacherA);
    const perNode = await Promise.all(nodes.map((n) => client(n, students[0]!)));
    const results = [];
    for (let i = 0; i < RATE_PER_MINUTE + 2; i += 1) {
      // Missing code: rejected with a retry left, so each submission is a real attempt.
      results.push(await command(perNode[i % 3]!, 'checkin:submit', { sessionId, location: here() }));
    }
    const limited = results.filter((r) => !r.ok && r.error.code === 'RATE_LIMITED');
    expect(limited).to.have.length(2);
    const first = limited[0]!;
    if (!first.ok) expect(first.error.details?.['retryAfterMs']).to.be.a('number').above(0);
  });

  it('counts failed logins per account across nodes', async () => {
    const login = (n: TestNode, password: string) =>
      fetch(`${n.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: teacher.email, password }),
      });
    for (const n of nodes) expect((await login(n, 'wrong-password')).status).to.equal(401);
    const limited = await login(nodes[0]!, PASSWORD);
    expect(limited.status).to.equal(429);
    expect(((await limited.json()) as { error: { code: string } }).error.code).to.equal('RATE_LIMITED');
  });

  it('counts concurrent wrong passwords before checking them across nodes; a known device still gets in on another node', async () => {
    const login = (n: TestNode, body: Record<string, unknown>) =>
      fetch(`${n.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: teacher.email, ...body }),
      });
    const first = await login(nodes[0]!, { password: PASSWORD });
    expect(first.status).to.equal(200);
    const { deviceToken } = (await first.json()) as { deviceToken: string };

    const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => login(nodes[i % nodes.length]!, { password: `guess-${i}` })));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 429).length, statuses.join(',')).to.be.at.least(60 - LOGIN_FREE);
    expect((await login(nodes[2]!, { password: PASSWORD })).status).to.equal(429);
    expect((await login(nodes[1]!, { password: PASSWORD, deviceToken })).status).to.equal(200);
  });

  it('survives a node killed mid-session: clients move, nothing acknowledged is lost, rosters converge', async () => {
    const [a, b, c] = nodes as [TestNode, TestNode, TestNode];
    const projector = new Screen(await client(a, teacher));
    const phone = new Screen(await client(c, teacher));
    const sessionId = await openSession(projector.socket);
    await projector.watch(sessionId);
    await phone.watch(sessionId);
    const code = await codeVia(projector.socket, sessionId);
    const home = (i: number) => (i < 6 ? b : c);
    const studentSockets = await Promise.all(students.map((s, i) => client(home(i), s)));
    const acked = new Map<string, string>();
    const submit = async (i: number, timeoutMs?: number) => {
      const ack = await command(studentSockets[i]!, 'checkin:submit', { sessionId, location: here(), code }, timeoutMs);
      if (ack.ok) acked.set(students[i]!.id, ack.data.status);
      return ack;
    };

    for (const i of [0, 1, 2, 3, 6, 7, 8, 9]) ok(await submit(i));
    // In flight while C dies: the acknowledgement may or may not arrive.
    const inFlight = [4, 10].map((i) => submit(i, 2_000).catch(() => null));
    await c.kill();
    await Promise.all(inFlight);

    // Clients of C reconnect through the balancer to the nodes left, and watch / submit again.
    const survivors = [a, b];
    for (let i = 6; i < 12; i += 1) studentSockets[i] = await client(survivors[i % 2]!, students[i]!);
    await phone.moveTo(await client(b, teacher), sessionId);
    // A student whose submission was not acknowledged submits again; resubmitting is idempotent.
    for (const i of [4, 10]) if (!acked.has(students[i]!.id)) ok(await submit(i));
    for (const i of [5, 11]) ok(await submit(i));
    await waitFor(() => [5, 11].every((i) => projector.sawUpdateFor(students[i]!.id) && phone.sawUpdateFor(students[i]!.id)));

    const truth = await storeStatuses(a.store, orgId, sessionId);
    for (const [studentId, status] of acked) expect(truth.get(studentId), studentId).to.equal(status);
    expect(truth.size).to.equal(students.length);
    await expectScreensToMatchStore([projector, phone], a.store, orgId, sessionId);
  });

  it('reports Redis in /readyz: down while it is away, up again after', async function () {
    if (!suite.redis.owned) skipBecause(this, 'stops and restarts Redis: needs its own redis-server, not REDIS_URL');
    const ready = async () => {
      const res = await fetch(`${nodes[0]!.url}/readyz`);
      const body = (await res.json()) as { redis?: { ok: boolean; target?: string } };
      return { status: res.status, redis: body.redis };
    };
    const before = await ready();
    expect(before.status).to.equal(200);
    expect(before.redis?.ok).to.equal(true);
    // Where Redis is stays with the operator (readyz-detail.test.ts).
    expect(before.redis).not.to.have.property('target');
    await suite.redis.kill();
    await waitFor(async () => (await ready()).status === 503, 10_000, 100);
    expect((await ready()).redis?.ok).to.equal(false);
    await suite.redis.start();
    await waitFor(async () => (await ready()).status === 200, 10_000, 100);
  });

  it('survives a Redis restart: acknowledged check-ins stay, fan-out resumes, the screen converges by itself', async function () {
    if (!suite.redis.owned) skipBecause(this, 'stops and restarts Redis: needs its own redis-server, not REDIS_URL');
    const [a, b, c] = nodes as [TestNode, TestNode, TestNode];
    const projector = new Screen(await client(a, teacher));
    const teacherC = await client(c, teacher);
    const sessionId = await openSession(projector.socket);
    await projector.watch(sessionId);
    const code = await codeVia(projector.socket, sessionId);
    const studentSockets = await Promise.all(students.map((s, i) => client(i % 2 === 0 ? b : c, s)));
    const acked = new Map<string, string>();
    const submit = async (i: number) => {
      const ack = await command(studentSockets[i]!, 'checkin:submit', { sessionId, location: here(), code }, 20_000);
      if (ack.ok) acked.set(students[i]!.id, ack.data.status);
      return ack;
    };

    for (const i of [0, 1, 2, 3]) ok(await submit(i));
    await waitFor(() => [0, 1, 2, 3].every((i) => projector.sawUpdateFor(students[i]!.id)));

    // Submissions during the outage are stored and acknowledged without Redis.
    await suite.redis.kill();
    for (const ack of await Promise.all([4, 5].map((i) => submit(i)))) ok(ack);
    await suite.redis.start();

    // Fan-out is back once a teacher's mark on C reaches the screen on A (bounded probe loop).
    const probe = students[11]!;
    let marks = 0;
    await waitFor(
      async () => {
        const seen = nextRosterUpdate(projector.socket, (u: RosterUpdate) => u.entry.studentId === probe.id, 300).then(
          () => true,
          () => false,
        );
        marks += 1;
        ok(await command(teacherC, 'checkin:mark', { sessionId, studentId: probe.id, status: marks % 2 === 1 ? 'excused' : 'present' }));
        return seen;
      },
      15_000,
      0,
    );
    for (const i of [6, 7, 8, 9, 10]) ok(await submit(i));
    await waitFor(() => [6, 7, 8, 9, 10].every((i) => projector.sawUpdateFor(students[i]!.id)));

    const records = await a.store.records.listBySession(orgId, sessionId);
    expect(new Set(records.map((r) => r.studentId)).size).to.equal(records.length);
    const truth = await storeStatuses(a.store, orgId, sessionId);
    for (const [studentId, status] of acked) expect(truth.get(studentId), studentId).to.equal(status);
    // No resync asked for: the screen shows the store because the protocol brought it there.
    await expectScreensToMatchStore([projector], a.store, orgId, sessionId);
  });

  it('roster versions never go back when Redis restarts empty: the next change is above every version seen', async function () {
    if (!suite.redis.owned) skipBecause(this, 'stops and restarts Redis: needs its own redis-server, not REDIS_URL');
    const b = nodes[1]!;
    // Screen and students on one node: the screen sees each update whatever the fan-out does.
    const projector = new Screen(await client(b, teacher));
    const sessionId = await openSession(projector.socket);
    await projector.watch(sessionId);
    const code = await codeVia(projector.socket, sessionId);
    const onB = await Promise.all(students.slice(0, 4).map((s) => client(b, s)));
    for (const s of onB.slice(0, 3)) ok(await command(s, 'checkin:submit', { sessionId, location: here(), code }));
    await waitFor(() => projector.updates.length === 3);
    const before = Math.max(...projector.updates.map((u) => u.version));

    await suite.redis.restart();
    const after = nextRosterUpdate(projector.socket, (u: RosterUpdate) => u.entry.studentId === students[3]!.id, 15_000);
    ok(await command(onB[3]!, 'checkin:submit', { sessionId, location: here(), code }, 15_000));
    const update = await after;
    expect(update.version).to.be.above(before);
    const again = ok(await command(projector.socket, 'session:watch', { sessionId }));
    expect(again.version).to.be.at.least(update.version);
  });

  it('an outage longer than the Redis retries: a stored check-in is acknowledged with its outcome and reaches the screens after', async function () {
    if (!suite.redis.owned) skipBecause(this, 'stops and restarts Redis: needs its own redis-server, not REDIS_URL');
    this.timeout(40_000);
    const [a, b, c] = nodes as [TestNode, TestNode, TestNode];
    const projector = new Screen(await client(a, teacher));
    const phone = new Screen(await client(c, teacher));
    const sessionId = await openSession(projector.socket);
    await projector.watch(sessionId);
    await phone.watch(sessionId);
    const code = await codeVia(projector.socket, sessionId);
    const student = await client(b, students[0]!);

    await suite.redis.kill();
    // Redis stays away until the answer comes: past the data connection's ~9 s of retries,
    // the old code answered INTERNAL for a record it had stored.
    const ack = await command(student, 'checkin:submit', { sessionId, location: here(), code }, 15_000);
    await suite.redis.start();
    expect(ack.ok, JSON.stringify(ack)).to.equal(true);
    if (ack.ok) expect(ack.data.status).to.equal('present');
    const stored = await b.store.records.getForStudent(orgId, sessionId, students[0]!.id);
    expect(stored?.status).to.equal('present');
    // Nobody resyncs by hand: the screens on A and C learn of it once the fan-out is back.
    await waitFor(
      () => projector.statuses().get(students[0]!.id) === 'present' && phone.statuses().get(students[0]!.id) === 'present',
      15_000,
      50,
    );
  });
});

describe('Redis down at start', () => {
  const logger = createLogger('silent');

  it('connectRedis fails fast with a clear error that names the target without its secret', async () => {
    const port = await freePort();
    const url = `redis://:topsecret@127.0.0.1:${port}/0`;
    let caught: unknown = null;
    try {
      await connectRedis(url, 'data', { nodeId: 'test', logger, timeoutMs: 2_000 });
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(RedisUnavailableError);
    const message = (caught as Error).message;
    expect(message).to.include(`127.0.0.1:${port}`);
    expect(message).to.include('ECONNREFUSED');
    expect(message).to.include('refuses to start');
    expect(message).not.to.include('topsecret');
  });

  it('createClusterDeps refuses to build a node without Redis', async () => {
    const port = await freePort();
    const config = testConfig({ REDIS_URL: `redis://127.0.0.1:${port}` });
    let caught: unknown = null;
    try {
      await createClusterDeps(config, logger);
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(RedisUnavailableError);
  });
});

// The production shape: nodes on one MongoDB database (MONGODB_URI's, else FerretDB; skipped,
// saying why, when neither can be had).
describe('two nodes behind one Redis on one MongoDB database', function () {
  this.timeout(60_000);
  const suite = useRedis('multi-node-mongo');
  const server = useMongo();
  const nodes = useNodes(suite);

  it('a session opened on A takes check-ins on both nodes: one roster version each, decisions fan out, screens match the store', async () => {
    const [a, b] = (await nodes.start(2, {
      sqlitePath: '',
      mongoUri: server.mongo.databaseUri('attendance_nodes'),
      env: { CHECKIN_RATE_PER_MINUTE: '100' },
    })) as [TestNode, TestNode];
    const org = await createOrg(a.store);
    const teacher = await createUser(a.store, org.id, 'teacher');
    const students: User[] = [];
    for (let i = 0; i < 10; i += 1) students.push(await createUser(b.store, org.id, 'student'));
    const subject = await a.store.subjects.create(org.id, {
      code: 'MNM',
      name: 'Mongo nodes',
      teacherIds: [teacher.id],
      location: ROOM,
      allowedIpRanges: [],
    });
    await b.store.subjects.enrol(
      org.id,
      subject.id,
      students.map((s) => s.id),
    );
    const client = nodes.client;

    const teacherA = await client(a, teacher);
    const projector = new Screen(teacherA);
    const phone = new Screen(await client(b, teacher));
    const sessionId = ok(
      await command(teacherA, 'session:open', {
        subjectId: subject.id,
        policy: { geofence: true, rotatingCode: true, network: false, codePeriodS: 60 },
      }),
    ).id;
    await projector.watch(sessionId);
    await phone.watch(sessionId);
    const code = ok(await command(teacherA, 'session:code', { sessionId })).code;
    const here = (accuracy: number) => ({ lat: ROOM.lat, lon: ROOM.lon, accuracy, timestamp: Date.now() });

    // Half the class on each node, all at once: the shared counter hands out each version once.
    const studentSockets = await Promise.all(students.map((s, i) => client(i % 2 === 0 ? a : b, s)));
    for (const s of studentSockets) ok(await command(s, 'session:join', { sessionId }));
    const views = await Promise.all(
      studentSockets.map(async (s, i) => ok(await command(s, 'checkin:submit', { sessionId, location: here(i < 8 ? 10 : 150), code }))),
    );
    expect(views.map((v) => v.status)).to.deep.equal([...Array(8).fill('present'), 'pending', 'pending']);

    // The teacher on B decides the two pending check-ins of students on A and B.
    const accepted = nextEvent(studentSockets[8]!, 'checkin:decision', (v: CheckinView) => v.status === 'present');
    const rejected = nextEvent(studentSockets[9]!, 'checkin:decision', (v: CheckinView) => v.status === 'rejected');
    ok(await command(phone.socket, 'checkin:decide', { sessionId, studentId: students[8]!.id, decision: 'accept' }));
    ok(await command(phone.socket, 'checkin:decide', { sessionId, studentId: students[9]!.id, decision: 'reject' }));
    await accepted;
    await rejected;
    await waitFor(() => students.every((s) => projector.sawUpdateFor(s.id) && phone.sawUpdateFor(s.id)));

    for (const screen of [projector, phone]) {
      const versions = screen.updates.map((u) => u.version);
      expect(new Set(versions).size, 'roster versions handed out once each').to.equal(versions.length);
    }
    const session = await b.store.sessions.get(org.id, sessionId);
    expect(session!.rosterVersion).to.equal(12);
    await expectScreensToMatchStore([projector, phone], b.store, org.id, sessionId);
  });
});

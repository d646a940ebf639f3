import { expect } from 'chai';
import path from 'node:path';
import { CLOCK_SKEW_LIMIT_MS } from '../../src/cluster/node-registry.js';
import type { CheckinView, SessionView } from '../../src/shared/events.js';
import { startCuttableRelay, type CuttableRelay } from '../support/cuttable-relay.js';
import { createClass } from '../support/fixtures.js';
import { startNodes, type StartedNodes, type TestNode } from '../support/nodes.js';
import { useRedis } from '../support/redis-server.js';
import { command, connectClient, nextEvent, ok, waitFor, type ClientSocket } from '../support/sockets.js';

/** Long enough for a loaded machine; every wait below ends at the event it waits for. */
const EVENT_MS = 20_000;
const ROOM = { lat: 45.4642, lon: 9.19, radiusM: 60 };
const POLICY = { geofence: true, rotatingCode: true, network: false, codePeriodS: 60 };

// Node A alone loses Redis (a cut between it and Redis; node B and Redis stay up): the teacher
// on A decides the check-ins of students whose phones are on B, and closes the session. A's
// pushes reach only A's sockets meanwhile, and B's link never went down, so B has no outage of
// its own to catch up from. Once A is back it asks the other nodes to catch their students up.
describe('fault: one node alone off Redis while its teacher decides, students on another node', function () {
  this.timeout(90_000);
  const suite = useRedis('fault-redis-one-node-students');
  /** Node A's relay to Redis, and node B's when the test cuts B too. */
  let relay: CuttableRelay | null = null;
  let relayB: CuttableRelay | null = null;
  const clusters: StartedNodes[] = [];
  const sockets: ClientSocket[] = [];
  let fileNo = 0;

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.disconnect();
    for (const c of clusters.splice(0)) await c.cleanup();
    await relay?.close();
    await relayB?.close();
    relay = null;
    relayB = null;
  });

  /**
   * Node A through a relay that the test can cut, node B straight on the suite's Redis (or
   * through a relay of its own with `cuttableB`), one SQLite file.
   */
  async function twoNodes(adapter: 'sharded' | 'classic', cuttableB = false): Promise<{ a: TestNode; b: TestNode }> {
    fileNo += 1;
    relay = await startCuttableRelay(suite.redis.url);
    if (cuttableB) relayB = await startCuttableRelay(suite.redis.url);
    const sqlitePath = path.join(suite.dir, `attendance-${fileNo}.db`);
    const first = await startNodes(1, { redisUrl: relay.url, sqlitePath, env: { REDIS_ADAPTER: adapter } });
    clusters.push(first);
    const second = await startNodes(1, {
      redisUrl: relayB?.url ?? suite.redis.url,
      sqlitePath,
      env: { REDIS_ADAPTER: adapter, NODE_ID: 'node-B', JWT_SECRET: first.jwtSecret },
    });
    clusters.push(second);
    return { a: first.nodes[0]!, b: second.nodes[0]! };
  }

  for (const adapter of ['sharded', 'classic'] as const) {
    it(`tells B's students A's decisions and close once A is back (${adapter} adapter)`, async () => {
      const { a, b } = await twoNodes(adapter);
      const { teacher, students, subject } = await createClass(a.store, 3, { code: `ON${fileNo}`, location: ROOM });
      const [accepted, rejected, present] = students as [(typeof students)[0], (typeof students)[0], (typeof students)[0]];
      const client = async (node: TestNode, user: (typeof students)[0]) => {
        const s = await connectClient(node.url, a.app.tokenService.signAccess(user).token);
        sockets.push(s);
        return s;
      };
      const here = (accuracy: number) => ({ lat: ROOM.lat, lon: ROOM.lon, accuracy, timestamp: Date.now() });

      const console = await client(a, teacher);
      const session = ok(await command(console, 'session:open', { subjectId: subject.id, policy: POLICY }));
      const code = ok(await command(console, 'session:code', { sessionId: session.id })).code;
      const phones = await Promise.all([accepted, rejected, present].map((s) => client(b, s)));
      const [acceptedPhone, rejectedPhone, presentPhone] = phones as [ClientSocket, ClientSocket, ClientSocket];
      for (const p of phones) ok(await command(p, 'session:join', { sessionId: session.id }));
      // Each submission's own push goes through Redis: heard before the cut.
      const own = phones.map((p) => nextEvent(p, 'checkin:decision', undefined, EVENT_MS));
      // An imprecise fix goes to the teacher's review; a precise one is present at once.
      for (const p of [acceptedPhone, rejectedPhone]) {
        expect(ok(await command(p, 'checkin:submit', { sessionId: session.id, location: here(150), code })).status).to.equal('pending');
      }
      expect(ok(await command(presentPhone, 'checkin:submit', { sessionId: session.id, location: here(10), code })).status).to.equal(
        'present',
      );

      await Promise.all(own);
      // Every push each phone gets from now on, in order.
      const decisions: CheckinView[][] = phones.map(() => []);
      const statuses: SessionView[][] = phones.map(() => []);
      phones.forEach((p, i) => {
        p.on('checkin:decision', (v) => decisions[i]!.push(v));
        p.on('session:status', (v) => statuses[i]!.push(v));
      });

      relay!.cut();
      await waitFor(() => !a.cluster.fanoutLink.up, EVENT_MS);
      expect(b.cluster.fanoutLink.up, "node B's link stays up").to.equal(true);
      // Stored on A and acknowledged; A's pushes reach only A's sockets now.
      ok(await command(console, 'checkin:decide', { sessionId: session.id, studentId: accepted.id, decision: 'accept' }));
      ok(await command(console, 'checkin:decide', { sessionId: session.id, studentId: rejected.id, decision: 'reject' }));
      ok(await command(console, 'session:close', { sessionId: session.id }));
      // B's phones heard none of it during the cut (the gap this test is about).
      expect(decisions.flat()).to.deep.equal([]);
      expect(statuses.flat()).to.deep.equal([]);

      const decided = nextEvent(acceptedPhone, 'checkin:decision', (v) => v.sessionId === session.id && v.status === 'present', EVENT_MS);
      const refused = nextEvent(rejectedPhone, 'checkin:decision', (v) => v.sessionId === session.id && v.status !== 'pending', EVENT_MS);
      const ended = phones.map((p) => nextEvent(p, 'session:status', (v) => v.id === session.id && v.status === 'closed', EVENT_MS));
      relay!.restore();
      await decided;
      await refused;
      await Promise.all(ended);

      // Without a rejoin before: each phone was told its own record as the store holds it (the
      // rejected check-in became absent at the close), and the session closed.
      for (const [i, phone] of phones.entries()) {
        const joined = ok(await command(phone, 'session:join', { sessionId: session.id }));
        expect(joined.session.status).to.equal('closed');
        const told = decisions[i]!;
        if (i === 2) {
          // The present student's record did not change; a push of it (a change within the
          // clock-skew allowance before the cut) can only repeat it.
          for (const view of told) expect(view).to.deep.equal(joined.checkin);
          continue;
        }
        expect(told.length, `phone ${i} told its record`).to.be.greaterThan(0);
        expect(told.at(-1)).to.deep.equal(joined.checkin);
      }
      expect(decisions[1]!.at(-1)!.status).to.be.oneOf(['rejected', 'absent']);
    });
  }
  it("tells B's students what A changed before B's own outage began, when A came back while B was still cut", async () => {
    const { a, b } = await twoNodes('sharded', true);
    const { teacher, students, subject } = await createClass(a.store, 1, { code: `ON${fileNo}`, location: ROOM });
    const student = students[0]!;
    const token = (u: typeof teacher) => a.app.tokenService.signAccess(u).token;
    const console = await connectClient(a.url, token(teacher));
    const phone = await connectClient(b.url, token(student));
    sockets.push(console, phone);
    const session = ok(await command(console, 'session:open', { subjectId: subject.id, policy: POLICY }));
    const code = ok(await command(console, 'session:code', { sessionId: session.id })).code;
    ok(await command(phone, 'session:join', { sessionId: session.id }));
    const submitted = nextEvent(phone, 'checkin:decision', (v) => v.status === 'pending', EVENT_MS);
    const here = { lat: ROOM.lat, lon: ROOM.lon, accuracy: 150, timestamp: Date.now() };
    expect(ok(await command(phone, 'checkin:submit', { sessionId: session.id, location: here, code })).status).to.equal('pending');
    // The submission's own push, through Redis: heard before the cut.
    await submitted;
    const decisions: CheckinView[] = [];
    phone.on('checkin:decision', (v) => decisions.push(v));

    relay!.cut();
    await waitFor(() => !a.cluster.fanoutLink.up, EVENT_MS);
    ok(await command(console, 'checkin:decide', { sessionId: session.id, studentId: student.id, decision: 'accept' }));
    // B's own outage begins well after the decision: more than the clock-skew allowance its own
    // catch-up reads back from, so that only A's answer can bring the decision to B's phone.
    await new Promise((resolve) => setTimeout(resolve, CLOCK_SKEW_LIMIT_MS + 2_000));
    relayB!.cut();
    await waitFor(() => !b.cluster.fanoutLink.up, EVENT_MS);
    // A is back while B is still cut: its request reaches no one.
    relay!.restore();
    await waitFor(() => a.cluster.fanoutLink.up, EVENT_MS);
    expect(decisions).to.deep.equal([]);

    const decided = nextEvent(phone, 'checkin:decision', (v) => v.sessionId === session.id && v.status === 'present', EVENT_MS);
    relayB!.restore();
    const [view] = await decided;
    const joined = ok(await command(phone, 'session:join', { sessionId: session.id }));
    expect(view).to.deep.equal(joined.checkin);
  });
});

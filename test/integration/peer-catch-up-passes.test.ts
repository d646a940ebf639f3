import { expect } from 'chai';
import path from 'node:path';
import { PEER_ANSWER_MS } from '../../src/realtime/peer-catch-up.js';
import type { SessionView } from '../../src/shared/events.js';
import { startCuttableRelay, type CuttableRelay } from '../support/cuttable-relay.js';
import { createClass } from '../support/fixtures.js';
import { startHeldSubscriber, type HeldSubscriber } from '../support/held-subscriber.js';
import { startNodes, type StartedNodes, type TestNode } from '../support/nodes.js';
import { useRedis } from '../support/redis-server.js';
import { command, connectClient, nextEvent, ok, waitFor, type ClientSocket } from '../support/sockets.js';

/** Long enough for a loaded machine; every wait below ends at the event it waits for. */
const EVENT_MS = 20_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Counts a node's catch-up passes: each reads what changed once per session its students joined (one here). */
function countPasses(node: TestNode): { passes: number } {
  const counter = { passes: 0 };
  const sessions = node.app.attendance.sessions;
  const read = sessions.changedForStudents.bind(sessions);
  sessions.changedForStudents = (...args) => {
    counter.passes += 1;
    return read(...args);
  };
  return counter;
}

// The students' catch-up across nodes (src/realtime/peer-catch-up.ts, enrolment-catch-up.ts)
// against a redis-server of the suite's own: a full Redis restart makes one catch-up pass per
// node, however many nodes ask; and a request one node did not answer in time is sent again,
// answered, and told to that node's students once.
describe('students catch-up across nodes: passes per outage and the retried request', function () {
  this.timeout(120_000);
  const suite = useRedis('peer-catch-up-passes');
  const clusters: StartedNodes[] = [];
  const sockets: ClientSocket[] = [];
  const relays: { close(): Promise<void> }[] = [];
  let fileNo = 0;

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.disconnect();
    for (const c of clusters.splice(0)) await c.cleanup();
    for (const r of relays.splice(0)) await r.close();
  });

  it('a full Redis restart: three nodes back, each makes one pass, and every phone is told the close', async () => {
    fileNo += 1;
    const sqlitePath = path.join(suite.dir, `attendance-${fileNo}.db`);
    const cluster = await startNodes(3, { redisUrl: suite.redis.url, sqlitePath });
    clusters.push(cluster);
    const nodes = cluster.nodes;
    const { teacher, students, subject } = await createClass(nodes[0]!.store, 3, { code: `RS${fileNo}` });
    const token = (u: typeof teacher) => nodes[0]!.app.tokenService.signAccess(u).token;
    const console = await connectClient(nodes[0]!.url, token(teacher));
    sockets.push(console);
    const session = ok(await command(console, 'session:open', { subjectId: subject.id }));
    // One phone on each node, in the session's room.
    const phones = await Promise.all(nodes.map((n, i) => connectClient(n.url, token(students[i]!))));
    sockets.push(...phones);
    for (const p of phones) ok(await command(p, 'session:join', { sessionId: session.id }));
    const counters = nodes.map(countPasses);

    await suite.redis.kill();
    await waitFor(() => nodes.every((n) => !n.cluster.fanoutLink.up), EVENT_MS);
    // Closed during the outage: node 0's push reaches its own phone only.
    const closed = phones.map((p) =>
      nextEvent(p, 'session:status', (v: SessionView) => v.id === session.id && v.status === 'closed', EVENT_MS),
    );
    ok(await command(console, 'session:close', { sessionId: session.id }));
    await suite.redis.start();
    await waitFor(() => nodes.every((n) => n.cluster.fanoutLink.up), EVENT_MS);
    await Promise.all(closed);
    // Node 0's own phone heard the close directly, not through its pass: wait for every node's
    // pass (bounded) rather than count on the sleep below to have covered a late one.
    await waitFor(() => counters.every((c) => c.passes > 0), EVENT_MS);
    // Long enough for a request some node did not answer to be sent again and heard (an absence).
    await sleep(2 * PEER_ANSWER_MS + 2_000);
    expect(counters.map((c) => c.passes)).to.deep.equal([1, 1, 1]);
  });

  it('a request node B did not answer in time is sent again; B answers it, its phone told once', async () => {
    fileNo += 1;
    const relay: CuttableRelay = await startCuttableRelay(suite.redis.url);
    relays.push(relay);
    // Node B's connections go through a relay that can hold what its publisher sends: its answers.
    const held: HeldSubscriber = await startHeldSubscriber(suite.redis.url, 'attendance:node-B:pub');
    relays.push(held);
    const sqlitePath = path.join(suite.dir, `attendance-${fileNo}.db`);
    const logs: string[] = [];
    const first = await startNodes(1, { redisUrl: relay.url, sqlitePath, log: (_node, line) => logs.push(line) });
    clusters.push(first);
    const second = await startNodes(1, { redisUrl: held.url, sqlitePath, env: { NODE_ID: 'node-B', JWT_SECRET: first.jwtSecret } });
    clusters.push(second);
    const [a, b] = [first.nodes[0]!, second.nodes[0]!];
    const { teacher, students, subject } = await createClass(a.store, 1, { code: `RT${fileNo}` });
    const token = (u: typeof teacher) => a.app.tokenService.signAccess(u).token;
    const console = await connectClient(a.url, token(teacher));
    const phone = await connectClient(b.url, token(students[0]!));
    sockets.push(console, phone);
    const session = ok(await command(console, 'session:open', { subjectId: subject.id }));
    ok(await command(phone, 'session:join', { sessionId: session.id }));
    const counter = countPasses(b);
    const heard: unknown[] = [];
    b.app.realtime.io.on('students:catch-up', (request: unknown) => heard.push(request));

    relay.cut();
    await waitFor(() => !a.cluster.fanoutLink.up, EVENT_MS);
    ok(await command(console, 'session:close', { sessionId: session.id }));
    const closed = nextEvent(phone, 'session:status', (v: SessionView) => v.id === session.id && v.status === 'closed', EVENT_MS);
    held.hold();
    relay.restore();
    // B hears the first attempt and tells its phone; its answer waits in the held relay.
    await closed;
    await waitFor(() => logs.some((l) => l.includes('sending it again')), 2 * PEER_ANSWER_MS);
    held.release();
    await waitFor(() => heard.length === 2, 2 * PEER_ANSWER_MS);
    await sleep(1_000);
    expect(heard[0]).to.deep.equal(heard[1]);
    expect(counter.passes, 'one pass for both attempts').to.equal(1);
    expect(logs.filter((l) => l.includes('request lost'))).to.deep.equal([]);
    expect(b.cluster.fanoutLink.up).to.equal(true);
  });
});

import { expect } from 'chai';
import { seedBenchClass, startBenchNode, type BenchClass, type BenchNode } from '../../scripts/lib/bench-node.js';
import { repoRoot } from '../../scripts/lib/repo-root.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { startFailoverBalancer, type FailoverBalancer } from '../support/failover-balancer.js';
import { deliver, newPhone, screen, shownRoster, type AppSocket, type Phone } from '../support/page-clients.js';
import { useRedis } from '../support/redis-server.js';
import { command, ok, pollUntil, waitFor } from '../support/sockets.js';

const STUDENTS = 40;
/** Checked in before Redis stops, during the outage, and after it is back. */
const BEFORE = 10;
const DURING = 20;
/** How long Redis stays away: past ioredis's first retries, as a restart of the service takes. */
const OUTAGE_MS = 8_000;
/** "At once": what an acknowledgement may take during the outage on a loaded test machine. */
const AT_ONCE_MS = 3_000;

const root = repoRoot(import.meta.url);

// docs/multi-node.md "Redis restarts or is away for long": check-ins during the outage are stored
// and acknowledged at once with their outcome; /readyz says Redis is down, then up; the screens of
// the other node get them through `roster:resync` once the links are back, with no manual resync;
// nothing doubled. Two node processes, a real redis-server stopped (SIGKILL) for 8 s and started
// again empty, clients through a balancer as the pages make them.
describe('Redis stopped for 8 s under a live session (two node processes)', function () {
  this.timeout(90_000);
  const suite = useRedis('redis-stopped-nodes');
  let bench: BenchClass | null = null;
  const nodes: BenchNode[] = [];
  let balancer: FailoverBalancer | null = null;
  const sockets: AppSocket[] = [];

  after(async () => {
    for (const n of nodes) {
      if (n.child.exitCode === null && n.child.signalCode === null) n.child.kill('SIGKILL');
    }
    for (const s of sockets) s.disconnect();
    await balancer?.close();
    bench?.remove();
  });

  it('acknowledges check-ins at once meanwhile, says so on /readyz, and both screens end equal to the store', async () => {
    bench = await seedBenchClass('redis-stopped-nodes', STUDENTS, { CHECKIN_RATE_PER_MINUTE: '600', REDIS_URL: suite.redis.url });
    const { env, students, teacher, subject, tokens } = bench;
    const [a, b] = await Promise.all(['a', 'b'].map((id) => startBenchNode(root, { ...env, NODE_ID: id })));
    nodes.push(a!, b!);
    const portOf = (n: BenchNode) => Number(new URL(n.url).port);
    balancer = await startFailoverBalancer([portOf(a!), portOf(b!)]);
    const url = `http://127.0.0.1:${balancer.port}`;
    const readyz = async (n: BenchNode) => {
      const res = await fetch(`${n.url}/readyz`);
      return { status: res.status, redis: ((await res.json()) as { redis?: { ok: boolean } }).redis?.ok };
    };

    let sessionId: string | null = null;
    // The balancer takes turns: the projector lands on A, the teacher's phone on B.
    const projector = screen(url, tokens.signAccess(teacher).token, () => sessionId);
    sockets.push(projector.socket);
    await waitFor(() => projector.socket.connected);
    const teacherPhone = screen(url, tokens.signAccess(teacher).token, () => sessionId);
    sockets.push(teacherPhone.socket);
    await waitFor(() => teacherPhone.socket.connected);
    const sid = ok(
      await command(projector.socket, 'session:open', { subjectId: subject.id, policy: { geofence: true, rotatingCode: false } }),
    ).id;
    sessionId = sid;
    await Promise.all([projector.feed.watch(sid), teacherPhone.feed.watch(sid)]);

    const phones: Phone[] = students.map((s) => newPhone(url, tokens.signAccess(s).token, () => sid));
    sockets.push(...phones.map((p) => p.socket));
    await waitFor(() => phones.every((p) => p.socket.connected));
    await Promise.all(phones.slice(0, BEFORE).map((p) => deliver(p, sid)));

    await suite.redis.kill();
    const stoppedAt = Date.now();
    // During the outage: each check-in stored and answered at once, on both nodes.
    const during = phones.slice(BEFORE, BEFORE + DURING);
    const took = await Promise.all(
      during.map(async (p) => {
        const t = Date.now();
        await deliver(p, sid);
        return Date.now() - t;
      }),
    );
    expect(Date.now() - stoppedAt, 'the outage outlasted the check-ins').to.be.below(OUTAGE_MS);
    expect(Math.max(...took), 'slowest acknowledgement during the outage (ms)').to.be.below(AT_ONCE_MS);
    expect(during.every((p) => p.submissions === 1 && p.answer?.status === 'present')).to.equal(true);
    const down = await Promise.all([readyz(a!), readyz(b!)]);
    expect(down, '/readyz of A and B during the outage').to.deep.equal([
      { status: 503, redis: false },
      { status: 503, redis: false },
    ]);
    // No phone was cut by the outage.
    expect(phones.filter((p) => p.disconnects > 0).length).to.equal(0);

    await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - stoppedAt))));
    await suite.redis.start();
    expect(
      await pollUntil(async () => (await Promise.all([readyz(a!), readyz(b!)])).every((r) => r.status === 200), 20_000, 250),
      '/readyz of both nodes ready again',
    ).to.equal(true);
    await Promise.all(phones.slice(BEFORE + DURING).map((p) => deliver(p, sid)));

    const store = await createSqliteStore({ path: bench.dbPath });
    try {
      const records = await store.records.listBySession(bench.org.id, sid);
      const submitted = (await store.audit.listForSession(bench.org.id, sid)).filter((e) => e.action === 'checkin.submit');
      expect(records.length).to.equal(STUDENTS);
      expect(submitted.length, "'checkin.submit' audit entries").to.equal(STUDENTS);
      const byStudent = new Map(records.map((r) => [r.studentId, r]));
      for (const [i, p] of phones.entries()) expect(p.answer?.recordId, `student ${i}`).to.equal(byStudent.get(students[i]!.id)?.id);

      // Neither screen was told to resync by the test: the nodes' roster:resync did it.
      const truth = new Map(records.map((r) => [r.studentId, `${r.status}@${r.version}`]));
      const same = (m: Map<string, string>) => m.size === truth.size && [...m].every(([k, v]) => truth.get(k) === v);
      await pollUntil(() => same(shownRoster(projector.feed)) && same(shownRoster(teacherPhone.feed)), 20_000, 50);
      expect(shownRoster(projector.feed), 'the projector on A').to.deep.equal(truth);
      expect(shownRoster(teacherPhone.feed), "the teacher's phone on B").to.deep.equal(truth);
    } finally {
      await store.close();
    }
  });
});

import { expect } from 'chai';
import type { BenchNode } from '../../scripts/lib/bench-node.js';
import { expectScreensEqual, openWatched, readSession, useBalancedNodes } from '../support/balanced-nodes.js';
import { deliver, newPhone, type Phone } from '../support/page-clients.js';
import { useRedis } from '../support/redis-server.js';
import { pollUntil, waitFor } from '../support/sockets.js';

const STUDENTS = 40;
/** Checked in before Redis stops, during the outage, and after it is back. */
const BEFORE = 10;
const DURING = 20;
/** How long Redis stays away: past ioredis's first retries, as a restart of the service takes. */
const OUTAGE_MS = 8_000;
/** "At once": what an acknowledgement may take during the outage on a loaded test machine. */
const AT_ONCE_MS = 3_000;

// docs/multi-node.md "Redis restarts or is away for long": check-ins during the outage are stored
// and acknowledged at once with their outcome; /readyz says Redis is down, then up; the screens of
// the other node get them through `roster:resync` once the links are back, with no manual resync;
// nothing doubled. Two node processes, a real redis-server stopped (SIGKILL) for 8 s and started
// again empty, clients through a balancer as the pages make them.
describe('Redis stopped for 8 s under a live session (two node processes)', function () {
  this.timeout(90_000);
  const suite = useRedis('redis-stopped-nodes');
  const start = useBalancedNodes(suite);

  it('acknowledges check-ins at once meanwhile, says so on /readyz, and both screens end equal to the store', async () => {
    const nodes = await start('redis-stopped-nodes', STUDENTS, { CHECKIN_RATE_PER_MINUTE: '600' });
    const { bench, a, b, url } = nodes;
    const { students, tokens } = bench;
    const readyz = async (n: BenchNode) => {
      const res = await fetch(`${n.url}/readyz`);
      return { status: res.status, redis: ((await res.json()) as { redis?: { ok: boolean } }).redis?.ok };
    };

    // The balancer takes turns: the projector lands on A, the teacher's phone on B.
    const watched = await openWatched(nodes, { geofence: true, rotatingCode: false });
    const sid = watched.sessionId;

    const phones: Phone[] = students.map((s) => newPhone(url, tokens.signAccess(s).token, () => sid));
    nodes.keep(...phones.map((p) => p.socket));
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
    const down = await Promise.all([readyz(a), readyz(b)]);
    expect(down, '/readyz of A and B during the outage').to.deep.equal([
      { status: 503, redis: false },
      { status: 503, redis: false },
    ]);
    // No phone was cut by the outage.
    expect(phones.filter((p) => p.disconnects > 0).length).to.equal(0);

    await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - stoppedAt))));
    await suite.redis.start();
    expect(
      await pollUntil(async () => (await Promise.all([readyz(a), readyz(b)])).every((r) => r.status === 200), 20_000, 250),
      '/readyz of both nodes ready again',
    ).to.equal(true);
    await Promise.all(phones.slice(BEFORE + DURING).map((p) => deliver(p, sid)));

    const { records, submitted } = await readSession(bench, sid);
    expect(records.length).to.equal(STUDENTS);
    expect(submitted, "'checkin.submit' audit entries").to.equal(STUDENTS);
    const byStudent = new Map(records.map((r) => [r.studentId, r]));
    for (const [i, p] of phones.entries()) expect(p.answer?.recordId, `student ${i}`).to.equal(byStudent.get(students[i]!.id)?.id);

    // Neither screen was told to resync by the test: the nodes' roster:resync did it.
    await expectScreensEqual(watched, records, ['the projector on A', "the teacher's phone on B"]);
  });
});

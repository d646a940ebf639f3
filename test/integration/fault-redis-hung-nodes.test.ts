import { expect } from 'chai';
import type { BenchNode } from '../../scripts/lib/bench-node.js';
import { expectScreensEqual, openWatched, readSession, useBalancedNodes } from '../support/balanced-nodes.js';
import { ANSWER_WAIT_MS, deliver, newPhone, type Phone } from '../support/page-clients.js';
import { useRedis } from '../support/redis-server.js';
import { skipBecause } from '../support/skip.js';
import { pollUntil, waitFor } from '../support/sockets.js';

const STUDENTS = 40;
/** Checked in before Redis hangs, during the hang, and after it answers again. */
const BEFORE = 10;
const DURING = 20;
/** How long Redis stays hung (SIGSTOP): longer than a phone waits for its answer. */
const HANG_MS = 10_000;
/** What a node's liveness answer may take while Redis hangs: the event loop is not blocked. */
const ALIVE_MS = 1_000;

// docs/multi-node.md "Redis hangs": a Redis that stops answering without closing its connections
// (SIGSTOP; a stalled host) makes commands wait instead of failing. Every check-in during the hang
// is still answered within the page's answer wait (stored and acknowledged; the rate limit counted
// in memory once Redis is late by REDIS_COMMAND_TIMEOUT_MS), the nodes stay responsive, and once
// Redis continues the screens of both nodes converge to the store by themselves, nothing doubled.
// RATE_LIMIT_LOCAL_SHARE=0 makes every command and check-in ask Redis, so none is spared the hang.
describe('Redis hung (SIGSTOP) for 10 s under a live session (two node processes)', function () {
  this.timeout(90_000);
  const suite = useRedis('redis-hung-nodes');
  const start = useBalancedNodes(suite);

  before(function () {
    if (process.platform !== 'linux') this.skip();
  });

  it('answers every check-in within the answer wait, stays live, and both screens end equal to the store', async function () {
    if (!suite.redis.owned) skipBecause(this, 'hangs Redis (SIGSTOP): needs its own redis-server, not REDIS_URL');
    const nodes = await start('redis-hung-nodes', STUDENTS, { CHECKIN_RATE_PER_MINUTE: '600', RATE_LIMIT_LOCAL_SHARE: '0' });
    const { bench, a, b, url } = nodes;
    const { students, tokens } = bench;
    const timed = async (n: BenchNode, path: string) => {
      const t = Date.now();
      const res = await fetch(`${n.url}${path}`);
      await res.arrayBuffer();
      return { status: res.status, ms: Date.now() - t };
    };

    const watched = await openWatched(nodes, { geofence: true, rotatingCode: false });
    const sid = watched.sessionId;
    const phones: Phone[] = students.map((s) => newPhone(url, tokens.signAccess(s).token, () => sid));
    nodes.keep(...phones.map((p) => p.socket));
    await waitFor(() => phones.every((p) => p.socket.connected));
    await Promise.all(phones.slice(0, BEFORE).map((p) => deliver(p, sid)));

    suite.redis.pause();
    const hungAt = Date.now();
    try {
      const during = phones.slice(BEFORE, BEFORE + DURING);
      const took = await Promise.all(
        during.map(async (p) => {
          const t = Date.now();
          await deliver(p, sid);
          return Date.now() - t;
        }),
      );
      expect(Date.now() - hungAt, 'the hang outlasted the check-ins').to.be.below(HANG_MS);
      expect(Math.max(...took), 'slowest acknowledgement while Redis hangs (ms)').to.be.below(ANSWER_WAIT_MS);
      // Answered, not timed out and sent again: one submission each, stored.
      expect(during.map((p) => `${p.submissions}:${p.answer?.status}`)).to.deep.equal(during.map(() => '1:present'));

      const alive = await Promise.all([timed(a, '/healthz'), timed(b, '/healthz')]);
      expect(alive.map((r) => r.status)).to.deep.equal([200, 200]);
      expect(Math.max(...alive.map((r) => r.ms)), 'liveness answer while Redis hangs (ms)').to.be.below(ALIVE_MS);
      // Readiness says Redis is not answering, within its own bound, instead of hanging the probe.
      const ready = await Promise.all([timed(a, '/readyz'), timed(b, '/readyz')]);
      expect(
        ready.map((r) => r.status),
        '/readyz of A and B while Redis hangs',
      ).to.deep.equal([503, 503]);
      expect(phones.filter((p) => p.disconnects > 0).length, 'phones cut by the hang').to.equal(0);

      await new Promise((r) => setTimeout(r, Math.max(0, HANG_MS - (Date.now() - hungAt))));
    } finally {
      // A failed step must not leave Redis stopped: the suite's `after` quits the nodes through it.
      suite.redis.resume();
    }
    expect(
      await pollUntil(
        async () => (await Promise.all([timed(a, '/readyz'), timed(b, '/readyz')])).every((r) => r.status === 200),
        20_000,
        250,
      ),
      '/readyz of both nodes ready again',
    ).to.equal(true);
    await Promise.all(phones.slice(BEFORE + DURING).map((p) => deliver(p, sid)));

    const { records, submitted } = await readSession(bench, sid);
    expect(records.length).to.equal(STUDENTS);
    expect(new Set(records.map((r) => r.studentId)).size).to.equal(STUDENTS);
    expect(submitted, "'checkin.submit' audit entries").to.equal(STUDENTS);
    const byStudent = new Map(records.map((r) => [r.studentId, r]));
    for (const [i, p] of phones.entries()) expect(p.answer?.recordId, `student ${i}`).to.equal(byStudent.get(students[i]!.id)?.id);

    // Neither screen was told to resync by the test.
    await expectScreensEqual(watched, records, ['the projector on A', "the teacher's phone on B"]);
  });
});

import { expect } from 'chai';
import path from 'node:path';
import { createClass } from '../support/fixtures.js';
import { startNodes, type StartedNodes, type TestNode } from '../support/nodes.js';
import { useRedis } from '../support/redis-server.js';
import { command, connectClient, ok, type ClientSocket } from '../support/sockets.js';

/**
 * Two nodes whose clocks disagree by 3 minutes (the second's application, store and registry
 * clocks skewed, as a host without NTP would have them): the skewed node reports it, is not
 * ready, and leaves scheduled closes to the node whose clock agrees with Redis's.
 */
describe('nodes whose clocks disagree (one 3 min ahead)', function () {
  this.timeout(30_000);
  const suite = useRedis('clock-skew');
  let cluster: StartedNodes | null = null;
  const sockets: ClientSocket[] = [];

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.disconnect();
    await cluster?.cleanup();
    cluster = null;
  });

  it('the node ahead does not close a session by its clock, and /readyz says its clock fails; its peer is ready', async () => {
    cluster = await startNodes(2, {
      redisUrl: suite.redis.url,
      sqlitePath: path.join(suite.dir, 'clock-skew.db'),
      // Scheduler passes only when the test runs them.
      env: { SCHEDULER_INTERVAL_MS: '60000' },
      clockSkewMs: [0, 180_000],
    });
    const [a, b] = cluster.nodes as [TestNode, TestNode];
    const made = await createClass(a.store, 2);
    const teacher = await connectClient(a.url, a.app.tokenService.signAccess(made.teacher).token);
    sockets.push(teacher);
    const closesAt = new Date(Date.now() + 60_000).toISOString();
    const opened = ok(
      await command(teacher, 'session:open', {
        subjectId: made.subject.id,
        closesAt,
        policy: { geofence: false, rotatingCode: false, network: false },
      }),
    );

    // By B's clock the session closed two minutes ago; by everyone else's it has a minute to go.
    expect(await b.app.attendance.scheduler.tick()).to.equal(0);
    expect(await a.app.attendance.scheduler.tick()).to.equal(0);
    expect((await a.store.sessions.get(made.org.id, opened.id))?.status).to.equal('open');

    const readyB = await fetch(`${b.url}/readyz`);
    const bodyB = (await readyB.json()) as Record<string, { ok: boolean }>;
    expect(readyB.status).to.equal(503);
    expect(bodyB['clock']?.ok).to.equal(false);
    // The public probe says only that the clock fails: by how much, and which peers it was read against, are the operator's.
    expect(bodyB['clock']).to.deep.equal({ ok: false });
    const readyA = await fetch(`${a.url}/readyz`);
    const bodyA = (await readyA.json()) as Record<string, { ok: boolean }>;
    expect(bodyA['clock']?.ok).to.equal(true);
    expect(readyA.status).to.equal(200);
  });
});

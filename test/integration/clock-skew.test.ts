import { expect } from 'chai';
import path from 'node:path';
import { TOKEN_PURGE_JOB } from '../../src/domain/accounts/token-purge.js';
import { createClass } from '../support/fixtures.js';
import type { TestNode } from '../support/nodes.js';
import { useRedis } from '../support/redis-server.js';
import { command, ok } from '../support/sockets.js';
import { useNodes } from '../support/use-nodes.js';

const MINUTE = 60_000;

/**
 * Two nodes whose clocks disagree by 3 minutes (the second's application, store and registry
 * clocks skewed, as a host without NTP would have them): the skewed node reports it, is not
 * ready, and leaves scheduled closes, scheduled jobs and webhook deliveries to the node whose
 * clock agrees with Redis's.
 */
describe('nodes whose clocks disagree (one 3 min ahead)', function () {
  this.timeout(30_000);
  const suite = useRedis('clock-skew');
  const nodes = useNodes(suite);
  let fileNo = 0;
  const startTwo = async (env: Record<string, string>) => {
    fileNo += 1;
    const started = await nodes.start(2, {
      sqlitePath: path.join(suite.dir, `clock-skew-${fileNo}.db`),
      env,
      clockSkewMs: [0, 3 * MINUTE],
    });
    return started as [TestNode, TestNode];
  };

  it('the node ahead does not close a session by its clock, and /readyz says its clock fails; its peer is ready', async () => {
    // Scheduler passes only when the test runs them.
    const [a, b] = await startTwo({ SCHEDULER_INTERVAL_MS: '60000' });
    const made = await createClass(a.store, 2);
    const teacher = await nodes.client(a, made.teacher);
    const closesAt = new Date(Date.now() + MINUTE).toISOString();
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

  it('the node ahead runs no scheduled job early: a set-password link with a minute left is not purged', async () => {
    const [a, b] = await startTwo({});
    // Each node's first check ran at start; from here the test runs the checks.
    for (const node of [a, b]) await node.app.tokenPurge.stop();
    const made = await createClass(a.store, 1);
    const link = { orgId: made.org.id, userId: made.students[0]!.id, purpose: 'invite' as const, tokenHash: 'skew-link' };
    await a.store.accountTokens.create({ ...link, expiresAt: new Date(Date.now() + MINUTE), createdAt: new Date() });
    // The last purge 59 minutes ago by the shared time: due in a minute (TOKEN_PURGE_INTERVAL_MS,
    // an hour), but already 62 minutes ago by B's clock.
    expect(await a.store.jobs.claim(TOKEN_PURGE_JOB, 'test', new Date(Date.now() + MINUTE), new Date(), new Date())).to.equal(true);
    await a.store.jobs.finish(TOKEN_PURGE_JOB, 'test', new Date(Date.now() - 59 * MINUTE));

    expect(await b.app.tokenPurge.tick(), 'B claims no run').to.equal(false);
    expect(await a.app.tokenPurge.tick(), 'not due yet').to.equal(false);
    expect((await a.store.accountTokens.consume('skew-link', new Date()))?.userId, 'the link still works').to.equal(link.userId);
  });

  it('the node ahead does not take over a webhook attempt another node has in flight', async () => {
    const [a, b] = await startTwo({ WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_POLL_MS: '60000' });
    const made = await createClass(a.store, 1);
    const now = new Date();
    // Port 9 (discard) refuses at once: an attempt, if one is made, fails and is recorded.
    const endpoint = await a.store.webhooks.createEndpoint(
      made.org.id,
      { url: 'http://127.0.0.1:9/hook', description: null, secret: 'skew-secret', events: ['session.opened'] },
      now,
    );
    const [delivery] = await a.store.webhooks.enqueue([
      {
        orgId: made.org.id,
        endpointId: endpoint.id,
        event: 'session.opened',
        orderKey: 'skew',
        body: '{}',
        retryUntil: new Date(now.getTime() + 60 * MINUTE),
        createdAt: now,
      },
    ]);
    // A's attempt in flight: leased for 30 s (three times WEBHOOK_TIMEOUT_MS), long gone by B's clock.
    const inFlight = await a.store.webhooks.claimDue(a.name, new Date(Date.now() + 30_000), new Date(), 20);
    expect(inFlight.map((d) => d.id)).to.deep.equal([delivery!.id]);

    expect(await b.app.webhooks.tick(), 'attempts made by B').to.equal(0);
    expect(await a.store.webhooks.listAttempts(made.org.id, delivery!.id)).to.deep.equal([]);
  });
});

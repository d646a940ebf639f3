import { expect } from 'chai';
import path from 'node:path';
import { createOrg } from '../support/fixtures.js';
import { startSmtpServer, type TestSmtpServer } from '../support/mail.js';
import { startNodes, type StartedNodes } from '../support/nodes.js';
import { useRedis } from '../support/redis-server.js';
import { skipBecause } from '../support/skip.js';

/** 2 a minute: 1 a minute in windows of 60 s (docs/notifications.md, "Sending rate"), longer than the test. */
const PER_MINUTE = 2;
const EMAILS = 10;

/**
 * MAIL_MAX_PER_MINUTE is one budget for the deployment, counted in Redis: two nodes over one
 * store hand the relay no more than one node would, and the rest waits queued in the outbox.
 */
describe('MAIL_MAX_PER_MINUTE across nodes (2 nodes, Redis, one SMTP relay)', function () {
  this.timeout(60_000);
  let cluster: StartedNodes | null = null;
  let smtp: TestSmtpServer;
  const suite = useRedis('mail-rate-across-nodes');
  let stores = 0;

  beforeEach(async () => {
    smtp = await startSmtpServer();
    cluster = await startNodes(2, {
      redisUrl: suite.redis.url,
      // A store per test: the emails one leaves queued are not the next one's.
      sqlitePath: path.join(suite.dir, `attendance-${(stores += 1)}.db`),
      env: { SMTP_URL: smtp.url, MAIL_MAX_PER_MINUTE: String(PER_MINUTE) },
    });
  });
  afterEach(async () => {
    await cluster?.cleanup();
    cluster = null;
    await smtp.close();
  });

  async function queueEmails(): Promise<string> {
    const org = await createOrg(cluster!.nodes[0]!.store, 'relay');
    for (let i = 0; i < EMAILS; i += 1) {
      await cluster!.nodes[0]!.store.outbox.enqueue(
        { orgId: org.id, category: 'alert', to: `t${i}@relay.test`, subject: 'S', text: 'T', html: 'H', headers: {} },
        100,
      );
    }
    return org.id;
  }
  const queued = async (orgId: string) =>
    (await cluster!.nodes[0]!.store.outbox.list(orgId, { limit: 100, offset: 0 })).items.filter((m) => m.status === 'queued').length;

  async function delivered(count: number): Promise<void> {
    while (smtp.received.length < count) await new Promise((resolve) => setTimeout(resolve, 50));
  }

  it("sends one window's share whichever node asks, leaving the rest queued", async () => {
    const [a, b] = cluster!.nodes;
    const orgId = await queueEmails();
    const share = PER_MINUTE / 2;
    // Both nodes ask (their own polls may too, and meet the same count).
    await a!.app.outbox.pass();
    await b!.app.outbox.pass();
    // One went to the relay (which one is not told: emails queued in the same millisecond are of one age).
    await delivered(share);
    expect(await a!.app.outbox.pass()).to.equal(0);
    expect(await b!.app.outbox.pass()).to.equal(0);
    expect(await queued(orgId)).to.equal(EMAILS - share);
    expect(smtp.received).to.have.length(share);
  });

  it('sends nothing while Redis is down (each node counting alone would send the budget once per node), and goes on once it is back', async function () {
    if (!suite.redis.owned) skipBecause(this, 'stops Redis: needs its own redis-server, not REDIS_URL');
    const [a, b] = cluster!.nodes;
    const orgId = await queueEmails();
    await suite.redis.kill();
    for (const node of [a!, b!]) {
      // The pass fails (the dispatcher logs it and tries again at its next poll); nothing is claimed.
      await node.app.outbox.pass().catch(() => 0);
    }
    expect(await queued(orgId)).to.equal(EMAILS);
    await suite.redis.start();
    // Either node may take the window's share once its Redis client is back (its own poll too).
    for (let tries = 0; (await queued(orgId)) === EMAILS && tries < 100; tries += 1) {
      await Promise.all([a!, b!].map((node) => node.app.outbox.pass().catch(() => 0)));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await queued(orgId)).to.equal(EMAILS - PER_MINUTE / 2);
    await delivered(PER_MINUTE / 2);
  });
});

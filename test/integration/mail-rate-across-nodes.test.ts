import { expect } from 'chai';
import { Redis } from 'ioredis';
import path from 'node:path';
import { redisRateLimiter } from '../../src/cluster/redis-rate-limiter.js';
import { mailRateLimit } from '../../src/domain/notifications/mail-rate.js';
import { createOrg } from '../support/fixtures.js';
import { startSmtpServer, type TestSmtpServer } from '../support/mail.js';
import { startNodes, type StartedNodes } from '../support/nodes.js';
import { useRedis } from '../support/redis-server.js';
import { skipBecause } from '../support/skip.js';

/** 2 in any 60 seconds (docs/notifications.md, "Sending rate"): the minute outlasts the test. */
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
  let logged: { node: string; line: string }[] = [];

  beforeEach(async () => {
    logged = [];
    smtp = await startSmtpServer();
    cluster = await startNodes(2, {
      redisUrl: suite.redis.url,
      // A store per test: the emails one leaves queued are not the next one's.
      sqlitePath: path.join(suite.dir, `attendance-${(stores += 1)}.db`),
      env: { SMTP_URL: smtp.url, MAIL_MAX_PER_MINUTE: String(PER_MINUTE) },
      log: (node, line) => logged.push({ node, line }),
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
    for (let tries = 0; smtp.received.length < count && tries < 200; tries += 1) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(smtp.received, 'emails the relay received').to.have.length(count);
  }

  it("sends the minute's budget, all of it, whichever nodes ask and however at once, leaving the rest queued", async () => {
    const [a, b] = cluster!.nodes;
    const orgId = await queueEmails();
    // Both nodes ask at once, again and again (their own polls may too, and meet the same count).
    for (let i = 0; i < 3; i += 1) await Promise.all([a!.app.outbox.pass(), b!.app.outbox.pass()]);
    // Which went is not told: emails queued in the same millisecond are of one age.
    await delivered(PER_MINUTE);
    expect(await a!.app.outbox.pass()).to.equal(0);
    expect(await b!.app.outbox.pass()).to.equal(0);
    expect(await queued(orgId)).to.equal(EMAILS - PER_MINUTE);
    expect(smtp.received).to.have.length(PER_MINUTE);
  });

  it('counts no refusal: a send one node gives back while the other is refused is there for the next ask', async () => {
    // The two nodes' own counts (their Redis connections), as their outboxes ask them.
    const clients = [0, 1].map(() => new Redis(suite.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 }));
    try {
      await Promise.all(clients.map((c) => c.connect()));
      const [a, b] = clients.map((redis) => redisRateLimiter(redis, mailRateLimit(PER_MINUTE)!, 0.1));
      const key = `refusal-${stores}`;
      expect((await a!.consume(key)).allowed).to.equal(true);
      expect((await a!.consume(key)).allowed).to.equal(true);
      // Node B asks while A holds the minute's last send; then A finds nothing due and gives it back.
      expect((await b!.consume(key)).allowed).to.equal(false);
      await a!.refund(key);
      expect((await b!.consume(key)).allowed, 'the send given back').to.equal(true);
      expect((await a!.consume(key)).allowed).to.equal(false);
    } finally {
      await Promise.all(clients.map((c) => c.quit()));
    }
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
    // Either node may take the minute's budget once its Redis client is back (its own poll too).
    for (let tries = 0; (await queued(orgId)) > EMAILS - PER_MINUTE && tries < 100; tries += 1) {
      await Promise.all([a!, b!].map((node) => node.app.outbox.pass().catch(() => 0)));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await queued(orgId)).to.equal(EMAILS - PER_MINUTE);
    await delivered(PER_MINUTE);
  });

  it('logs one line when Redis goes (what waits) and one when it is back, not one per email or poll; counts it in metrics', async function () {
    if (!suite.redis.owned) skipBecause(this, 'stops Redis: needs its own redis-server, not REDIS_URL');
    const [a] = cluster!.nodes;
    const orgId = await queueEmails();
    const lines = (text: string) =>
      logged.filter((l) => l.node === 'node-A' && l.line.includes(text)).map((l) => JSON.parse(l.line) as Record<string, unknown>);
    await suite.redis.kill();
    // Polls, and new emails each starting a pass.
    for (let i = 0; i < 5; i += 1) await a!.app.outbox.pass();
    for (let i = 0; i < 3; i += 1) {
      await a!.app.outbox.enqueue({ orgId, category: 'alert', to: `late${i}@relay.test`, subject: 'S', text: 'T', html: 'H', headers: {} });
    }
    await a!.app.outbox.pass();
    expect(await queued(orgId)).to.equal(EMAILS + 3);
    expect(lines('outbox pass failed'), 'an error line per pass').to.deep.equal([]);
    const held = lines('outbox held back');
    expect(held, 'the line when the outage starts').to.have.length(1);
    expect(held[0]).to.include({ level: 40 });
    expect(held[0]!['reason']).to.match(/Redis is not ready/);
    const scrape = await a!.app.metrics.registry.metrics();
    expect(scrape).to.match(/^attendance_outbox_held_back 1$/m);
    expect(scrape).to.match(/^attendance_outbox_held_outages_total 1$/m);
    expect(Number(/^attendance_outbox_held_passes_total (\d+)$/m.exec(scrape)?.[1])).to.be.at.least(6);

    await suite.redis.start();
    for (let tries = 0; lines('outbox sending again').length === 0 && tries < 100; tries += 1) {
      await a!.app.outbox.pass();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const resumed = lines('outbox sending again');
    expect(resumed, 'the line when it ends').to.have.length(1);
    expect(resumed[0]).to.include({ level: 30, queuedMeanwhile: 3 });
    expect(resumed[0]!['passesHeldBack']).to.be.at.least(6);
    expect(resumed[0]!['heldForMs']).to.be.above(0);
    expect(lines('outbox held back')).to.have.length(1);
    expect(await a!.app.metrics.registry.metrics()).to.match(/^attendance_outbox_held_back 0$/m);
  });
});

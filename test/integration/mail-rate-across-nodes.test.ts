import { expect } from 'chai';
import path from 'node:path';
import { createOrg } from '../support/fixtures.js';
import { startSmtpServer, type TestSmtpServer } from '../support/mail.js';
import { startNodes, type StartedNodes } from '../support/nodes.js';
import { useRedis } from '../support/redis-server.js';

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

  beforeEach(async () => {
    smtp = await startSmtpServer();
    cluster = await startNodes(2, {
      redisUrl: suite.redis.url,
      sqlitePath: path.join(suite.dir, 'attendance.db'),
      env: { SMTP_URL: smtp.url, MAIL_MAX_PER_MINUTE: String(PER_MINUTE) },
    });
  });
  afterEach(async () => {
    await cluster?.cleanup();
    cluster = null;
    await smtp.close();
  });

  it("sends one window's share whichever node asks, leaving the rest queued", async () => {
    const [a, b] = cluster!.nodes;
    const org = await createOrg(a!.store, 'relay');
    for (let i = 0; i < EMAILS; i += 1) {
      await a!.store.outbox.enqueue(
        { orgId: org.id, category: 'alert', to: `t${i}@relay.test`, subject: 'S', text: 'T', html: 'H', headers: {} },
        100,
      );
    }
    const share = PER_MINUTE / 2;
    // Both nodes ask (their own polls may too, and meet the same count).
    await a!.app.outbox.pass();
    await b!.app.outbox.pass();
    // The oldest went to the relay.
    await smtp.next('t0@relay.test');
    expect(await a!.app.outbox.pass()).to.equal(0);
    expect(await b!.app.outbox.pass()).to.equal(0);
    const items = (await a!.store.outbox.list(org.id, { limit: 100, offset: 0 })).items;
    expect(items.filter((m) => m.status === 'queued')).to.have.length(EMAILS - share);
    expect(smtp.received).to.have.length(share);
  });
});

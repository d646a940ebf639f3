import { expect } from 'chai';
import { pino } from 'pino';
import type { Store } from '../../../src/domain/ports/store.js';
import { retryDelayMs } from '../../../src/domain/webhooks/backoff.js';
import { WebhookDispatcher } from '../../../src/domain/webhooks/webhook-dispatcher.js';
import type { WebhookEndpoint, WebhookSender } from '../../../src/domain/webhooks/webhook-ports.js';
import { createSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { TestClock } from '../../support/live-fixture.js';

const HOUR = 3_600_000;

describe('webhook dispatcher: retries, abandoning, disabling', () => {
  let store: Store;
  let clock: TestClock;
  let statuses: (number | Error)[];
  /** The answer once `statuses` is used up. */
  let fallback: number;
  let sent: { url: string; headers: Record<string, string>; body: string }[];
  let dispatcher: WebhookDispatcher;
  let endpoint: WebhookEndpoint;
  let orgId: string;

  const sender: WebhookSender = {
    async send(url, headers, body) {
      sent.push({ url, headers, body });
      const next = statuses.shift() ?? fallback;
      if (next instanceof Error) throw next;
      return { status: next };
    },
  };
  const enqueue = (orderKey: string, windowMs = 24 * HOUR) =>
    store.webhooks.enqueue([
      {
        orgId,
        endpointId: endpoint.id,
        event: 'record.created',
        orderKey,
        body: `{"k":"${orderKey}"}`,
        createdAt: clock.now(),
        retryUntil: new Date(clock.now().getTime() + windowMs),
      },
    ]);

  beforeEach(async () => {
    store = await createSqliteStore({ path: ':memory:' });
    clock = new TestClock(Date.parse('2026-03-02T09:00:00.000Z'));
    statuses = [];
    fallback = 200;
    sent = [];
    orgId = (await store.organisations.create({ name: 'S', slug: 's', timezone: 'UTC' })).id;
    endpoint = await store.webhooks.createEndpoint(
      orgId,
      { url: 'https://receiver.test/hook', description: null, secret: 'whsec_t', events: ['record.created'] },
      clock.now(),
    );
    // random() = 1: the longest delay of each step, so the schedule below is exact.
    dispatcher = new WebhookDispatcher(
      { store, sender, now: clock.now, logger: pino({ level: 'silent' }), random: () => 1 },
      { owner: 'n1', leaseMs: 30_000 },
    );
  });
  afterEach(() => store.close());

  it('doubles the delay from 10 s up to an hour, with jitter in the upper half', () => {
    expect([1, 2, 3, 4, 9, 20].map((n) => retryDelayMs(n, () => 1))).to.deep.equal([10_000, 20_000, 40_000, 80_000, 2_560_000, 3_600_000]);
    expect(retryDelayMs(3, () => 0)).to.equal(20_000);
  });

  it('retries a failed delivery after the backoff and sends the same delivery id each time', async () => {
    const [d] = await enqueue('sess');
    statuses = [500, new Error('connect ECONNREFUSED')];
    expect(await dispatcher.tick()).to.equal(1);
    expect(await dispatcher.tick(), 'not due before its backoff').to.equal(0);
    clock.advance(10_000);
    expect(await dispatcher.tick()).to.equal(1);
    clock.advance(19_999);
    expect(await dispatcher.tick()).to.equal(0);
    clock.advance(1);
    expect(await dispatcher.tick()).to.equal(1);
    expect(sent.map((s) => s.headers['idempotency-key'])).to.deep.equal([d!.id, d!.id, d!.id]);
    const after = await store.webhooks.getDelivery(orgId, d!.id);
    expect(after).to.deep.include({ state: 'delivered', attempts: 3, lastStatus: 200, lastError: null });
    expect((await store.webhooks.listAttempts(orgId, d!.id)).map((a) => [a.statusCode, a.error])).to.deep.equal([
      [500, 'HTTP 500'],
      [null, 'connect ECONNREFUSED'],
      [200, null],
    ]);
    expect((await store.webhooks.getEndpoint(orgId, endpoint.id))!.failingSince, 'a success clears the failure run').to.equal(null);
  });

  it('abandons a delivery whose next retry would fall after its retry window, and frees its queue', async () => {
    // A 2 h window (24 h in production), so the endpoint is not disabled meanwhile.
    const [first, second] = [(await enqueue('sess', 2 * HOUR))[0]!, (await enqueue('sess', 2 * HOUR))[0]!];
    fallback = 503;
    let passes = 0;
    while ((await store.webhooks.getDelivery(orgId, first.id))!.state === 'pending' && passes < 100) {
      await dispatcher.tick();
      clock.advance(10 * 60_000);
      passes += 1;
    }
    const abandoned = await store.webhooks.getDelivery(orgId, first.id);
    expect(abandoned!.state).to.equal('abandoned');
    expect(
      sent.every((s) => s.body === first.body),
      'the second waited behind the first',
    ).to.equal(true);
    // Passes every 10 min; backoffs 10 s .. 640 s, then 1280 s, 2560 s: the 9th attempt's next retry falls after 2 h.
    expect(abandoned!.attempts).to.equal(9);
    const log = await store.webhooks.listAttempts(orgId, first.id);
    expect(log.at(-1)!.at.getTime() + retryDelayMs(9, () => 1)).to.be.above(first.retryUntil.getTime());
    fallback = 200;
    expect(await dispatcher.tick()).to.equal(1);
    expect((await store.webhooks.getDelivery(orgId, second.id))!.state).to.equal('delivered');
  });

  it('disables an endpoint whose attempts all failed for 24 h, audited, and keeps its queue', async () => {
    fallback = 500;
    // A new delivery every hour, on its own session, so attempts go on for more than a day.
    for (let h = 0; h <= 25; h += 1) {
      await enqueue(`sess-${h}`);
      await dispatcher.tick();
      clock.advance(HOUR);
    }
    const disabled = await store.webhooks.getEndpoint(orgId, endpoint.id);
    expect(disabled).to.deep.include({ active: false });
    expect(disabled!.disabledAt).to.be.instanceOf(Date);
    expect(disabled!.disabledReason).to.match(/^every attempt failed since /);
    const audit = await store.reports.audit(orgId, { entityType: 'organisation', entityId: orgId, limit: 10, offset: 0 });
    expect(audit.items.map((e) => e.action)).to.deep.equal(['webhook.disabled']);
    const sentBefore = sent.length;
    clock.advance(HOUR);
    expect(await dispatcher.tick(), 'a disabled endpoint gets nothing').to.equal(0);
    expect(sent.length).to.equal(sentBefore);
    expect(
      (await store.webhooks.listDeliveries(orgId, endpoint.id, { limit: 100, offset: 0 })).items.some((d) => d.state === 'pending'),
    ).to.equal(true);
  });
});

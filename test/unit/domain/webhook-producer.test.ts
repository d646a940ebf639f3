import { expect } from 'chai';
import type { DomainEvent } from '../../../src/domain/events.js';
import type { Store } from '../../../src/domain/ports/store.js';
import { WebhookProducer } from '../../../src/domain/webhooks/webhook-producer.js';
import type { WebhookEndpoint } from '../../../src/domain/webhooks/webhook-ports.js';
import { createSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { TestClock } from '../../support/live-fixture.js';

describe('webhook producer: the events of one turn share their subscription read', () => {
  let store: Store;
  let clock: TestClock;
  let orgId: string;
  let endpoint: WebhookEndpoint;
  let producer: WebhookProducer;
  let reads: number;
  let errors: unknown[];
  /** The deferred flushes, run by hand: one turn of the event loop ends when the test says so. */
  let turns: (() => void)[];

  const recordEvent = (i: number, version = 1): DomainEvent =>
    ({
      type: 'roster.changed',
      orgId,
      studentId: `st${i}`,
      update: { sessionId: 'sess', version: i, entry: {} },
      checkin: { recordId: `r${i}`, sessionId: 'sess', recordVersion: version, status: 'present', reason: null, flags: [], attempts: 1 },
      sessionClosed: false,
    }) as unknown as DomainEvent;
  const endTurn = async () => {
    for (const run of turns.splice(0)) run();
    await producer.drain();
  };
  const delivered = async () =>
    (await store.webhooks.listDeliveries(orgId, endpoint.id, { limit: 100, offset: 0 })).items.map(
      (d) => (JSON.parse(d.body) as { data: { record: { id: string } } }).data.record.id,
    );

  beforeEach(async () => {
    store = await createSqliteStore({ path: ':memory:' });
    clock = new TestClock(Date.parse('2026-03-02T09:00:00.000Z'));
    orgId = (await store.organisations.create({ name: 'S', slug: 's', timezone: 'UTC' })).id;
    endpoint = await store.webhooks.createEndpoint(
      orgId,
      { url: 'https://receiver.test/hook', description: null, secret: 'whsec_t', events: ['record.created'] },
      clock.now(),
    );
    reads = 0;
    errors = [];
    turns = [];
    const listSubscribed = store.webhooks.listSubscribed.bind(store.webhooks);
    store.webhooks.listSubscribed = (o, e) => {
      reads += 1;
      return listSubscribed(o, e);
    };
    producer = new WebhookProducer({ store, now: clock.now, onError: (err) => errors.push(err) }, (fn) => turns.push(fn));
  });
  afterEach(() => store.close());

  it('reads the subscriptions once for a turn of 50 record changes and queues them in their order', async () => {
    for (let i = 0; i < 50; i += 1) producer.handle(recordEvent(i));
    // A record.changed (version 2) has no subscriber: a read of its own, no delivery.
    producer.handle(recordEvent(50, 2));
    expect(turns, 'one flush per turn').to.have.length(1);
    await endTurn();
    expect(reads).to.equal(2);
    expect((await delivered()).reverse()).to.deep.equal(Array.from({ length: 50 }, (_, i) => `r${i}`));
    expect(errors).to.deep.equal([]);
  });

  it('an endpoint disabled between two turns gets nothing of the second (nothing is kept)', async () => {
    producer.handle(recordEvent(0));
    await endTurn();
    await store.webhooks.updateEndpoint(orgId, endpoint.id, { active: false }, clock.now());
    producer.handle(recordEvent(1));
    await endTurn();
    expect(await delivered()).to.deep.equal(['r0']);
    expect(reads).to.equal(2);
  });

  it('drain writes what the turn holds without waiting for its end', async () => {
    producer.handle(recordEvent(0));
    await producer.drain();
    expect(await delivered()).to.deep.equal(['r0']);
  });

  it('an event that becomes no webhook queues nothing; a failed read reports each event as its webhook', async () => {
    const other = (await store.organisations.create({ name: 'T', slug: 't', timezone: 'UTC' })).id;
    const unchanged = {
      type: 'session.changed',
      orgId,
      change: 'updated',
      session: { id: 'sess', status: 'open' },
    } as unknown as DomainEvent;
    producer.handle(unchanged);
    expect(turns, 'no flush for an event no webhook carries').to.have.length(0);
    const hooks: { type: string; orgId: string; orderKey: string }[] = [];
    const failing = new WebhookProducer(
      {
        store: { webhooks: { ...store.webhooks, listSubscribed: () => Promise.reject(new Error('store down')) } },
        now: clock.now,
        onError: (_err, hook) => hooks.push({ type: hook.type, orgId: hook.orgId, orderKey: hook.orderKey }),
      },
      (fn) => turns.push(fn),
    );
    failing.handle(recordEvent(0));
    failing.handle(unchanged);
    failing.handle({ ...recordEvent(1, 3), orgId: other } as DomainEvent);
    for (const run of turns.splice(0)) run();
    await failing.drain();
    expect(hooks).to.deep.equal([
      { type: 'record.created', orgId, orderKey: 'sess' },
      { type: 'record.changed', orgId: other, orderKey: 'sess' },
    ]);
  });
});

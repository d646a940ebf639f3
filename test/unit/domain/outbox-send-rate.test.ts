import { expect } from 'chai';
import { memoryLimiter } from '../../../src/adapters/memory-rate-limiter.js';
import { mailRateLimit } from '../../../src/domain/notifications/mail-rate.js';
import { OutboxDispatcher } from '../../../src/domain/notifications/outbox-dispatcher.js';
import type { Organisation } from '../../../src/domain/ports/organisations.js';
import type { Store } from '../../../src/domain/ports/store.js';
import { createLogger } from '../../../src/logger.js';
import { createSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { createOrg } from '../../support/fixtures.js';
import { TestClock } from '../../support/live-fixture.js';
import { recordingQueue, type RecordingMailer } from '../../support/mail.js';

// MAIL_MAX_PER_MINUTE (docs/notifications.md): relays such as Office 365's refuse a sender past
// their per-minute limit, so every node together hands the relay at most that many emails in
// any 60 seconds; the rest stay queued in the outbox. Two dispatchers share one store and one
// counter, as two nodes share the database and Redis. Passes are run by hand, on a test clock.

const PER_MINUTE = 30;

describe('MAIL_MAX_PER_MINUTE: the outbox sends at most so many emails a minute, across nodes', () => {
  let store: Store;
  let clock: TestClock;
  let org: Organisation;
  let nodes: { outbox: OutboxDispatcher; mailer: RecordingMailer }[];
  const settings = { pollMs: 60_000, retryBaseMs: 60_000, maxAttempts: 3, maxWaiting: 10_000 };

  beforeEach(async () => {
    clock = new TestClock(Date.parse('2026-03-02T09:00:00.000Z'));
    store = await createSqliteStore({ path: ':memory:', now: clock.now });
    org = await createOrg(store);
    const shared = memoryLimiter(mailRateLimit(PER_MINUTE)!, () => clock.now().getTime());
    nodes = ['n1', 'n2'].map((name) => {
      const { mailer, queue } = recordingQueue();
      const outbox = new OutboxDispatcher(store, queue, createLogger('silent'), clock.now, name, settings, undefined, shared);
      return { outbox, mailer };
    });
    for (let i = 0; i < 200; i += 1) {
      await store.outbox.enqueue(
        { orgId: org.id, category: 'alert', to: `${i}@x.test`, subject: 'S', text: 'T', html: 'H', headers: {} },
        10_000,
      );
    }
  });
  afterEach(async () => {
    for (const n of nodes) await n.outbox.stop();
    await store.close();
  });

  const statuses = async () => {
    const items = (await store.outbox.list(org.id, { limit: 500, offset: 0 })).items;
    return { queued: items.filter((m) => m.status === 'queued').length, sent: items.filter((m) => m.status === 'sent').length };
  };

  it('never hands the relay more than the limit in any 60 seconds, whichever node sends; the rest waits queued', async () => {
    const sentAt: number[] = [];
    for (let second = 0; second < 180; second += 1) {
      // Each node in turn first, a minute each: the budget that comes free goes to whichever asks first.
      for (const node of Math.floor(second / 60) % 2 === 0 ? nodes : [...nodes].reverse()) {
        const before = node.mailer.sent.length;
        await node.mailer.waitFor(before + (await node.outbox.pass()));
        for (let i = before; i < node.mailer.sent.length; i += 1) sentAt.push(second);
      }
      clock.advance(1_000);
    }
    const busiest = Math.max(...sentAt.map((s) => sentAt.filter((t) => t >= s && t < s + 60).length));
    expect(busiest).to.equal(PER_MINUTE);
    // Not below it either: the limit, each of the three minutes.
    expect(sentAt.length).to.equal(3 * PER_MINUTE);
    // Both nodes sent, from the one budget.
    expect(nodes.every((n) => n.mailer.sent.length > 0)).to.equal(true);
    await Promise.all(nodes.map((n) => n.outbox.stop()));
    expect(await statuses()).to.deep.equal({ queued: 200 - sentAt.length, sent: sentAt.length });
  });

  it('leaves the emails beyond the budget queued, not claimed, and gives back a send that found nothing due', async () => {
    expect(await nodes[0]!.outbox.pass()).to.equal(PER_MINUTE);
    expect(await nodes[1]!.outbox.pass()).to.equal(0);
    await Promise.all(nodes.map((n) => n.outbox.stop()));
    expect(await statuses()).to.deep.equal({ queued: 200 - PER_MINUTE, sent: PER_MINUTE });
  });
});

describe('mailRateLimit', () => {
  it('is no bound at 0, else the limit over a sliding minute, shared only', () => {
    expect(mailRateLimit(0)).to.equal(null);
    for (const max of [1, 2, 13, 30, 10_000]) {
      expect(mailRateLimit(max), `max ${max}`).to.include({ points: max, windowS: 60, sliding: true, exact: true, sharedOnly: true });
    }
  });
});

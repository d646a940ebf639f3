import { expect } from 'chai';
import type { Actor } from '../../../src/domain/actor.js';
import { EmailNotifications } from '../../../src/domain/notifications/email-notifications.js';
import { OutboxDispatcher } from '../../../src/domain/notifications/outbox-dispatcher.js';
import { UnsubscribeTokens } from '../../../src/domain/notifications/unsubscribe-tokens.js';
import type { NewOutboxMail, OutboxMail } from '../../../src/domain/ports/outbox.js';
import type { Organisation } from '../../../src/domain/ports/organisations.js';
import type { Store } from '../../../src/domain/ports/store.js';
import { createLogger } from '../../../src/logger.js';
import { createSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { expectCode } from '../../support/expect-code.js';
import { createOrg, createUser } from '../../support/fixtures.js';
import { TestClock } from '../../support/live-fixture.js';
import { recordingQueue } from '../../support/mail.js';

// An admin's "Send again" of an email failed for good (POST /outbox/{id}/retry) meets the bounds
// a new email meets (docs/notifications.md, "The outbox"): one invitation and one reset waiting
// per user, MAIL_OUTBOX_MAX waiting per organisation, resets at most a quarter of it. The
// dispatcher is not started: emails stay as the test leaves them.

const MAX_WAITING = 4;

describe('"Send again" of a failed email meets the outbox bounds', () => {
  let store: Store;
  let clock: TestClock;
  let org: Organisation;
  let admin: Actor;
  let emails: EmailNotifications;
  beforeEach(async () => {
    clock = new TestClock(Date.parse('2026-03-02T09:00:00.000Z'));
    store = await createSqliteStore({ path: ':memory:', now: clock.now });
    org = await createOrg(store);
    const user = await createUser(store, org.id, 'admin');
    admin = { id: user.id, orgId: org.id, role: 'admin' };
    const settings = { pollMs: 60_000, retryBaseMs: 60_000, maxAttempts: 1, maxWaiting: MAX_WAITING };
    const outbox = new OutboxDispatcher(store, recordingQueue().queue, createLogger('silent'), clock.now, 'n1', settings);
    emails = new EmailNotifications({
      store,
      outbox,
      tokens: new UnsubscribeTokens('secret'),
      publicUrl: () => 'https://a.test',
      now: clock.now,
    });
  });
  afterEach(() => store.close());

  const alert = (to: string): NewOutboxMail => ({ orgId: org.id, category: 'alert', to, subject: 'S', text: 'T', html: 'H', headers: {} });
  const forUser = (category: 'invitation' | 'reset', userId: string): NewOutboxMail => ({ ...alert(`${userId}@x.test`), category, userId });
  const queue = async (mail: NewOutboxMail) => (await store.outbox.enqueue(mail, 100))!;
  /** Every email waiting is attempted and refused for good. */
  async function failWaiting(): Promise<void> {
    for (const m of await store.outbox.claimDue(clock.now(), 'n0', new Date(clock.now().getTime() + 60_000), 100)) {
      await store.outbox.markFailed(m.id, 'n0', '550 refused', null);
    }
  }
  const rows = async () => (await store.outbox.list(org.id, { limit: 100, offset: 0 })).items;
  const statusOf = async (m: OutboxMail) => (await rows()).find((r) => r.id === m.id)?.status;

  it('an invitation whose user was invited again meanwhile is answered by the waiting one: one invitation waits, the failed stays failed', async () => {
    const student = await createUser(store, org.id, 'student', { password: null });
    const failed = await queue(forUser('invitation', student.id));
    await failWaiting();
    const waiting = await queue(forUser('invitation', student.id));

    const answer = await emails.retry(admin, failed.id);
    expect(answer).to.deep.include({ id: waiting.id, status: 'queued' });
    expect(await statusOf(failed)).to.equal('failed');
    expect((await rows()).filter((r) => r.userId === student.id && r.status === 'queued')).to.have.length(1);
    // No new link was made: the trail has no second invitation.
    expect(await store.audit.listForEntity(org.id, 'user', student.id)).to.deep.equal([]);
  });

  it('a full outbox answers BUSY and leaves the email failed; sent again once there is room', async () => {
    const failed = await queue(alert('failed@x.test'));
    await failWaiting();
    for (let i = 0; i < MAX_WAITING; i += 1) await queue(alert(`${i}@x.test`));

    await expectCode(emails.retry(admin, failed.id), 'BUSY');
    expect(await statusOf(failed)).to.equal('failed');
    expect((await rows()).filter((r) => r.status === 'queued')).to.have.length(MAX_WAITING);

    const [gone] = await store.outbox.claimDue(clock.now(), 'n0', new Date(clock.now().getTime() + 60_000), 1);
    await store.outbox.markSent(gone!.id, 'n0', clock.now());
    expect(await emails.retry(admin, failed.id)).to.deep.include({ id: failed.id, status: 'queued' });
  });

  it("a reset past the resets' share (a quarter of the outbox) answers BUSY; an alert still goes", async () => {
    const [a, b] = [await createUser(store, org.id, 'student'), await createUser(store, org.id, 'student')];
    const failedReset = await queue(forUser('reset', a.id));
    const failedAlert = await queue(alert('alert@x.test'));
    await failWaiting();
    // Another user's reset waiting fills the share: max(1, 4 / 4).
    await queue(forUser('reset', b.id));

    await expectCode(emails.retry(admin, failedReset.id), 'BUSY');
    expect(await statusOf(failedReset)).to.equal('failed');
    expect(await emails.retry(admin, failedAlert.id)).to.deep.include({ id: failedAlert.id, status: 'queued' });
  });
});

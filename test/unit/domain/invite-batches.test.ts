import { expect } from 'chai';
import { AccountService } from '../../../src/domain/accounts/account-service.js';
import { JobRunner } from '../../../src/domain/jobs/job-runner.js';
import { AccountLinkMail } from '../../../src/domain/accounts/account-link-mail.js';
import { OutboxDispatcher } from '../../../src/domain/notifications/outbox-dispatcher.js';
import { MemoryRateLimiter } from '../../../src/adapters/memory-rate-limiter.js';
import { createLogger } from '../../../src/logger.js';
import type { Actor } from '../../../src/domain/actor.js';
import type { Store } from '../../../src/domain/ports/store.js';
import type { User } from '../../../src/domain/ports/users.js';
import { createSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { countStoreCalls, type CountedStore } from '../../../scripts/lib/store-calls.js';
import { createOrg, createUser } from '../../support/fixtures.js';
import { recordingQueue } from '../../support/mail.js';
import { cheapPasswordHasher } from '../../support/passwords.js';
import { expectCode } from '../../support/expect-code.js';
import { onBothStores, type RaceStore } from '../../support/race-stores.js';

// POST /users/invitations for 301 users answered after 48 s on a loaded MongoDB: each invitation
// was queued and audited with its own store calls, one user after another. The batch is queued
// with one outbox call and audited with one audit call, within the same bounds.

const USERS = 30;
/** Store calls of a whole invitation batch (the users, the organisation, the outbox, the audit). */
const INVITE_CALLS_MAX = 6;

onBothStores('inviting many users queues them in one store call', 'attendance_invite_batches', suite);

function suite(setup: RaceStore): void {
  let counted: CountedStore;
  let outbox: OutboxDispatcher;
  let service: AccountService;
  let admin: Actor;
  let users: User[];

  async function start(maxWaiting: number): Promise<void> {
    const now = () => new Date(Date.UTC(2026, 0, 5, 9));
    const inner = setup.open ? await setup.open(now) : await createSqliteStore({ path: ':memory:', now });
    counted = countStoreCalls(inner);
    const store: Store = counted.store;
    const links = new AccountLinkMail({ store, publicUrl: () => 'https://school.example', inviteTtlMs: 86_400_000, resetTtlMs: 3_600_000 });
    // Not started: an SMTP outage, so every invitation stays queued to be counted.
    outbox = new OutboxDispatcher(
      store,
      recordingQueue().queue,
      createLogger('silent'),
      now,
      'node-a',
      { pollMs: 60_000, retryBaseMs: 60_000, maxAttempts: 3, maxWaiting },
      (m, at) => links.render(m, at),
    );
    service = new AccountService({
      store,
      passwords: cheapPasswordHasher(),
      outbox,
      links,
      clock: now,
      events: { publish: () => undefined },
      resetLimiter: new MemoryRateLimiter({ points: 3, windowS: 3_600, keyPrefix: 'invite-test' }),
      resetRequestLimiter: new MemoryRateLimiter({ points: 3, windowS: 3_600, keyPrefix: 'invite-ask-test' }),
      jobs: new JobRunner(createLogger('silent')),
    });
    const org = await createOrg(store);
    const a = await createUser(store, org.id, 'admin');
    admin = { id: a.id, orgId: org.id, role: 'admin' };
    users = [];
    for (let i = 0; i < USERS; i++) users.push(await createUser(store, org.id, 'student', { password: null }));
    counted.reset();
  }

  afterEach(async () => {
    await outbox.stop();
    await counted.store.close();
    await setup.cleanup?.();
  });

  const invitations = async () => (await counted.store.outbox.list(admin.orgId, { limit: 1_000, offset: 0 })).items;
  const inviteAudit = async () =>
    (await counted.store.reports.audit(admin.orgId, { actions: ['user.invite'], limit: 1_000, offset: 0 })).items;

  it('queues and audits every invitation once, in a number of store calls that does not grow with the batch', async () => {
    await start(1_000);
    const ids = [...users.map((u) => u.id), users[0]!.id, 'no-such-user'];
    const report = await service.inviteMany(admin, ids);
    expect(report).to.deep.equal({ queued: USERS, skipped: ['no-such-user'], resets: 0 });
    expect(counted.counts.get('outbox.enqueue') ?? 0).to.equal(0);
    expect(counted.total(), JSON.stringify(Object.fromEntries(counted.counts))).to.be.at.most(INVITE_CALLS_MAX);
    const queued = await invitations();
    expect(queued.map((m) => m.to)).to.have.members(users.map((u) => u.email));
    expect((await inviteAudit()).map((e) => [e.entityId, e.actorId])).to.have.deep.members(users.map((u) => [u.id, admin.id]));
    // Invited again while they wait: the waiting invitations answer, nothing new is queued or lost.
    expect(await service.inviteMany(admin, ids)).to.deep.equal({ queued: USERS, skipped: ['no-such-user'], resets: 0 });
    expect((await invitations()).map((m) => m.id)).to.have.members(queued.map((m) => m.id));
  });

  it('stops at the outbox bound as one by one did: the first ones queued and audited, the rest skipped; none: BUSY', async () => {
    await start(USERS - 5);
    const report = await service.inviteMany(
      admin,
      users.map((u) => u.id),
    );
    expect(report.queued).to.equal(USERS - 5);
    expect(report.skipped).to.have.length(5);
    const invited = users.filter((u) => !report.skipped.includes(u.id));
    expect((await invitations()).map((m) => m.to)).to.have.members(invited.map((u) => u.email));
    expect((await inviteAudit()).map((e) => e.entityId)).to.have.members(invited.map((u) => u.id));
    await expectCode(service.inviteMany(admin, report.skipped), 'BUSY');
    expect(await inviteAudit()).to.have.length(USERS - 5);
  });
}

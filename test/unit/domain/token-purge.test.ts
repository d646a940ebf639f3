import { expect } from 'chai';
import { purgeTokens, TOKEN_PURGE_JOB } from '../../../src/domain/accounts/token-purge.js';
import { ScheduledJob } from '../../../src/domain/jobs/scheduled-job.js';
import { createLogger } from '../../../src/logger.js';
import { createSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../../src/domain/ports/store.js';

// The token purge and the job lease that runs it once per interval across nodes, over one
// store shared by two "nodes" and an injected clock.

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 2, 2, 9, 0, 0);

describe('scheduled token purge', () => {
  let store: Store;
  let now: number;
  const clock = () => new Date(now);
  const logger = createLogger('silent');

  beforeEach(async () => {
    store = await createSqliteStore({ path: ':memory:' });
    now = T0;
  });
  afterEach(async () => {
    await store.close();
  });

  function node(owner: string, runs: string[], run?: () => Promise<void>): ScheduledJob {
    return new ScheduledJob(store, logger, clock, { name: TOKEN_PURGE_JOB, owner, intervalMs: HOUR }, async () => {
      runs.push(owner);
      await run?.();
    });
  }

  it('runs once per interval across two nodes', async () => {
    const runs: string[] = [];
    const a = node('a', runs);
    const b = node('b', runs);
    expect([await a.tick(), await b.tick()]).to.deep.equal([true, false]);
    now = T0 + 30 * 60_000;
    expect([await b.tick(), await a.tick()]).to.deep.equal([false, false]);
    now = T0 + HOUR;
    expect([await b.tick(), await a.tick()]).to.deep.equal([true, false]);
    expect(runs).to.deep.equal(['a', 'b']);
  });

  it('a failed run is not recorded: the next check runs it again, on any node', async () => {
    const runs: string[] = [];
    const a = node('a', runs, () => Promise.reject(new Error('store down')));
    const b = node('b', runs);
    let error: unknown = null;
    await a.tick().catch((err: unknown) => (error = err));
    expect((error as Error).message).to.equal('store down');
    now = T0 + 1_000;
    expect(await b.tick()).to.equal(true);
    expect(runs).to.deep.equal(['a', 'b']);
  });

  it('deletes refresh tokens expired over a day ago and used or expired links, with an audit entry per organisation', async () => {
    const org = await store.organisations.create({ name: 'A', slug: 'a', timezone: 'UTC' });
    const other = await store.organisations.create({ name: 'B', slug: 'b', timezone: 'UTC' });
    const refresh = (orgId: string, hash: string, expiresAt: number) =>
      store.refreshTokens.create({ orgId, userId: 'u', familyId: hash, tokenHash: hash, expiresAt: new Date(expiresAt) });
    await refresh(org.id, 'old', T0 - DAY - 1);
    await refresh(org.id, 'recent', T0 - DAY + 1);
    await refresh(other.id, 'old-b', T0 - 2 * DAY);
    const link = (orgId: string, hash: string, expiresAt: number) =>
      store.accountTokens.create({
        orgId,
        userId: 'u',
        purpose: 'reset',
        tokenHash: hash,
        expiresAt: new Date(expiresAt),
        createdAt: new Date(T0 - HOUR),
      });
    await link(org.id, 'used', T0 + HOUR);
    await store.accountTokens.consume('used', new Date(T0 - 1));
    await link(org.id, 'expired', T0 - 1);
    await link(org.id, 'live', T0 + HOUR);

    expect(await purgeTokens(store, clock())).to.deep.equal({ refreshTokens: 2, accountTokens: 2, outbox: 0, webhookDeliveries: 0 });
    expect(await store.refreshTokens.findByHash('old')).to.equal(null);
    expect(await store.refreshTokens.findByHash('recent')).to.not.equal(null);
    expect(await store.accountTokens.consume('live', clock())).to.not.equal(null);

    const entries = await store.audit.listForEntity(org.id, 'organisation', org.id);
    expect(entries.map((e) => ({ action: e.action, to: e.to, actorId: e.actorId, at: e.at.getTime() }))).to.deep.equal([
      { action: 'tokens.purge', to: { refreshTokens: 1, accountTokens: 2, outbox: 0, webhookDeliveries: 0 }, actorId: null, at: T0 },
    ]);
    const otherEntries = await store.audit.listForEntity(other.id, 'organisation', other.id);
    expect(otherEntries.map((e) => e.to)).to.deep.equal([{ refreshTokens: 1, accountTokens: 0, outbox: 0, webhookDeliveries: 0 }]);
  });
});

import { expect } from 'chai';
import type { AuditEntry } from '../../src/domain/ports/audit.js';
import type { DailySummary } from '../../src/domain/ports/summaries.js';
import type { FaceEnrolment } from '../../src/domain/ports/faces.js';
import type { ContractContext } from './store-contract.js';
import { expectConflict, makeOrg } from './fixtures.js';

// Daily summaries, audit trail, refresh tokens and face enrolments.

const T0 = Date.UTC(2025, 5, 1, 12, 0, 0, 0);

function summary(orgId: string, subjectId: string, day: string, present: number): Omit<DailySummary, 'updatedAt'> {
  return { orgId, subjectId, day, present, late: 1, absent: 2, excused: 0, total: present + 3, percentage: 57.1 };
}

export function supportContract(ctx: ContractContext): void {
  describe('summaries', function () {
    it('upsert inserts, then replaces the summary of (subject, day)', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const first = await s.summaries.upsert(summary(org.id, 'sub', '2025-03-01', 4));
      expect(first).to.deep.include(summary(org.id, 'sub', '2025-03-01', 4));
      expect(first.updatedAt).to.be.instanceOf(Date);
      expect(await s.summaries.get(org.id, 'sub', '2025-03-01')).to.deep.equal(first);
      const replaced = await s.summaries.upsert({ ...summary(org.id, 'sub', '2025-03-01', 9), excused: 1, percentage: 83.3 });
      expect(replaced).to.include({ present: 9, excused: 1, percentage: 83.3 });
      expect(await s.summaries.get(org.id, 'sub', '2025-03-01')).to.deep.equal(replaced);
      expect(await s.summaries.list(org.id, 'sub', '2025-01-01', '2025-12-31')).to.have.length(1);
      expect(await s.summaries.get(org.id, 'sub', '2025-03-02')).to.equal(null);
    });

    it('lists an inclusive day range oldest first, scoped to organisation and subject', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      for (const day of ['2025-03-04', '2025-03-01', '2025-03-03', '2025-03-02', '2025-03-05']) {
        await s.summaries.upsert(summary(org.id, 'sub', day, 1));
      }
      await s.summaries.upsert(summary(org.id, 'other-sub', '2025-03-03', 1));
      await s.summaries.upsert(summary(other.id, 'their-sub', '2025-03-03', 1));
      const got = await s.summaries.list(org.id, 'sub', '2025-03-02', '2025-03-04');
      expect(got.map((x) => x.day)).to.deep.equal(['2025-03-02', '2025-03-03', '2025-03-04']);
      expect(got.every((x) => x.subjectId === 'sub' && x.orgId === org.id)).to.equal(true);
      expect(await s.summaries.list(other.id, 'sub', '2025-03-01', '2025-03-05')).to.deep.equal([]);
      expect(await s.summaries.get(other.id, 'sub', '2025-03-03')).to.equal(null);
    });
  });

  describe('audit', function () {
    const entry = (orgId: string, over: Partial<AuditEntry> = {}): Omit<AuditEntry, 'id'> => ({
      orgId,
      entityType: 'record',
      entityId: 'rec-1',
      sessionId: 'sess-1',
      actorId: 'teacher-1',
      action: 'record.correct',
      from: { status: 'rejected', flags: ['A'] },
      to: { status: 'present', n: 1.5, nested: { ok: true } },
      reason: 'MARKED_BY_TEACHER',
      ip: '10.0.0.1',
      at: new Date(T0),
      ...over,
    });

    it('appends with an id and lists per entity and per session, oldest first', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      const late = await s.audit.append(entry(org.id, { at: new Date(T0 + 2_000), action: 'record.correct' }));
      const early = await s.audit.append(entry(org.id, { at: new Date(T0 + 1), action: 'record.mark' }));
      const sessionOnly = await s.audit.append(
        entry(org.id, {
          entityType: 'session',
          entityId: 'sess-1',
          at: new Date(T0 + 5_000),
          from: null,
          to: 'closed',
          actorId: null,
          ip: null,
          reason: null,
        }),
      );
      await s.audit.append(entry(org.id, { entityId: 'rec-2', sessionId: 'sess-2' }));
      await s.audit.append(entry(other.id));
      expect(early.id).to.be.a('string').and.not.equal(late.id);

      const forEntity = await s.audit.listForEntity(org.id, 'record', 'rec-1');
      expect(forEntity).to.deep.equal([early, late]);
      expect(forEntity[0]!.to).to.deep.equal({ status: 'present', n: 1.5, nested: { ok: true } });
      const forSession = await s.audit.listForSession(org.id, 'sess-1');
      expect(forSession).to.deep.equal([early, late, sessionOnly]);
      expect(sessionOnly).to.include({ from: null, to: 'closed', actorId: null });
      expect(await s.audit.listForEntity(org.id, 'session', 'rec-1')).to.deep.equal([]);
      expect((await s.audit.listForEntity(other.id, 'record', 'rec-1')).map((a) => a.orgId)).to.deep.equal([other.id]);
    });
  });

  describe('refresh tokens', function () {
    const token = (orgId: string, userId: string, familyId: string, hash: string, expiresAt = new Date(T0 + 86_400_000)) => ({
      orgId,
      userId,
      familyId,
      tokenHash: hash,
      expiresAt,
    });

    it('creates, finds by hash and keeps hashes unique', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const t = await s.refreshTokens.create(token(org.id, 'u1', 'f1', 'h1', new Date(T0 + 123)));
      expect(t).to.include({ rotatedAt: null, revokedAt: null, tokenHash: 'h1', familyId: 'f1' });
      expect(await s.refreshTokens.findByHash('h1')).to.deep.equal(t);
      expect((await s.refreshTokens.findByHash('h1'))!.expiresAt.getTime()).to.equal(T0 + 123);
      expect(await s.refreshTokens.findByHash('nope')).to.equal(null);
      await expectConflict(s.refreshTokens.create(token(org.id, 'u2', 'f2', 'h1')), 'tokenHash');
    });

    it('markRotated succeeds once, and never on a revoked token', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const t = await s.refreshTokens.create(token(org.id, 'u1', 'f1', 'h1'));
      expect(await s.refreshTokens.markRotated(t.id, new Date(T0 + 7))).to.equal(true);
      expect(await s.refreshTokens.markRotated(t.id, new Date(T0 + 8))).to.equal(false);
      expect((await s.refreshTokens.findByHash('h1'))!.rotatedAt!.getTime()).to.equal(T0 + 7);
      const r = await s.refreshTokens.create(token(org.id, 'u1', 'f2', 'h2'));
      await s.refreshTokens.revokeFamily('f2', new Date(T0));
      expect(await s.refreshTokens.markRotated(r.id, new Date(T0 + 9))).to.equal(false);
      expect(await s.refreshTokens.markRotated('missing', new Date(T0))).to.equal(false);
    });

    it('revokeFamily revokes every token of the family and no other', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      await s.refreshTokens.create(token(org.id, 'u1', 'f1', 'h1'));
      await s.refreshTokens.create(token(org.id, 'u1', 'f1', 'h2'));
      await s.refreshTokens.create(token(org.id, 'u1', 'f2', 'h3'));
      expect(await s.refreshTokens.revokeFamily('f1', new Date(T0 + 1))).to.equal(2);
      expect((await s.refreshTokens.findByHash('h1'))!.revokedAt!.getTime()).to.equal(T0 + 1);
      expect((await s.refreshTokens.findByHash('h2'))!.revokedAt!.getTime()).to.equal(T0 + 1);
      expect((await s.refreshTokens.findByHash('h3'))!.revokedAt).to.equal(null);
      expect(await s.refreshTokens.revokeFamily('none', new Date(T0))).to.equal(0);
      expect(await s.refreshTokens.familyRevoked('f1')).to.equal(true);
      expect(await s.refreshTokens.familyRevoked('f2')).to.equal(false);
      expect(await s.refreshTokens.familyRevoked('none')).to.equal(false);
      expect(await s.refreshTokens.revokedFamilies(['f2', 'f1', 'none'])).to.deep.equal(['f1']);
      expect(await s.refreshTokens.revokedFamilies([])).to.deep.equal([]);
    });

    it('revokeAllForUser is scoped to the organisation', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      await s.refreshTokens.create(token(org.id, 'u1', 'f1', 'h1'));
      await s.refreshTokens.create(token(org.id, 'u1', 'f2', 'h2'));
      await s.refreshTokens.create(token(org.id, 'u2', 'f3', 'h3'));
      await s.refreshTokens.create(token(other.id, 'u1', 'f4', 'h4'));
      expect(await s.refreshTokens.revokeAllForUser(org.id, 'u1', new Date(T0))).to.equal(2);
      expect((await s.refreshTokens.findByHash('h1'))!.revokedAt).to.be.instanceOf(Date);
      expect((await s.refreshTokens.findByHash('h2'))!.revokedAt).to.be.instanceOf(Date);
      expect((await s.refreshTokens.findByHash('h3'))!.revokedAt).to.equal(null);
      expect((await s.refreshTokens.findByHash('h4'))!.revokedAt).to.equal(null);
    });

    it('deleteExpired deletes only tokens that expired before the cut-off', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      await s.refreshTokens.create(token(org.id, 'u1', 'f1', 'old1', new Date(T0 - 2)));
      await s.refreshTokens.create(token(org.id, 'u1', 'f1', 'old2', new Date(T0 - 1)));
      await s.refreshTokens.create(token(org.id, 'u1', 'f1', 'edge', new Date(T0)));
      await s.refreshTokens.create(token(org.id, 'u1', 'f1', 'new', new Date(T0 + 1)));
      expect(await s.refreshTokens.deleteExpired(new Date(T0))).to.equal(2);
      expect(await s.refreshTokens.findByHash('old1')).to.equal(null);
      expect(await s.refreshTokens.findByHash('old2')).to.equal(null);
      expect(await s.refreshTokens.findByHash('edge')).to.not.equal(null);
      expect(await s.refreshTokens.findByHash('new')).to.not.equal(null);
      expect(await s.refreshTokens.deleteExpired(new Date(T0))).to.equal(0);
    });

    it('purgeExpired deletes tokens expired before the cut-off in every organisation, counted by organisation', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      await s.refreshTokens.create(token(org.id, 'u1', 'f1', 'a', new Date(T0 - 2)));
      await s.refreshTokens.create(token(org.id, 'u2', 'f2', 'b', new Date(T0 - 1)));
      await s.refreshTokens.create(token(org.id, 'u1', 'f1', 'edge', new Date(T0)));
      await s.refreshTokens.create(token(other.id, 'u3', 'f3', 'c', new Date(T0 - 1)));
      await s.refreshTokens.create(token(other.id, 'u3', 'f3', 'new', new Date(T0 + 1)));
      const counts = await s.refreshTokens.purgeExpired(new Date(T0));
      expect([...counts].sort((x, y) => y.count - x.count)).to.deep.equal([
        { orgId: org.id, count: 2 },
        { orgId: other.id, count: 1 },
      ]);
      expect(await s.refreshTokens.findByHash('a')).to.equal(null);
      expect(await s.refreshTokens.findByHash('c')).to.equal(null);
      expect(await s.refreshTokens.findByHash('edge')).to.not.equal(null);
      expect(await s.refreshTokens.findByHash('new')).to.not.equal(null);
      expect(await s.refreshTokens.purgeExpired(new Date(T0))).to.deep.equal([]);
    });

    it('keeps the user agent and address of each token', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const t = await s.refreshTokens.create({ ...token(org.id, 'u1', 'f1', 'h1'), userAgent: 'Firefox', ip: '203.0.113.9' });
      expect(t).to.include({ userAgent: 'Firefox', ip: '203.0.113.9' });
      expect(await s.refreshTokens.findByHash('h1')).to.deep.equal(t);
      expect(await s.refreshTokens.create(token(org.id, 'u1', 'f2', 'h2'))).to.include({ userAgent: null, ip: null });
    });

    it('listActiveLogins gives each live login once: its current token, first use and last use', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const now = new Date(Date.now());
      const later = new Date(now.getTime() + 86_400_000);
      const first = await s.refreshTokens.create({ ...token(org.id, 'u1', 'f1', 'h1', later), userAgent: 'Old', ip: '10.0.0.1' });
      await s.refreshTokens.markRotated(first.id, now);
      const head = await s.refreshTokens.create({ ...token(org.id, 'u1', 'f1', 'h2', later), userAgent: 'New', ip: '10.0.0.2' });
      await s.refreshTokens.create(token(org.id, 'u1', 'revoked', 'h3', later));
      await s.refreshTokens.revokeFamily('revoked', now);
      await s.refreshTokens.create(token(org.id, 'u1', 'expired', 'h4', new Date(now.getTime() - 1)));
      await s.refreshTokens.create(token(org.id, 'u2', 'theirs', 'h5', later));
      await s.refreshTokens.create(token((await makeOrg(s)).id, 'u1', 'other-org', 'h6', later));
      const logins = await s.refreshTokens.listActiveLogins(org.id, 'u1', now);
      expect(logins).to.deep.equal([
        { familyId: 'f1', startedAt: first.createdAt, lastUsedAt: head.createdAt, userAgent: 'New', ip: '10.0.0.2', expiresAt: later },
      ]);
      expect(await s.refreshTokens.listActiveLogins(org.id, 'nobody', now)).to.deep.equal([]);
    });
  });

  describe('account tokens (set-password links)', function () {
    const link = (orgId: string, userId: string, hash: string, expiresAt: Date, purpose: 'invite' | 'reset' = 'invite') => ({
      orgId,
      userId,
      purpose,
      tokenHash: hash,
      expiresAt,
      createdAt: new Date(T0),
    });

    it('consume returns an unused, unexpired link once, and nothing for an unknown one', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const t = await s.accountTokens.create(link(org.id, 'u1', 'h1', new Date(T0 + 1_000), 'reset'));
      expect(t).to.include({ usedAt: null, purpose: 'reset', tokenHash: 'h1', userId: 'u1', orgId: org.id });
      const used = await s.accountTokens.consume('h1', new Date(T0 + 10));
      expect(used).to.deep.equal({ ...t, usedAt: new Date(T0 + 10) });
      expect(await s.accountTokens.consume('h1', new Date(T0 + 11))).to.equal(null);
      expect(await s.accountTokens.consume('unknown', new Date(T0))).to.equal(null);
      await expectConflict(s.accountTokens.create(link(org.id, 'u2', 'h1', new Date(T0 + 1_000))), 'tokenHash');
    });

    it('consume refuses a link at or after its expiry', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      await s.accountTokens.create(link(org.id, 'u1', 'h1', new Date(T0 + 1_000)));
      expect(await s.accountTokens.consume('h1', new Date(T0 + 1_000))).to.equal(null);
      expect(await s.accountTokens.consume('h1', new Date(T0 + 999))).to.not.equal(null);
    });

    it('of concurrent consumes exactly one wins', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      await s.accountTokens.create(link(org.id, 'u1', 'h1', new Date(T0 + 1_000)));
      const got = await Promise.all(Array.from({ length: 5 }, () => s.accountTokens.consume('h1', new Date(T0))));
      expect(got.filter((g) => g !== null)).to.have.length(1);
    });

    it('voidForUser uses up the unused links of that user in that organisation only', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      await s.accountTokens.create(link(org.id, 'u1', 'a', new Date(T0 + 1_000)));
      await s.accountTokens.create(link(org.id, 'u1', 'b', new Date(T0 + 1_000)));
      await s.accountTokens.create(link(org.id, 'u2', 'c', new Date(T0 + 1_000)));
      await s.accountTokens.create(link(other.id, 'u1', 'd', new Date(T0 + 1_000)));
      await s.accountTokens.consume('b', new Date(T0));
      expect(await s.accountTokens.voidForUser(org.id, 'u1', new Date(T0 + 1))).to.equal(1);
      expect(await s.accountTokens.consume('a', new Date(T0 + 2))).to.equal(null);
      expect(await s.accountTokens.consume('c', new Date(T0 + 2))).to.not.equal(null);
      expect(await s.accountTokens.consume('d', new Date(T0 + 2))).to.not.equal(null);
    });

    it('deleteExpired deletes only links that expired before the cut-off', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      await s.accountTokens.create(link(org.id, 'u1', 'old', new Date(T0 - 1)));
      await s.accountTokens.create(link(org.id, 'u1', 'edge', new Date(T0)));
      expect(await s.accountTokens.deleteExpired(new Date(T0))).to.equal(1);
      expect(await s.accountTokens.consume('edge', new Date(T0 - 5))).to.not.equal(null);
    });

    it('purgeSpent deletes used links and links expired at now, counted by organisation', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      await s.accountTokens.create(link(org.id, 'u1', 'used', new Date(T0 + 1_000)));
      await s.accountTokens.consume('used', new Date(T0 - 10));
      await s.accountTokens.create(link(org.id, 'u1', 'expired', new Date(T0)));
      await s.accountTokens.create(link(org.id, 'u2', 'live', new Date(T0 + 1)));
      await s.accountTokens.create(link(other.id, 'u3', 'gone', new Date(T0 - 1)));
      const counts = await s.accountTokens.purgeSpent(new Date(T0));
      expect([...counts].sort((x, y) => y.count - x.count)).to.deep.equal([
        { orgId: org.id, count: 2 },
        { orgId: other.id, count: 1 },
      ]);
      expect(await s.accountTokens.deleteExpired(new Date(T0 + 10_000)), 'only the live link was left').to.equal(1);
      expect(await s.accountTokens.purgeSpent(new Date(T0))).to.deep.equal([]);
    });
  });

  describe('job leases', function () {
    const at = (ms: number) => new Date(T0 + ms);
    const HOUR = 3_600_000;

    it('a never-run job is claimed by one owner; others are refused until it is released', async function () {
      const s = ctx.store();
      expect(await s.jobs.claim('purge', 'a', at(30_000), at(0), at(-HOUR))).to.equal(true);
      expect(await s.jobs.claim('purge', 'b', at(30_000), at(1), at(1 - HOUR))).to.equal(false);
      expect(await s.jobs.claim('purge', 'a', at(40_000), at(2), at(2 - HOUR)), 'the holder renews').to.equal(true);
      expect(await s.jobs.claim('other-job', 'b', at(30_000), at(2), at(2 - HOUR)), 'leases are per job').to.equal(true);
      await s.jobs.release('purge', 'b');
      expect(await s.jobs.claim('purge', 'b', at(30_000), at(3), at(3 - HOUR)), 'release by a non-holder does nothing').to.equal(false);
      await s.jobs.release('purge', 'a');
      expect(await s.jobs.claim('purge', 'b', at(30_000), at(4), at(4 - HOUR)), 'released without a run: still due').to.equal(true);
    });

    it('a finished run makes the job not due until its last run is old enough, for every owner', async function () {
      const s = ctx.store();
      expect(await s.jobs.claim('purge', 'a', at(30_000), at(0), at(-HOUR))).to.equal(true);
      await s.jobs.finish('purge', 'a', at(10));
      expect(await s.jobs.claim('purge', 'b', at(60_000), at(20), at(20 - HOUR))).to.equal(false);
      expect(await s.jobs.claim('purge', 'a', at(60_000), at(20), at(20 - HOUR))).to.equal(false);
      expect(await s.jobs.claim('purge', 'b', at(HOUR + 40_000), at(HOUR + 10), at(10))).to.equal(true);
    });

    it('renew extends a lease only while its owner holds it (a fence before a write)', async function () {
      const s = ctx.store();
      const ALWAYS_DUE = new Date(8.64e15);
      expect(await s.jobs.claim('slots:x', 'a', at(15_000), at(0), ALWAYS_DUE)).to.equal(true);
      expect(await s.jobs.renew('slots:x', 'a', at(30_000)), 'the holder').to.equal(true);
      expect(await s.jobs.claim('slots:x', 'b', at(40_000), at(20_000), ALWAYS_DUE), 'renewed: not expired at 20 s').to.equal(false);
      expect(await s.jobs.renew('slots:x', 'b', at(45_000)), 'not the holder').to.equal(false);
      expect(await s.jobs.renew('slots:x', 'a', at(15_000)), 'expired but nobody took it: still the holder').to.equal(true);
      expect(await s.jobs.claim('slots:x', 'b', at(60_000), at(31_000), ALWAYS_DUE), 'expired: taken over').to.equal(true);
      expect(await s.jobs.renew('slots:x', 'a', at(70_000)), 'taken over').to.equal(false);
      await s.jobs.release('slots:x', 'b');
      expect(await s.jobs.renew('slots:x', 'a', at(70_000)), 'freed by the other').to.equal(false);
      expect(await s.jobs.renew('never-claimed', 'a', at(70_000))).to.equal(false);
    });

    it('an expired lease is taken over by another owner', async function () {
      const s = ctx.store();
      expect(await s.jobs.claim('purge', 'crashed', at(1_000), at(0), at(-HOUR))).to.equal(true);
      expect(await s.jobs.claim('purge', 'b', at(31_000), at(1_000), at(1_000 - HOUR)), 'not before it expires').to.equal(false);
      expect(await s.jobs.claim('purge', 'b', at(31_001), at(1_001), at(1_001 - HOUR))).to.equal(true);
      await s.jobs.finish('purge', 'crashed', at(1_002));
      expect(await s.jobs.claim('purge', 'c', at(40_000), at(2_000), at(2_000 - HOUR)), "the old holder's finish is ignored").to.equal(
        false,
      );
    });

    it('of concurrent claims exactly one wins', async function () {
      const s = ctx.store();
      const got = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((owner) => s.jobs.claim('purge', owner, at(30_000), at(0), at(-HOUR))));
      expect(got.filter(Boolean)).to.have.length(1);
    });
  });

  describe('faces', function () {
    const face = (orgId: string, userId: string, embeddings: number[][], photos: Buffer[] | null) => ({
      orgId,
      userId,
      modelId: 'faceres',
      modelVersion: '3.3.6',
      embeddings,
      photos,
    });

    it('put stores and replaces; embeddings and photos round-trip exactly', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const emb = [
        [0.1, -0.2, 1 / 3, 1e-9],
        [Math.PI, 0, 0.5, 42],
      ];
      const photos = [Buffer.from([0, 1, 2, 255]), Buffer.alloc(0), Buffer.from('jpeg-bytes')];
      const put = await s.faces.put(face(org.id, 'u1', emb, photos));
      expect(put.updatedAt).to.be.instanceOf(Date);
      const got = await s.faces.get(org.id, 'u1');
      expect(got).to.deep.equal(put);
      expect(got!.embeddings).to.deep.equal(emb);
      expect(got!.photos!.map((p) => p.toString('hex'))).to.deep.equal(photos.map((p) => p.toString('hex')));

      const replaced = await s.faces.put({ ...face(org.id, 'u1', [[9, 8, 7]], null), modelVersion: '4.0.0' });
      expect(await s.faces.get(org.id, 'u1')).to.deep.equal(replaced);
      expect(replaced).to.include({ photos: null, modelVersion: '4.0.0' });
      expect(await s.transfer.count('faces')).to.equal(1);
    });

    it('create sets an enrolment only where none is: of concurrent creates one wins, a put stays', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      const photos = [Buffer.from('first')];
      const created = await s.faces.create(face(org.id, 'u1', [[1, 2]], photos));
      expect(created).to.not.equal(null);
      expect(await s.faces.get(org.id, 'u1')).to.deep.equal(created);
      expect(await s.faces.create(face(org.id, 'u1', [[3, 4]], null))).to.equal(null);
      expect((await s.faces.get(org.id, 'u1'))!.embeddings).to.deep.equal([[1, 2]]);
      // The same user id in another organisation is another user.
      expect(await s.faces.create(face(other.id, 'u1', [[5]], null))).to.not.equal(null);

      await s.faces.put(face(org.id, 'u2', [[6]], null));
      expect(await s.faces.create(face(org.id, 'u2', [[7]], null))).to.equal(null);
      const raced = await Promise.all([8, 9, 10].map((n) => s.faces.create(face(org.id, 'u3', [[n]], null))));
      const winners = raced.filter((r) => r !== null);
      expect(winners).to.have.length(1);
      expect((await s.faces.get(org.id, 'u3'))!.embeddings).to.deep.equal(winners[0]!.embeddings);
      expect(await s.transfer.count('faces')).to.equal(4);
    });

    it('two re-enrolments of one student at the same moment: one wins wholly, never a mix of the two', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      // Two admins' enrolments that differ in every field a mix could take from either.
      const a = {
        ...face(
          org.id,
          'u1',
          [
            [1, 1, 1],
            [1, 1, 1],
          ],
          [Buffer.from('a-1'), Buffer.from('a-2')],
        ),
        modelId: 'm-a',
        modelVersion: '1',
      };
      const b = { ...face(org.id, 'u1', [[2, 2, 2]], null), modelId: 'm-b', modelVersion: '2' };
      const fields = (f: FaceEnrolment | null) =>
        f && { modelId: f.modelId, modelVersion: f.modelVersion, embeddings: f.embeddings, photos: f.photos?.map(String) ?? null };
      const wholly = [fields({ ...a, updatedAt: new Date() }), fields({ ...b, updatedAt: new Date() })];
      // The first round races two inserts (no enrolment yet), the others two replacements.
      for (let round = 0; round < 8; round += 1) {
        const [first, second] = round % 2 === 0 ? [a, b] : [b, a];
        const saved = await Promise.all([s.faces.put(first), s.faces.put(second)]);
        expect(saved.map(fields)).to.deep.equal([
          fields({ ...first, updatedAt: new Date() }),
          fields({ ...second, updatedAt: new Date() }),
        ]);
        expect(wholly).to.deep.include(fields(await s.faces.get(org.id, 'u1')));
      }
      expect(await s.transfer.count('faces')).to.equal(1);
    });

    it('getMany, delete and organisation scoping', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      await s.faces.put(face(org.id, 'u1', [[1]], null));
      await s.faces.put(face(org.id, 'u2', [[2]], null));
      await s.faces.put(face(other.id, 'u3', [[3]], null));
      await s.faces.put(face(other.id, 'u1', [[4]], null));
      const many = await s.faces.getMany(org.id, ['u1', 'u2', 'u3', 'nobody']);
      expect(many.map((f) => f.userId).sort()).to.deep.equal(['u1', 'u2']);
      expect(many.find((f) => f.userId === 'u1')!.embeddings).to.deep.equal([[1]]);
      expect(await s.faces.getMany(org.id, [])).to.deep.equal([]);
      expect(await s.faces.get(org.id, 'u3')).to.equal(null);
      expect(await s.faces.delete(org.id, 'u3')).to.equal(false);
      expect(await s.faces.delete(org.id, 'u1')).to.equal(true);
      expect(await s.faces.delete(org.id, 'u1')).to.equal(false);
      expect(await s.faces.get(org.id, 'u1')).to.equal(null);
      expect((await s.faces.get(other.id, 'u1'))!.embeddings).to.deep.equal([[4]]);
    });
  });

  describe('face proposals', function () {
    const proposal = (orgId: string, userId: string, at: number, embeddings: number[][] = [[0.25, -0.5]]) => ({
      orgId,
      userId,
      modelId: 'faceres',
      modelVersion: '3.3.6',
      embeddings,
      photos: [Buffer.from([0, 1, 255]), Buffer.from('jpeg')],
      proposedBy: 'teacher-1',
      createdAt: new Date(T0 + at),
    });

    it('put replaces the pending proposal; photos and embeddings round-trip exactly', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const put = await s.faceProposals.put(proposal(org.id, 'u1', 0));
      expect(await s.faceProposals.get(org.id, 'u1')).to.deep.equal(put);
      const replaced = await s.faceProposals.put(proposal(org.id, 'u1', 1_000, [[1 / 3, 2]]));
      const got = await s.faceProposals.get(org.id, 'u1');
      expect(got).to.deep.equal(replaced);
      expect(got!.embeddings).to.deep.equal([[1 / 3, 2]]);
      expect(got!.photos.map((p) => p.toString('hex'))).to.deep.equal(['0001ff', Buffer.from('jpeg').toString('hex')]);
      expect(await s.transfer.count('faceProposals')).to.equal(1);
    });

    it('lists oldest first with paging, scoped to the organisation; take hands a proposal out once', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      await s.faceProposals.put(proposal(org.id, 'late', 2_000));
      await s.faceProposals.put(proposal(org.id, 'early', 1_000));
      await s.faceProposals.put(proposal(other.id, 'x', 0));
      const page = await s.faceProposals.list(org.id, { limit: 1, offset: 0 });
      expect(page.total).to.equal(2);
      expect(page.items.map((p) => p.userId)).to.deep.equal(['early']);
      expect((await s.faceProposals.list(org.id, { limit: 10, offset: 1 })).items.map((p) => p.userId)).to.deep.equal(['late']);
      expect(await s.faceProposals.take(other.id, 'early')).to.equal(null);
      const taken = await Promise.all([s.faceProposals.take(org.id, 'early'), s.faceProposals.take(org.id, 'early')]);
      expect(taken.filter((t) => t !== null)).to.have.length(1);
      expect(taken.find((t) => t !== null)!.userId).to.equal('early');
      expect(await s.faceProposals.get(org.id, 'early')).to.equal(null);
      expect((await s.faceProposals.list(org.id, { limit: 10, offset: 0 })).total).to.equal(1);
    });
  });
}

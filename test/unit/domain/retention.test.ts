import { expect } from 'chai';
import { codeAt } from '../../../src/domain/checks/rotating-code.js';
import { ScheduledJob } from '../../../src/domain/jobs/scheduled-job.js';
import { applyRetention, RETENTION_JOB, truncateIp } from '../../../src/domain/privacy/retention.js';
import { createLogger } from '../../../src/logger.js';
import { createSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import type { SessionView } from '../../../src/shared/events.js';
import { createLiveFixture, northOf, type LiveFixture } from '../../support/live-fixture.js';

// Retention: addresses cut to their network, the never-store-coordinates mode of check-ins, and
// the scheduled pass run once per interval across two nodes with an injected clock.

const DAY = 86_400_000;

describe('retention', () => {
  describe('truncateIp', () => {
    it('keeps the /24 of IPv4 (mapped IPv6 included) and the /48 of IPv6', () => {
      expect(truncateIp('203.0.113.77')).to.equal('203.0.113.0/24');
      expect(truncateIp('::ffff:198.51.100.200')).to.equal('198.51.100.0/24');
      expect(truncateIp('2001:db8:abcd:12:1:2:3:4')).to.equal('2001:db8:abcd::/48');
      expect(truncateIp('2001:db8::1')).to.equal('2001:db8::/48');
      expect(truncateIp('not an address')).to.equal('0.0.0.0/0');
    });
  });

  it('cuts every address of an embedded store, however many, a batch at a time', async () => {
    const store = await createSqliteStore({ path: ':memory:' });
    try {
      const org = await store.organisations.create({ name: 'A', slug: 'a', timezone: 'UTC' });
      const at = new Date(Date.UTC(2026, 0, 1));
      for (let i = 0; i < 2_345; i += 1) {
        await store.audit.append({
          orgId: org.id,
          entityType: 'user',
          entityId: 'u',
          sessionId: null,
          actorId: 'u',
          action: 'user.update',
          from: null,
          to: null,
          reason: null,
          ip: `10.0.${i % 256}.${i % 200}`,
          at,
        });
      }
      expect(await store.retention.truncateAuditIps(org.id, at, truncateIp)).to.equal(2_345);
      expect(await store.retention.truncateAuditIps(org.id, at, truncateIp)).to.equal(0);
    } finally {
      await store.close();
    }
  });

  describe('check-ins and the scheduled pass', () => {
    let f: LiveFixture;
    let session: SessionView;
    let secret: string;

    beforeEach(async () => {
      f = await createLiveFixture();
      session = await f.live.sessions.open(f.actor(f.teacher), { subjectId: f.subject.id });
      secret = (await f.store.sessions.get(f.org.id, session.id))!.codeSecret;
    });
    afterEach(() => f.close());

    const submit = (i: number) =>
      f.live.checkins.submit(f.actor(f.students[i]!), {
        sessionId: session.id,
        location: { ...northOf(5), accuracyM: 10, timestamp: new Date(f.clock.now().getTime() - 1_000) },
        code: codeAt(secret, 15, f.clock.now()),
        ip: '10.1.2.3',
      });
    const stored = (i: number) => f.store.records.getForStudent(f.org.id, session.id, f.students[i]!.id);
    const setMode = (locationMode: 'keep' | 'never') =>
      f.store.organisations.update(f.org.id, { settings: { ...f.org.settings, retention: { ...f.org.settings.retention, locationMode } } });

    it('never stores coordinates in `never` mode: the distance and the result only', async () => {
      await submit(0);
      await setMode('never');
      expect((await submit(1)).status).to.equal('present');
      const kept = await stored(0);
      const bare = await stored(1);
      expect(kept!.location).to.not.equal(null);
      expect(bare!.location).to.equal(null);
      expect(bare!.distanceM).to.be.closeTo(5, 0.5);
      expect(bare).to.deep.include({ status: 'present', ip: '10.1.2.3' });
    });

    it('clears coordinates and cuts addresses 30 days after the close, on one node per interval', async () => {
      await submit(0);
      await submit(1);
      const closedAt = f.clock.now();
      await f.store.sessions.transition(f.org.id, session.id, ['open'], { status: 'closed', closedAt, closedBy: null });
      const logger = createLogger('silent');
      const node = (owner: string) =>
        new ScheduledJob(f.store, logger, f.clock.now, { name: RETENTION_JOB, owner, intervalMs: DAY }, async (now) => {
          await applyRetention(f.store, now);
        });
      const [a, b] = [node('a'), node('b')];
      const held = async () => [await stored(0), await stored(1)].map((r) => ({ location: r!.location !== null, ip: r!.ip }));

      f.clock.advance(29 * DAY);
      expect([await a.tick(), await b.tick()]).to.deep.equal([true, false]);
      expect(await held()).to.deep.equal([
        { location: true, ip: '10.1.2.3' },
        { location: true, ip: '10.1.2.3' },
      ]);

      f.clock.advance(DAY);
      expect([await b.tick(), await a.tick()]).to.deep.equal([true, false]);
      expect(await held()).to.deep.equal([
        { location: false, ip: '10.1.2.0/24' },
        { location: false, ip: '10.1.2.0/24' },
      ]);
      expect((await stored(0))!.status).to.equal('present');

      // Only the run that changed something is audited.
      const runs = (await f.store.audit.listForEntity(f.org.id, 'organisation', f.org.id)).filter((e) => e.action === 'retention.apply');
      // (The check-ins' audit entries are dated by the store's own clock, not the test's: their
      // addresses are the contract suite's business.)
      expect(runs).to.have.length(1);
      expect(runs[0]!.to).to.deep.include({ probes: 0, locations: 2, ips: 2, settings: f.org.settings.retention });
    });
  });
});

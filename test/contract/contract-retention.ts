import { expect } from 'chai';
import { applyRetention, truncateIp } from '../../src/domain/privacy/retention.js';
import type { Organisation, RetentionSettings } from '../../src/domain/ports/organisations.js';
import type { AttendanceRecord } from '../../src/domain/ports/records.js';
import type { Store } from '../../src/domain/ports/store.js';
import type { ContractContext } from './store-contract.js';
import { makeOrg, newRecord, newSession, newSubject, newUser } from './fixtures.js';

// Retention of check-in details: probes, coordinates and addresses of records of sessions
// closed long enough ago, with an injected `now`.

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);
const FIX = { lat: 48.85, lon: 2.35, accuracyM: 12, timestamp: new Date(NOW - 60 * DAY) };
const PROBE = [0.25, -0.5, 0.75];

/** One session closed `closedDaysAgo` before NOW (null: still open), with one full check-in record. */
async function closedSession(s: Store, org: Organisation, closedDaysAgo: number | null, ip: string): Promise<AttendanceRecord> {
  const [teacher, student] = await s.users.createMany(org.id, [newUser({ role: 'teacher' }), newUser()]);
  const subject = await s.subjects.create(org.id, newSubject({ teacherIds: [teacher!.id] }));
  const sess = await s.sessions.create(org.id, newSession(subject.id, teacher!.id));
  const { record } = await s.records.insertIfAbsent(
    org.id,
    newRecord(sess.id, subject.id, student!.id, {
      status: 'present',
      distanceM: 14,
      location: FIX,
      ip,
      verification: {
        state: 'done',
        band: 'confident',
        distance: 0.21,
        flags: [],
        reason: 'FACE_MATCH',
        completedAt: new Date(NOW - 60 * DAY),
        probe: PROBE,
      },
    }),
  );
  if (closedDaysAgo !== null) {
    const closed = await s.sessions.transition(org.id, sess.id, ['open'], {
      status: 'closed',
      closedAt: new Date(NOW - closedDaysAgo * DAY),
      closedBy: null,
    });
    expect(closed).to.not.equal(null);
  }
  return record;
}

async function withRetention(s: Store, org: Organisation, retention: Partial<RetentionSettings>): Promise<void> {
  await s.organisations.update(org.id, { settings: { ...org.settings, retention: { ...org.settings.retention, ...retention } } });
}

const detail = (r: AttendanceRecord | null) => ({
  probe: r?.verification?.probe ?? null,
  location: r?.location ?? null,
  ip: r?.ip ?? null,
});

export function retentionContract(ctx: ContractContext): void {
  describe('retention', function () {
    it('clears probes, coordinates and addresses only of sessions closed at or before the cut-off, once', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      const old = await closedSession(s, org, 40, '203.0.113.77');
      const recent = await closedSession(s, org, 2, '2001:db8:abcd:12::7');
      const open = await closedSession(s, org, null, '198.51.100.9');
      const elsewhere = await closedSession(s, other, 40, '192.0.2.1');
      const cutoff = new Date(NOW - 30 * DAY);

      expect(await s.retention.clearProbes(org.id, cutoff)).to.equal(1);
      expect(await s.retention.clearLocations(org.id, cutoff)).to.equal(1);
      expect(await s.retention.truncateIps(org.id, cutoff, truncateIp)).to.equal(1);
      // A second pass finds nothing left to change.
      expect(await s.retention.clearProbes(org.id, cutoff)).to.equal(0);
      expect(await s.retention.clearLocations(org.id, cutoff)).to.equal(0);
      expect(await s.retention.truncateIps(org.id, cutoff, truncateIp)).to.equal(0);

      const after = await s.records.get(org.id, old.id);
      expect(detail(after)).to.deep.equal({ probe: null, location: null, ip: '203.0.113.0/24' });
      // What the record says about attendance stays, and its version does not move.
      expect(after).to.deep.include({ status: 'present', distanceM: 14, version: old.version, rosterVersion: old.rosterVersion });
      expect(after!.verification).to.deep.include({ state: 'done', band: 'confident', distance: 0.21 });
      for (const kept of [recent, open]) expect(detail(await s.records.get(org.id, kept.id))).to.deep.equal(detail(kept));
      expect(detail(await s.records.get(other.id, elsewhere.id))).to.deep.equal(detail(elsewhere));

      // A later cut-off: the IPv6 address to its /48; the open session still untouched.
      expect(await s.retention.truncateIps(org.id, new Date(NOW), truncateIp)).to.equal(1);
      expect((await s.records.get(org.id, recent.id))!.ip).to.equal('2001:db8:abcd::/48');
      expect((await s.records.get(org.id, open.id))!.ip).to.equal('198.51.100.9');
    });

    it("cuts the actor's address of audit entries made at or before the cut-off, once", async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      const entry = (orgId: string, daysAgo: number, ip: string | null) =>
        s.audit.append({
          orgId,
          entityType: 'record',
          entityId: 'r',
          sessionId: 's',
          actorId: 'u',
          action: 'checkin.submit',
          from: null,
          to: { status: 'present' },
          reason: null,
          ip,
          at: new Date(NOW - daysAgo * DAY),
        });
      await entry(org.id, 40, '203.0.113.7');
      await entry(org.id, 31, '2001:db8:abcd:12::7');
      await entry(org.id, 40, null);
      await entry(org.id, 2, '203.0.113.8');
      await entry(other.id, 40, '192.0.2.1');
      const cutoff = new Date(NOW - 30 * DAY);
      expect(await s.retention.truncateAuditIps(org.id, cutoff, truncateIp)).to.equal(2);
      expect(await s.retention.truncateAuditIps(org.id, cutoff, truncateIp)).to.equal(0);
      expect((await s.audit.listForSession(org.id, 's')).map((e) => e.ip)).to.deep.equal([
        '203.0.113.0/24',
        null,
        '2001:db8:abcd::/48',
        '203.0.113.8',
      ]);
      expect((await s.audit.listForSession(other.id, 's')).map((e) => e.ip)).to.deep.equal(['192.0.2.1']);
    });

    it('a pass with an injected clock applies each organisation its own settings and audits what it changed', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const strict = await makeOrg(s);
      await withRetention(s, strict, { locationMode: 'never', probeDays: 1, ipDays: 1 });
      const a8 = await closedSession(s, org, 8, '203.0.113.8');
      const a3 = await closedSession(s, org, 3, '203.0.113.3');
      const a31 = await closedSession(s, org, 31, '203.0.113.31');
      const b2 = await closedSession(s, strict, 2, '::ffff:192.0.2.55');
      const b0 = await closedSession(s, strict, 0, '192.0.2.56');

      const held = async () => {
        const records = [
          ...(await s.records.listBySessions(org.id, [a8.sessionId, a3.sessionId, a31.sessionId])),
          ...(await s.records.listBySessions(strict.id, [b2.sessionId, b0.sessionId])),
        ];
        return {
          probes: records.filter((r) => r.verification?.probe).length,
          locations: records.filter((r) => r.location).length,
          fullIps: records.filter((r) => r.ip && !r.ip.includes('/')).length,
        };
      };
      expect(await held()).to.deep.equal({ probes: 5, locations: 5, fullIps: 5 });

      // Defaults (probes 7 days, coordinates and addresses 30); strict: coordinates never, the rest after a day.
      expect(await applyRetention(s, new Date(NOW))).to.deep.equal({ organisations: 2, probes: 3, locations: 3, ips: 2, auditIps: 0 });
      expect(await held()).to.deep.equal({ probes: 2, locations: 2, fullIps: 3 });
      expect((await s.records.get(strict.id, b2.id))!.ip).to.equal('192.0.2.0/24');
      expect((await s.records.get(org.id, a31.id))!.location).to.equal(null);
      expect((await s.records.get(org.id, a8.id))!.location).to.deep.equal(FIX);

      // The next run, a day later, has only what aged since.
      expect(await applyRetention(s, new Date(NOW + DAY))).to.deep.equal({
        organisations: 2,
        probes: 1,
        locations: 0,
        ips: 1,
        auditIps: 0,
      });
      expect(await held()).to.deep.equal({ probes: 1, locations: 2, fullIps: 2 });

      const entries = (await s.audit.listForEntity(strict.id, 'organisation', strict.id)).filter((e) => e.action === 'retention.apply');
      expect(entries.map((e) => e.to)).to.deep.equal([
        { probes: 1, locations: 2, ips: 1, auditIps: 0, settings: { probeDays: 1, locationDays: 30, locationMode: 'never', ipDays: 1 } },
        { probes: 1, locations: 0, ips: 1, auditIps: 0, settings: { probeDays: 1, locationDays: 30, locationMode: 'never', ipDays: 1 } },
      ]);
      expect(entries.every((e) => e.actorId === null && e.entityType === 'organisation')).to.equal(true);
      // The second run changed nothing in the other organisation: no entry for it.
      const quiet = (await s.audit.listForEntity(org.id, 'organisation', org.id)).filter((e) => e.action === 'retention.apply');
      expect(quiet.map((e) => e.to)).to.deep.equal([
        { probes: 2, locations: 1, ips: 1, auditIps: 0, settings: { probeDays: 7, locationDays: 30, locationMode: 'keep', ipDays: 30 } },
      ]);
    });
  });
}

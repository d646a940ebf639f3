import { expect } from 'chai';
import { type RecordStatus } from '../../src/domain/ports/common.js';
import { emptyStatusCounts } from '../../src/domain/ports/reports.js';
import { type AttendanceSession } from '../../src/domain/ports/sessions.js';
import { type Store } from '../../src/domain/ports/store.js';
import type { ContractContext } from './store-contract.js';
import { AUDIT_ACTIONS } from '../../src/shared/audit.js';
import { makeOrg, newRecord, newSession, newSubject, page } from './fixtures.js';

// The reporting aggregates: per-student tallies, summed summaries, status counts, audit pages.

const day = (d: number) => `2025-03-${String(d).padStart(2, '0')}`;
const at = (d: number, minute = 0) => new Date(Date.UTC(2025, 2, d, 8, minute));

async function sessionOn(s: Store, orgId: string, subjectId: string, d: number, status: AttendanceSession['status']) {
  return s.sessions.create(orgId, newSession(subjectId, 't1', { startsAt: at(d), day: day(d), status }));
}

async function record(
  s: Store,
  orgId: string,
  sess: AttendanceSession,
  studentId: string,
  status: RecordStatus,
  submittedAt: Date | null = null,
) {
  await s.records.insertIfAbsent(orgId, newRecord(sess.id, sess.subjectId, studentId, { status, submittedAt }));
}

const counts = (partial: Partial<Record<RecordStatus, number>>) => ({ ...emptyStatusCounts(), ...partial });

export function reportsContract(ctx: ContractContext): void {
  describe('reports', function () {
    it('tallies a subject per student over settled sessions only, with the last present or late check-in', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      const subject = await s.subjects.create(org.id, newSubject());
      const second = await s.subjects.create(org.id, newSubject());
      const d1 = await sessionOn(s, org.id, subject.id, 1, 'closed');
      const d2 = await sessionOn(s, org.id, subject.id, 2, 'closing');
      const d3 = await sessionOn(s, org.id, subject.id, 3, 'closed');
      const cancelled = await sessionOn(s, org.id, subject.id, 4, 'cancelled');
      const open = await sessionOn(s, org.id, subject.id, 5, 'open');
      const elsewhere = await sessionOn(s, org.id, second.id, 2, 'closed');
      await record(s, org.id, d1, 'a', 'present', at(1, 1));
      await record(s, org.id, d2, 'a', 'late', at(2, 15));
      await record(s, org.id, d3, 'a', 'absent');
      await record(s, org.id, cancelled, 'a', 'present', at(4, 1));
      await record(s, org.id, open, 'a', 'present', at(5, 1));
      await record(s, org.id, d1, 'b', 'excused');
      await record(s, org.id, d2, 'b', 'rejected', at(2, 3));
      await record(s, org.id, elsewhere, 'a', 'present', at(2, 30));
      // Another organisation's records never count.
      const foreign = await s.subjects.create(other.id, newSubject());
      await record(s, other.id, await sessionOn(s, other.id, foreign.id, 1, 'closed'), 'a', 'present', at(9));

      const bySubject = await s.reports.studentTallies(org.id, { subjectId: subject.id });
      const sorted = [...bySubject].sort((x, y) => x.studentId.localeCompare(y.studentId));
      expect(sorted).to.deep.equal([
        { subjectId: subject.id, studentId: 'a', byStatus: counts({ present: 1, late: 1, absent: 1 }), lastSeenAt: at(2, 15) },
        { subjectId: subject.id, studentId: 'b', byStatus: counts({ excused: 1, rejected: 1 }), lastSeenAt: null },
      ]);

      const ranged = await s.reports.studentTallies(org.id, { subjectId: subject.id, fromDay: day(2), toDay: day(2) });
      expect(ranged.find((t) => t.studentId === 'a')?.byStatus).to.deep.equal(counts({ late: 1 }));

      const byStudent = await s.reports.studentTallies(org.id, { studentId: 'a' });
      const bySubj = Object.fromEntries(byStudent.map((t) => [t.subjectId, t]));
      expect(Object.keys(bySubj)).to.have.members([subject.id, second.id]);
      expect(bySubj[subject.id]!.byStatus).to.deep.equal(counts({ present: 1, late: 1, absent: 1 }));
      expect(bySubj[second.id]!.lastSeenAt).to.deep.equal(at(2, 30));

      const both = await s.reports.studentTallies(org.id, { subjectId: second.id, studentId: 'a' });
      expect(both).to.have.length(1);
      expect(await s.reports.studentTallies(org.id, { studentId: 'nobody' })).to.deep.equal([]);
      expect(await s.reports.studentTallies(other.id, { subjectId: subject.id })).to.deep.equal([]);
      expect((await s.reports.studentTallies(other.id, { studentId: 'a' })).map((t) => t.subjectId)).to.deep.equal([foreign.id]);
    });

    it('adds up daily summaries per subject over an inclusive range', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      const sum = (subjectId: string, d: number, present: number, late: number, absent: number, excused: number) =>
        s.summaries.upsert({
          orgId: org.id,
          subjectId,
          day: day(d),
          present,
          late,
          absent,
          excused,
          total: present + late + absent + excused,
          percentage: 0,
        });
      await sum('x', 1, 5, 1, 2, 1);
      await sum('x', 2, 6, 0, 3, 0);
      await sum('x', 9, 9, 9, 9, 9);
      await sum('y', 2, 1, 1, 1, 1);
      await s.summaries.upsert({
        orgId: other.id,
        subjectId: 'z',
        day: day(2),
        present: 1,
        late: 0,
        absent: 0,
        excused: 0,
        total: 1,
        percentage: 100,
      });

      expect(await s.reports.subjectTotals(org.id, day(1), day(2))).to.deep.equal([
        { subjectId: 'x', present: 11, late: 1, absent: 5, excused: 1, total: 18 },
        { subjectId: 'y', present: 1, late: 1, absent: 1, excused: 1, total: 4 },
      ]);
      expect(await s.reports.subjectTotals(org.id, day(1), day(9), ['y'])).to.deep.equal([
        { subjectId: 'y', present: 1, late: 1, absent: 1, excused: 1, total: 4 },
      ]);
      expect(await s.reports.subjectTotals(org.id, day(1), day(9), [])).to.deep.equal([]);
      expect(await s.reports.subjectTotals(org.id, day(3), day(8))).to.deep.equal([]);
    });

    it('counts the records of some sessions by status', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const subject = await s.subjects.create(org.id, newSubject());
      const a = await sessionOn(s, org.id, subject.id, 1, 'open');
      const b = await sessionOn(s, org.id, subject.id, 1, 'open');
      const c = await sessionOn(s, org.id, subject.id, 1, 'open');
      await record(s, org.id, a, 's1', 'present');
      await record(s, org.id, a, 's2', 'pending');
      await record(s, org.id, b, 's1', 'present');
      await record(s, org.id, c, 's1', 'late');
      expect(await s.reports.recordStatusCounts(org.id, [a.id, b.id])).to.deep.equal(counts({ present: 2, pending: 1 }));
      expect(await s.reports.recordStatusCounts(org.id, [])).to.deep.equal(counts({}));
    });

    it('pages audit entries by entity, session or actor, oldest first, with the total', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      const entry = (orgId: string, i: number, over: object) =>
        s.audit.append({
          orgId,
          entityType: 'record',
          entityId: 'r1',
          sessionId: 'sess1',
          actorId: 'u1',
          action: AUDIT_ACTIONS[i]!,
          from: null,
          to: { i },
          reason: null,
          ip: null,
          at: new Date(Date.UTC(2025, 0, 1, 0, 0, i)),
          ...over,
        });
      for (let i = 0; i < 5; i++) await entry(org.id, i, {});
      await entry(org.id, 5, { entityType: 'user', entityId: 'u9', sessionId: null, actorId: 'u2' });
      await entry(other.id, 6, {});

      const bySession = await s.reports.audit(org.id, { sessionId: 'sess1', ...page(2, 1) });
      expect(bySession.total).to.equal(5);
      expect(bySession.items.map((e) => e.action)).to.deep.equal(AUDIT_ACTIONS.slice(1, 3));
      expect(bySession.items[0]!.to).to.deep.equal({ i: 1 });
      const byEntity = await s.reports.audit(org.id, { entityType: 'user', entityId: 'u9', ...page() });
      expect(byEntity.items.map((e) => e.action)).to.deep.equal([AUDIT_ACTIONS[5]]);
      expect((await s.reports.audit(org.id, { actorId: 'u2', ...page() })).total).to.equal(1);
      expect((await s.reports.audit(org.id, { entityType: 'record', entityId: 'r1', ...page(100, 10) })).items).to.deep.equal([]);
    });

    it('appends many audit entries in one call, each with its own id, read back as appended', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const at = new Date(Date.UTC(2025, 0, 1, 9));
      const entries = ['u1', 'u2', 'u3'].map((id) => ({
        orgId: org.id,
        entityType: 'user' as const,
        entityId: id,
        sessionId: null,
        actorId: 'admin',
        action: 'user.invite' as const,
        from: null,
        to: null,
        reason: null,
        ip: '203.0.113.9',
        at,
      }));
      expect(await s.audit.appendMany([])).to.deep.equal([]);
      const appended = await s.audit.appendMany(entries);
      expect(appended.map(({ id: _id, ...e }) => e)).to.deep.equal(entries);
      expect(new Set(appended.map((e) => e.id)).size).to.equal(3);
      for (const e of appended) expect(await s.audit.listForEntity(org.id, 'user', e.entityId)).to.deep.equal([e]);
    });

    it("pages the organisation's whole trail without a selector, narrowed by actions and instants, never another organisation's", async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      const minute = (m: number) => new Date(Date.UTC(2025, 0, 1, 0, m));
      const entry = (orgId: string, over: Partial<Parameters<typeof s.audit.append>[0]> & { m: number }) =>
        s.audit.append({
          orgId,
          entityType: 'record',
          entityId: 'r1',
          sessionId: 'sess1',
          actorId: 'u1',
          action: 'record.correct',
          from: null,
          to: { m: over.m },
          reason: null,
          ip: null,
          at: minute(over.m),
          ...over,
        });
      // Written out of time order: the trail is by time, then by insertion among equal times.
      await entry(org.id, { m: 30, entityType: 'user', entityId: 'u9', sessionId: null, action: 'user.update' });
      await entry(org.id, { m: 10 });
      await entry(org.id, {
        m: 20,
        entityType: 'organisation',
        entityId: org.id,
        sessionId: null,
        actorId: null,
        action: 'organisation.update',
      });
      await entry(org.id, { m: 20, entityType: 'session', entityId: 'sess2', sessionId: 'sess2', action: 'session.close' });
      await entry(org.id, { m: 40, entityId: 'r2' });
      await entry(other.id, { m: 15 });
      const minutes = async (f: object, p = page()) => {
        const got = await s.reports.audit(org.id, { ...f, ...p });
        return { total: got.total, items: got.items.map((e) => `${(e.to as { m: number }).m} ${e.action}`) };
      };

      expect(await minutes({})).to.deep.equal({
        total: 5,
        items: ['10 record.correct', '20 organisation.update', '20 session.close', '30 user.update', '40 record.correct'],
      });
      expect(await minutes({}, page(2, 1))).to.deep.equal({ total: 5, items: ['20 organisation.update', '20 session.close'] });
      expect(await minutes({ actions: ['record.correct'] })).to.deep.equal({ total: 2, items: ['10 record.correct', '40 record.correct'] });
      expect(await minutes({ from: minute(20), before: minute(40) })).to.deep.equal({
        total: 3,
        items: ['20 organisation.update', '20 session.close', '30 user.update'],
      });
      expect(await minutes({ actions: ['record.correct', 'user.update'], from: minute(15) }, page(1, 1))).to.deep.equal({
        total: 2,
        items: ['40 record.correct'],
      });
      expect((await s.reports.audit(other.id, page())).items.map((e) => e.orgId)).to.deep.equal([other.id]);
    });

    it('narrows any selector to some actions and a range of instants (from inclusive, before exclusive)', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      const minute = (m: number) => new Date(Date.UTC(2025, 0, 1, 0, m));
      const entry = (orgId: string, action: (typeof AUDIT_ACTIONS)[number], m: number, over: object = {}) =>
        s.audit.append({
          orgId,
          entityType: 'user',
          entityId: 'u9',
          sessionId: null,
          actorId: 'u1',
          action,
          from: null,
          to: { m },
          reason: null,
          ip: null,
          at: minute(m),
          ...over,
        });
      await entry(org.id, 'user.create', 0);
      await entry(org.id, 'user.update', 10);
      await entry(org.id, 'user.invite', 20);
      await entry(org.id, 'user.update', 30);
      await entry(org.id, 'user.update', 40, { entityId: 'u8', actorId: 'u2' });
      await entry(other.id, 'user.update', 10);
      const minutes = async (f: object) => {
        const got = await s.reports.audit(org.id, { entityType: 'user', entityId: 'u9', ...f, ...page() });
        expect(got.total).to.equal(got.items.length);
        return got.items.map((e) => (e.to as { m: number }).m);
      };

      expect(await minutes({ actions: ['user.update'] })).to.deep.equal([10, 30]);
      expect(await minutes({ actions: ['user.update', 'user.create'] })).to.deep.equal([0, 10, 30]);
      expect(await minutes({ actions: ['user.erase'] })).to.deep.equal([]);
      expect(await minutes({ from: minute(10) })).to.deep.equal([10, 20, 30]);
      expect(await minutes({ before: minute(20) })).to.deep.equal([0, 10]);
      expect(await minutes({ from: minute(10), before: minute(30), actions: ['user.update', 'user.invite'] })).to.deep.equal([10, 20]);
      // The filters narrow the actor selector too, and page with the narrowed total.
      const byActor = await s.reports.audit(org.id, { actorId: 'u1', actions: ['user.update'], from: minute(5), ...page(1, 1) });
      expect(byActor.total).to.equal(2);
      expect(byActor.items.map((e) => (e.to as { m: number }).m)).to.deep.equal([30]);
    });

    it('finds what audit entries are about by ids, one kind at a time, inside the organisation only', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      const subject = await s.subjects.create(org.id, newSubject({ code: 'REF1', name: 'Referenced' }));
      const sess = await sessionOn(s, org.id, subject.id, 3, 'closed');
      const rec = (await s.records.insertIfAbsent(org.id, newRecord(sess.id, subject.id, 'st1'))).record;
      const { excuse: excuse } = await s.excuses.create(org.id, {
        studentId: 'st2',
        submittedBy: 'st2',
        subjectId: subject.id,
        sessionId: null,
        fromDay: day(3),
        toDay: day(4),
        category: 'MEDICAL',
        text: 'ill',
      });
      const foreign = await s.subjects.create(other.id, newSubject());
      const foreignSession = await sessionOn(s, other.id, foreign.id, 3, 'closed');

      expect(await s.reports.recordRefs(org.id, [rec.id, 'missing'])).to.deep.equal([{ id: rec.id, sessionId: sess.id, studentId: 'st1' }]);
      const sessions = await s.reports.sessionRefs(org.id, [sess.id, foreignSession.id]);
      expect(sessions.map((r) => ({ ...r, startsAt: r.startsAt.getTime() }))).to.deep.equal([
        { id: sess.id, subjectId: subject.id, startsAt: at(3).getTime() },
      ]);
      expect(await s.reports.subjectRefs(org.id, [subject.id, foreign.id])).to.deep.equal([
        { id: subject.id, code: 'REF1', name: 'Referenced' },
      ]);
      expect(await s.reports.excuseRefs(org.id, [excuse.id])).to.deep.equal([{ id: excuse.id, studentId: 'st2' }]);
      expect(await s.reports.excuseRefs(other.id, [excuse.id])).to.deep.equal([]);
      expect(await s.reports.recordRefs(org.id, [])).to.deep.equal([]);
    });
  });
}

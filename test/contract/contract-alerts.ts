import { expect } from 'chai';
import type { AlertPayload } from '../../src/shared/alerts.js';
import type { ContractContext } from './store-contract.js';
import { makeOrg, page } from './fixtures.js';

// Alert rules, their per-(subject, student) state, and users' notifications.

const alert = (over: Partial<AlertPayload> = {}): AlertPayload => ({
  ruleId: 'rule-1',
  rule: 'consecutive-absences',
  subjectId: 'sub-1',
  subjectCode: 'MATH1',
  subjectName: 'Maths',
  studentId: 'stu-1',
  studentName: 'Ada',
  count: 3,
  thresholdPct: null,
  windowDays: null,
  observed: 3,
  ...over,
});

export function alertsContract(ctx: ContractContext): void {
  describe('alert rules and states', function () {
    it('creates, lists oldest first within the organisation, and deletes rules', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const other = await makeOrg(s);
      const a = await s.alerts.createRule(org.id, { kind: 'consecutive-absences', count: 3, thresholdPct: null, windowDays: null });
      const b = await s.alerts.createRule(org.id, { kind: 'low-attendance', count: 4, thresholdPct: 75.5, windowDays: 28 });
      await s.alerts.createRule(other.id, { kind: 'repeated-lateness', count: 2, thresholdPct: null, windowDays: 14 });
      expect(a).to.deep.include({ orgId: org.id, kind: 'consecutive-absences', count: 3, thresholdPct: null, windowDays: null });
      expect(a.createdAt).to.be.instanceOf(Date);
      expect(await s.alerts.listRules(org.id)).to.deep.equal([a, b]);
      expect(await s.alerts.deleteRule(other.id, a.id)).to.equal(false);
      expect(await s.alerts.deleteRule(org.id, a.id)).to.equal(true);
      expect(await s.alerts.deleteRule(org.id, a.id)).to.equal(false);
      expect((await s.alerts.listRules(org.id)).map((r) => r.id)).to.deep.equal([b.id]);
    });

    it('setFiring changes the state once per crossing and once per recovery', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const rule = await s.alerts.createRule(org.id, { kind: 'consecutive-absences', count: 2, thresholdPct: null, windowDays: null });
      // No state is not firing: recovering from nothing changes nothing.
      expect(await s.alerts.setFiring(org.id, rule.id, 'sub', 'stu', false)).to.equal(false);
      const racing = await Promise.all([1, 2, 3].map(() => s.alerts.setFiring(org.id, rule.id, 'sub', 'stu', true)));
      expect(racing.filter(Boolean)).to.have.length(1);
      expect(await s.alerts.setFiring(org.id, rule.id, 'sub', 'stu', true)).to.equal(false);
      // Another student, subject or organisation has its own state.
      expect(await s.alerts.setFiring(org.id, rule.id, 'sub', 'stu-2', true)).to.equal(true);
      expect(await s.alerts.setFiring(org.id, rule.id, 'sub-2', 'stu', true)).to.equal(true);
      expect(await s.alerts.setFiring(org.id, rule.id, 'sub', 'stu', false)).to.equal(true);
      expect(await s.alerts.setFiring(org.id, rule.id, 'sub', 'stu', false)).to.equal(false);
      expect(await s.alerts.setFiring(org.id, rule.id, 'sub', 'stu', true)).to.equal(true);
    });

    it('deleting a rule forgets its states', async function () {
      const s = ctx.store();
      const org = await makeOrg(s);
      const rule = await s.alerts.createRule(org.id, { kind: 'consecutive-absences', count: 2, thresholdPct: null, windowDays: null });
      expect(await s.alerts.setFiring(org.id, rule.id, 'sub', 'stu', true)).to.equal(true);
      await s.alerts.deleteRule(org.id, rule.id);
      expect(await s.alerts.setFiring(org.id, rule.id, 'sub', 'stu', false)).to.equal(false);
    });
  });

  describe('notifications', function () {
    it('lists a user’s notifications newest first with totals, unread counts and mark-read', async function () {
      let now = Date.UTC(2025, 2, 1, 9);
      const opened = await ctx.open(() => new Date(now));
      try {
        const s = opened.store;
        const org = await makeOrg(s);
        const other = await makeOrg(s);
        const first = await s.notifications.createMany([
          { orgId: org.id, userId: 'u1', category: 'alert', alert: alert({ observed: 1 }) },
          { orgId: org.id, userId: 'u2', category: 'alert', alert: alert({ observed: 1 }) },
        ]);
        expect(first).to.have.length(2);
        expect(first[0]).to.deep.include({ orgId: org.id, userId: 'u1', category: 'alert', readAt: null });
        expect(first[0]!.createdAt).to.deep.equal(new Date(now));
        now += 1_000;
        const [second] = await s.notifications.createMany([
          { orgId: org.id, userId: 'u1', category: 'alert', alert: alert({ observed: 2 }) },
        ]);
        await s.notifications.createMany([{ orgId: other.id, userId: 'u1', category: 'alert', alert: alert() }]);
        expect(await s.notifications.createMany([])).to.deep.equal([]);

        const listed = await s.notifications.list(org.id, 'u1', page());
        expect(listed.total).to.equal(2);
        expect(listed.items).to.deep.equal([second, first[0]]);
        expect((await s.notifications.list(org.id, 'u1', page(1, 1))).items.map((n) => n.id)).to.deep.equal([first[0]!.id]);
        expect(await s.notifications.unreadCount(org.id, 'u1')).to.equal(2);

        const readAt = new Date(now + 5_000);
        expect(await s.notifications.markRead(org.id, 'u1', [second!.id, first[1]!.id, 'missing'], readAt)).to.equal(1);
        expect(await s.notifications.markRead(org.id, 'u1', [second!.id], readAt)).to.equal(0);
        expect(await s.notifications.unreadCount(org.id, 'u1')).to.equal(1);
        expect(await s.notifications.unreadCount(org.id, 'u2')).to.equal(1);
        const unread = await s.notifications.list(org.id, 'u1', { ...page(), unreadOnly: true });
        expect(unread).to.deep.equal({ items: [first[0]], total: 1 });
        expect((await s.notifications.list(org.id, 'u1', page())).items[0]!.readAt).to.deep.equal(readAt);

        expect(await s.notifications.markRead(org.id, 'u1', null, readAt)).to.equal(1);
        expect(await s.notifications.unreadCount(org.id, 'u1')).to.equal(0);
        expect(await s.notifications.unreadCount(other.id, 'u1')).to.equal(1);
      } finally {
        await opened.cleanup();
      }
    });

    it('lists and counts only the alerts about one student when asked (what a student reads)', async function () {
      const opened = await ctx.open();
      try {
        const s = opened.store;
        const org = await makeOrg(s);
        const [own, classmate, older] = await s.notifications.createMany([
          { orgId: org.id, userId: 'u1', category: 'alert', alert: alert({ studentId: 'u1' }) },
          { orgId: org.id, userId: 'u1', category: 'alert', alert: alert({ studentId: 'stu-2' }) },
          { orgId: org.id, userId: 'u1', category: 'alert', alert: alert({ studentId: 'u1', observed: 4 }) },
        ]);
        const about = await s.notifications.list(org.id, 'u1', { ...page(), aboutStudentId: 'u1' });
        expect(about.total).to.equal(2);
        expect(about.items.map((n) => n.id).sort()).to.deep.equal([own!.id, older!.id].sort());
        expect((await s.notifications.list(org.id, 'u1', { ...page(1, 1), aboutStudentId: 'u1' })).total).to.equal(2);
        expect(await s.notifications.unreadCount(org.id, 'u1', 'u1')).to.equal(2);
        expect(await s.notifications.unreadCount(org.id, 'u1', 'stu-2')).to.equal(1);
        expect(await s.notifications.unreadCount(org.id, 'u1')).to.equal(3);
        await s.notifications.markRead(org.id, 'u1', [own!.id], new Date());
        expect(await s.notifications.unreadCount(org.id, 'u1', 'u1')).to.equal(1);
        const unread = await s.notifications.list(org.id, 'u1', { ...page(), unreadOnly: true, aboutStudentId: 'u1' });
        expect(unread.items.map((n) => n.id)).to.deep.equal([older!.id]);
        expect(classmate!.alert.studentId).to.equal('stu-2');
      } finally {
        await opened.cleanup();
      }
    });
  });
}

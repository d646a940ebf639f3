import { expect } from 'chai';
import { AlertService } from '../../../src/domain/alerts/alert-service.js';
import { toWebhookEvent } from '../../../src/domain/webhooks/webhook-producer.js';
import { createLiveFixture, type LiveFixture } from '../../support/live-fixture.js';
import { expectCode } from '../../support/expect-code.js';

const DAY = 86_400_000;

describe('at-risk alerts (domain, embedded store, injected clock)', () => {
  let f: LiveFixture;
  let alerts: AlertService;
  let detach: () => void;

  beforeEach(async () => {
    f = await createLiveFixture({ students: 3 });
    alerts = new AlertService({ store: f.store, events: f.bus, now: f.clock.now, jobs: f.jobs });
    detach = alerts.attach(f.bus);
  });
  afterEach(async () => {
    detach();
    await f.close();
  });

  /** One session of the subject a day later than the previous; the students in `present` are marked present, the rest are absent at closing. */
  async function heldSession(present: number[]): Promise<string> {
    f.clock.advance(DAY);
    const teacher = f.actor(f.teacher);
    const session = await f.live.sessions.open(teacher, { subjectId: f.subject.id });
    for (const i of present)
      await f.live.checkins.mark(teacher, { sessionId: session.id, studentId: f.students[i]!.id, status: 'present', ip: null });
    await f.live.closer.close(f.org.id, session.id, f.teacher.id);
    await f.jobs.drain(10_000);
    return session.id;
  }

  const alertsFor = async (userId: string) => (await f.store.notifications.list(f.org.id, userId, { limit: 100, offset: 0 })).items;
  const pushed = () => f.events.filter((e) => e.type === 'notification.created');

  it('alerts the teacher and the admins once when a rule is crossed, not again while it stays crossed, and again after recovery', async () => {
    await alerts.createRule(f.actor(f.admin), { kind: 'consecutive-absences', count: 2, thresholdPct: null, windowDays: null });
    await heldSession([1, 2]);
    expect(await alertsFor(f.teacher.id)).to.deep.equal([]);

    await heldSession([1, 2]); // student 0: second absence in a row
    const [first] = await alertsFor(f.teacher.id);
    expect(first?.alert).to.include({
      rule: 'consecutive-absences',
      studentId: f.students[0]!.id,
      studentName: 'Student 01',
      subjectCode: 'PHY1',
      observed: 2,
    });
    expect(await alertsFor(f.admin.id)).to.have.length(1);
    expect(await alertsFor(f.otherTeacher.id)).to.deep.equal([]);
    expect(pushed().map((e) => e.type === 'notification.created' && [e.userId, e.unread])).to.have.deep.members([
      [f.teacher.id, 1],
      [f.admin.id, 1],
    ]);

    await heldSession([1, 2]); // third absence: still crossed, no new alert
    expect(await alertsFor(f.teacher.id)).to.have.length(1);

    await heldSession([0, 1, 2]); // back: re-armed
    await heldSession([1, 2]);
    expect(await alertsFor(f.teacher.id)).to.have.length(1);
    await heldSession([1, 2]); // crossed again
    expect(await alertsFor(f.teacher.id)).to.have.length(2);
    expect(pushed()).to.have.length(4);
    // One alert.raised per crossing (webhooks' alert.raised), however many people are told.
    const raised = f.events.filter((e) => e.type === 'alert.raised');
    expect(raised.map((e) => e.type === 'alert.raised' && [e.alert.studentId, e.alert.observed])).to.deep.equal([
      [f.students[0]!.id, 2],
      [f.students[0]!.id, 2],
    ]);
    const hook = toWebhookEvent(raised[0]!);
    expect(hook).to.deep.include({ type: 'alert.raised', orderKey: `alert:${f.subject.id}` });
    expect(JSON.stringify(hook!.data), 'ids and figures only').not.to.contain('Student 01');
  });

  it('a correction after closing re-evaluates the student: correcting an absence re-arms, correcting it back alerts again', async () => {
    await alerts.createRule(f.actor(f.admin), { kind: 'consecutive-absences', count: 2, thresholdPct: null, windowDays: null });
    await heldSession([1, 2]);
    const last = await heldSession([1, 2]);
    expect(await alertsFor(f.teacher.id)).to.have.length(1);
    const teacher = f.actor(f.teacher);
    const target = { sessionId: last, studentId: f.students[0]!.id, ip: null, reason: 'was in the lab' };
    await f.live.checkins.mark(teacher, { ...target, status: 'present' });
    await f.jobs.drain(10_000);
    expect(await alertsFor(f.teacher.id)).to.have.length(1);
    await f.live.checkins.mark(teacher, { ...target, status: 'absent', reason: 'was not, after all' });
    await f.jobs.drain(10_000);
    expect(await alertsFor(f.teacher.id)).to.have.length(2);
  });

  it('evaluating the same change twice (two nodes) alerts once', async () => {
    await alerts.createRule(f.actor(f.admin), { kind: 'consecutive-absences', count: 1, thresholdPct: null, windowDays: null });
    detach();
    await heldSession([1, 2]);
    const twice = await Promise.all([
      alerts.evaluateSubject(f.org.id, f.subject.id, null),
      new AlertService({ store: f.store, events: f.bus, now: f.clock.now, jobs: f.jobs }).evaluateSubject(f.org.id, f.subject.id, null),
    ]);
    expect(twice.flat()).to.have.length(1);
    expect(await alertsFor(f.teacher.id)).to.have.length(1);
  });

  it('rules are admin-only and checked for the fields their kind needs; users read and mark their own notifications', async () => {
    await expectCode(
      alerts.createRule(f.actor(f.teacher), { kind: 'consecutive-absences', count: 2, thresholdPct: null, windowDays: null }),
      'FORBIDDEN',
    );
    await expectCode(
      alerts.createRule(f.actor(f.admin), { kind: 'low-attendance', count: 2, thresholdPct: null, windowDays: 7 }),
      'VALIDATION_FAILED',
    );
    await expectCode(
      alerts.createRule(f.actor(f.admin), { kind: 'repeated-lateness', count: 2, thresholdPct: null, windowDays: null }),
      'VALIDATION_FAILED',
    );
    await alerts.createRule(f.actor(f.admin), { kind: 'consecutive-absences', count: 1, thresholdPct: null, windowDays: null });
    await heldSession([1]);
    const list = await alerts.listNotifications(f.actor(f.teacher), { limit: 10, offset: 0, unreadOnly: false });
    expect(list).to.include({ total: 2, unread: 2 });
    expect(await alerts.markRead(f.actor(f.admin), [list.items[0]!.id])).to.deep.equal({ marked: 0, unread: 2 });
    expect(await alerts.markRead(f.actor(f.teacher), [list.items[0]!.id])).to.deep.equal({ marked: 1, unread: 1 });
    expect(await alerts.markRead(f.actor(f.teacher), null)).to.deep.equal({ marked: 1, unread: 0 });
  });
});

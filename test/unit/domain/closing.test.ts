import { expect } from 'chai';
import { codeAt } from '../../../src/domain/checks/rotating-code.js';
import { createLiveFixture, northOf, type LiveFixture } from '../../support/live-fixture.js';
import { expectCode } from '../../support/expect-code.js';

describe('closing, summaries and corrections (domain, embedded store)', () => {
  let f: LiveFixture;
  beforeEach(async () => {
    f = await createLiveFixture({ students: 6 });
  });
  afterEach(() => f.close());

  async function openWithCheckins() {
    const session = await f.live.sessions.open(f.actor(f.teacher), { subjectId: f.subject.id });
    const secret = (await f.store.sessions.get(f.org.id, session.id))!.codeSecret;
    const submit = (i: number, metres: number, accuracy = 10) =>
      f.live.checkins.submit(f.actor(f.students[i]!), {
        sessionId: session.id,
        location: { ...northOf(metres), accuracyM: accuracy, timestamp: f.clock.now() },
        code: codeAt(secret, 15, f.clock.now()),
        ip: null,
      });
    await submit(0, 5); // present
    await submit(1, 5); // present
    await submit(2, 40, 150); // pending
    await submit(3, 3_000); // rejected
    f.clock.advance(12 * 60_000);
    await submit(4, 5); // late
    // student 5 never checks in
    return session;
  }

  it('marks absents, settles pending and rejected, writes the daily summary', async () => {
    const session = await openWithCheckins();
    const result = await f.live.closer.close(f.org.id, session.id, f.teacher.id);
    expect(result.session.status).to.equal('closed');
    const records = await f.store.records.listBySession(f.org.id, session.id);
    const byStudent = new Map(records.map((r) => [r.studentId, r]));
    expect(records).to.have.length(6);
    expect(byStudent.get(f.students[2]!.id)).to.include({ status: 'absent', reason: 'PENDING_AT_CLOSE' });
    expect(byStudent.get(f.students[2]!.id)?.flags).to.include('UNRESOLVED_AT_CLOSE');
    expect(byStudent.get(f.students[3]!.id)).to.include({ status: 'absent', reason: 'GEOFENCE_OUTSIDE' });
    expect(byStudent.get(f.students[5]!.id)).to.include({ status: 'absent', reason: 'NO_CHECKIN' });
    const summary = await f.store.summaries.get(f.org.id, f.subject.id, session.day);
    expect(summary).to.include({ present: 2, late: 1, absent: 3, excused: 0, total: 6, percentage: 50 });
    expect(result.counts).to.include({ present: 2, late: 1, absent: 3, total: 6 });
  });

  it('closing twice changes nothing the second time', async () => {
    const session = await openWithCheckins();
    await f.live.closer.close(f.org.id, session.id, f.teacher.id);
    const audit1 = await f.store.audit.listForSession(f.org.id, session.id);
    await f.live.closer.close(f.org.id, session.id, f.teacher.id);
    const audit2 = await f.store.audit.listForSession(f.org.id, session.id);
    expect(audit2).to.have.length(audit1.length);
  });

  it('corrections after closing need a reason, are audited, and the summary follows', async () => {
    const session = await openWithCheckins();
    await f.live.closer.close(f.org.id, session.id, f.teacher.id);
    const teacher = f.actor(f.teacher);
    const target = { sessionId: session.id, studentId: f.students[5]!.id, ip: null };
    await expectCode(f.live.checkins.mark(teacher, { ...target, status: 'excused' }), 'VALIDATION_FAILED');
    const entry = await f.live.checkins.mark(teacher, { ...target, status: 'excused', reason: 'medical certificate' });
    expect(entry.status).to.equal('excused');
    await f.live.checkins.mark(teacher, { ...target, studentId: f.students[2]!.id, status: 'present', reason: 'was there' });
    const summary = await f.store.summaries.get(f.org.id, f.subject.id, session.day);
    // 3 present + 1 late of 5 countable (one excused).
    expect(summary).to.include({ present: 3, late: 1, absent: 1, excused: 1, total: 6, percentage: 80 });
    const audit = await f.store.audit.listForSession(f.org.id, session.id);
    const correction = audit.find((a) => a.action === 'record.correct' && a.reason === 'medical certificate');
    expect(correction?.actorId).to.equal(f.teacher.id);
    expect(correction?.from).to.have.property('status', 'absent');
  });

  it('a teacher marks a student present by hand while open', async () => {
    const session = await f.live.sessions.open(f.actor(f.teacher), { subjectId: f.subject.id });
    const entry = await f.live.checkins.mark(f.actor(f.teacher), {
      sessionId: session.id,
      studentId: f.students[0]!.id,
      status: 'present',
      note: 'phone battery dead',
      ip: null,
    });
    expect(entry).to.include({ status: 'present', reason: 'MARKED_BY_TEACHER', note: 'phone battery dead' });
  });

  it('the scheduler closes a due session once even with two nodes racing', async () => {
    const session = await f.live.sessions.open(f.actor(f.teacher), {
      subjectId: f.subject.id,
      closesAt: new Date(f.clock.now().getTime() + 20 * 60_000).toISOString(),
    });
    const nodeB = f.build({ nodeId: 'node-b' }).attendance.scheduler;
    expect(await f.live.scheduler.tick()).to.equal(0);
    f.clock.advance(20 * 60_000);
    const [a, b] = await Promise.all([f.live.scheduler.tick(), nodeB.tick()]);
    expect(a + b).to.equal(1);
    const stored = await f.store.sessions.get(f.org.id, session.id);
    expect(stored?.status).to.equal('closed');
    expect(stored?.closedBy).to.equal(null);
    const closes = (await f.store.audit.listForSession(f.org.id, session.id)).filter((x) => x.action === 'session.close');
    expect(closes).to.have.length(1);
    expect(await f.store.summaries.get(f.org.id, f.subject.id, session.day)).to.include({ absent: 6, total: 6 });
  });

  it('a session left in closing by a dead node is finished by the next tick', async () => {
    const session = await f.live.sessions.open(f.actor(f.teacher), { subjectId: f.subject.id });
    await f.store.sessions.transition(f.org.id, session.id, ['open'], { status: 'closing' });
    expect(await f.live.scheduler.tick()).to.equal(1);
    expect((await f.store.sessions.get(f.org.id, session.id))?.status).to.equal('closed');
  });
});

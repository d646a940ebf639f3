import { expect } from 'chai';
import type { Actor } from '../../../src/domain/actor.js';
import type { User } from '../../../src/domain/ports/users.js';
import type { SessionView } from '../../../src/shared/events.js';
import { pendingCheckin, type LiveFixture } from '../../support/live-fixture.js';
import { eraseAtNextWrite, useOpenSession } from '../../support/race-fixture.js';
import { onBothStores, type RaceStore } from '../../support/race-stores.js';

// A teacher's hand mark (a new record, or a change of a check-in) while an admin erases that
// teacher (docs/privacy.md, "Answering an erasure request"): the record's `decidedBy` and the
// audit entry's actor may not keep the teacher's real id. erasure-record-race.test.ts does the
// same for the student the record is about.

onBothStores('erasure of the teacher racing their hand mark', 'attendance_erasure_teacher_race', erasureTeacherRaceSuite);

function erasureTeacherRaceSuite(setup: RaceStore): void {
  let f: LiveFixture;
  let session: SessionView;
  let student: User;
  let teacher: Actor;

  const race = useOpenSession(setup, { students: 2 });
  beforeEach(() => {
    ({ f, session, student } = race());
    teacher = { ...f.actor(f.teacher), ip: '10.1.2.3' };
  });

  const erase = () => f.domain.privacy.erasePerson(f.actor(f.admin), f.teacher.id, 'erasure request 44');
  /** The erasure runs when the domain writes the mark: before the write, or alongside it, `step` staggers later. */
  const injectErasure = (at: 'before' | 'alongside', step = 0) => eraseAtNextWrite(setup, f, erase, at, step);
  const markByHand = () =>
    f.live.checkins.mark(teacher, { sessionId: session.id, studentId: student.id, status: 'present', ip: teacher.ip ?? null });
  const seedCheckin = () =>
    f.store.records.insertIfAbsent(f.org.id, pendingCheckin(f, session, student.id, { reason: 'GEOFENCE_OUTSIDE', distanceM: 120 }));
  const expectNothingOfTeacher = async () => {
    expect(await f.store.users.get(f.org.id, f.teacher.id)).to.equal(null);
    const records = await f.store.records.listBySession(f.org.id, session.id);
    expect(records.map((r) => r.decidedBy)).not.to.include(f.teacher.id);
    const trail = await f.store.audit.listForSession(f.org.id, session.id);
    expect(trail.filter((e) => e.actorId === f.teacher.id).map((e) => e.action)).to.deep.equal([]);
  };
  const answerOf = (p: Promise<unknown>) =>
    p.then(
      () => 'marked',
      (err: { code?: string }) => err.code ?? String(err),
    );

  it('a hand mark (new record) by a teacher erased before it is written is refused (ACCOUNT_DISABLED) and stores nothing', async () => {
    injectErasure('before');
    expect(await answerOf(markByHand())).to.equal('ACCOUNT_DISABLED');
    await expectNothingOfTeacher();
    expect(await f.store.records.getForStudent(f.org.id, session.id, student.id)).to.equal(null);
  });

  it('a hand mark changing a check-in, by a teacher erased before it is written, is refused and leaves the check-in as it was', async () => {
    const { record } = await seedCheckin();
    injectErasure('before');
    expect(await answerOf(markByHand())).to.equal('ACCOUNT_DISABLED');
    await expectNothingOfTeacher();
    const after = await f.store.records.get(f.org.id, record.id);
    expect([after?.status, after?.reason, after?.decidedBy]).to.deep.equal(['pending', 'GEOFENCE_OUTSIDE', null]);
  });

  for (const step of [0, 1, 2, 4, 8]) {
    it(`a hand mark with the teacher's erasure alongside (stagger ${step}) leaves nothing of the teacher, whichever wins`, async () => {
      const erased = injectErasure('alongside', step);
      await markByHand().catch(() => undefined);
      await erased();
      await expectNothingOfTeacher();
    });

    it(`a hand mark of a check-in with the teacher's erasure alongside (stagger ${step}) leaves nothing of the teacher`, async () => {
      await seedCheckin();
      const erased = injectErasure('alongside', step);
      await markByHand().catch(() => undefined);
      await erased();
      await expectNothingOfTeacher();
    });
  }
}

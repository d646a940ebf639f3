import { expect } from 'chai';
import { useLiveFixture } from '../../support/race-fixture.js';
import { onBothStores } from '../../support/race-stores.js';

// Only an excused record has an absence category (docs/absences.md). A teacher who corrected a
// record an approved excuse had made excused (MEDICAL) to present left the code on it: the
// exports then showed a present student with a medical absence.

onBothStores('absence categories of records marked by hand', 'attendance_mark_absence_category', (setup) => {
  const fixture = useLiveFixture(setup, { students: 1 });

  async function excusedSession() {
    const f = fixture();
    const teacher = f.actor(f.teacher);
    const student = f.students[0]!;
    const session = await f.live.sessions.open(teacher, { subjectId: f.subject.id });
    await f.live.closer.close(f.org.id, session.id, f.teacher.id);
    const { excuse } = await f.domain.excuses.submit(f.actor(student), { sessionId: session.id, category: 'MEDICAL', text: 'flu' });
    await f.domain.excuses.decide(teacher, excuse.id, 'approve', null);
    const excused = await f.store.records.getForStudent(f.org.id, session.id, student.id);
    expect(excused).to.include({ status: 'excused', absenceCategory: 'MEDICAL' });
    return { f, teacher, student, sessionId: session.id };
  }

  it('clears the category of a record corrected to anything but excused', async () => {
    const { f, teacher, student, sessionId } = await excusedSession();
    const entry = await f.live.checkins.mark(teacher, {
      sessionId,
      studentId: student.id,
      status: 'present',
      reason: 'was there',
      ip: null,
    });
    expect(entry).to.include({ status: 'present', absenceCategory: null });
    const stored = await f.store.records.getForStudent(f.org.id, sessionId, student.id);
    expect(stored?.absenceCategory ?? null).to.equal(null);
  });

  it("keeps it when excused again without one, and sets the one given (the organisation's)", async () => {
    const { f, teacher, student, sessionId } = await excusedSession();
    const again = await f.live.checkins.mark(teacher, {
      sessionId,
      studentId: student.id,
      status: 'excused',
      reason: 'certificate seen',
      ip: null,
    });
    expect(again).to.include({ status: 'excused', absenceCategory: 'MEDICAL' });
    const trip = await f.live.checkins.mark(teacher, {
      sessionId,
      studentId: student.id,
      status: 'excused',
      reason: 'was on the trip',
      absenceCategory: 'SCHOOL_TRIP',
      ip: null,
    });
    expect(trip).to.include({ status: 'excused', absenceCategory: 'SCHOOL_TRIP' });
    const trail = await f.store.audit.listForSession(f.org.id, sessionId);
    const last = trail.filter((e) => e.action === 'record.correct').at(-1);
    expect(last?.to).to.include({ absenceCategory: 'SCHOOL_TRIP' });
  });
});

import { expect } from 'chai';
import { useLiveFixture } from '../../support/race-fixture.js';
import { onBothStores, type RaceStore } from '../../support/race-stores.js';

// An erased student's records stay under their tombstone, counted in the session's figures and
// shown on its roster as [erased] (docs/privacy.md). A teacher's correction of one after closing
// is a correction like any other: stored with its audit entry. On MongoDB the group commit's
// take-back of writes for students gone (records.writeBatch) took the tombstone for an erased
// student: the correction stood, its audit entry was deleted, and the teacher was answered
// RECORD_CHANGED, so the trail lost who changed the class's figures.

onBothStores("a correction of an erased student's record", 'attendance_erased_record_correction', suite);

function suite(setup: RaceStore): void {
  const fixture = useLiveFixture(setup, { students: 2 });

  it('is stored with its audit entry and answered', async () => {
    const f = fixture();
    const teacher = f.actor(f.teacher);
    const session = await f.live.sessions.open(teacher, { subjectId: f.subject.id });
    await f.live.closer.close(f.org.id, session.id, f.teacher.id);
    await f.domain.privacy.erasePerson(f.actor(f.admin), f.students[0]!.id, 'erasure request 44');
    const kept = (await f.store.records.listBySession(f.org.id, session.id)).find((r) => r.studentId.startsWith('erased-'));
    expect(kept, 'the erased student’s record under the tombstone').to.not.equal(undefined);

    const entry = await f.live.checkins.mark(teacher, {
      sessionId: session.id,
      studentId: kept!.studentId,
      status: 'present',
      reason: 'was in the room after all',
      ip: null,
    });
    expect(entry.status).to.equal('present');
    const stored = await f.store.records.get(f.org.id, kept!.id);
    expect(stored).to.include({ status: 'present', version: entry.recordVersion });
    const trail = await f.store.audit.listForSession(f.org.id, session.id);
    const corrections = trail.filter((e) => e.entityId === kept!.id && e.action === 'record.correct');
    expect(corrections.map((e) => e.actorId)).to.deep.equal([f.teacher.id]);
  });
}

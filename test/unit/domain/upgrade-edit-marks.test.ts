import { expect } from 'chai';
import { meetingEditKey } from '../../../src/domain/timetable/edit-trail.js';
import { expectCode } from '../../support/expect-code.js';
import { useLiveFixture } from '../../support/race-fixture.js';
import { onBothStores, type RaceStore } from '../../support/race-stores.js';
import { cancelAsReleaseBefore, meetingTappedTwice } from '../../support/slot-pause.js';

// A rolling upgrade runs a node of the release before beside an upgraded one. That node marks a
// meeting edit's cancellations with the hash alone (no revision, the edit's fence), in the audit
// entry only, and takes the same slot leases by name (`slots:ORG:KIND:ID`). Simulated here by its
// writes, as no old build runs in the tests: while it holds the subject's lease the upgraded node
// changes nothing; once it has stopped half-way, the same edit on the upgraded node completes it,
// cancelling each session once and leaving no day that would bring a cancelled class back.

onBothStores('an edit across a rolling upgrade', 'attendance_upgrade_edit_marks', suite);

function suite(setup: RaceStore): void {
  const fixture = useLiveFixture(setup, { students: 1 });

  it('the old node holding the lease keeps the upgraded one out; its hash-alone cancellation is then completed, never repeated', async () => {
    const f = fixture();
    const teacher = f.actor(f.teacher);
    const term = await f.domain.timetable.createTerm(f.actor(f.admin), { name: 'Spring', startDay: '2026-01-05', endDay: '2026-07-10' });
    const { meeting, first, second } = await meetingTappedTwice(f, teacher, term.id);
    const stored = (await f.store.timetable.getMeeting(f.org.id, meeting.id))!;
    const hashAlone = meetingEditKey(stored, { ...stored, weekday: 4 }).split('.')[1]!;

    // The old node takes the subject's lease, cancels the first Wednesday with its mark in the audit
    // entry only (the session's own mark is left null, as that release wrote it) and forgets its day.
    const lease = `slots:${f.org.id}:subject:${f.subject.id}`;
    const now = f.clock.now();
    expect(await f.store.jobs.claim(lease, 'old-node', new Date(now.getTime() + 15_000), now, new Date(8.64e15))).to.equal(true);
    await cancelAsReleaseBefore(f, meeting.id, first, hashAlone);

    // The same edit sent to the upgraded node meanwhile waits for the lease, then is refused, having changed nothing.
    await expectCode(f.domain.timetable.updateMeeting(teacher, meeting.id, { weekday: 4 }), 'CONFLICT');
    expect((await f.store.sessions.get(f.org.id, second.id))?.status).to.equal('scheduled');
    expect((await f.store.timetable.getMeeting(f.org.id, meeting.id))?.weekday).to.equal(3);

    // The old node stops; the edit sent again completes what it began.
    await f.store.jobs.release(lease, 'old-node');
    const done = await f.domain.timetable.updateMeeting(teacher, meeting.id, { weekday: 4 });
    expect([...done.cancelled].sort()).to.deep.equal([first.id, second.id].sort());
    const cancels = async (id: string) => (await f.store.audit.listForSession(f.org.id, id)).filter((e) => e.action === 'session.cancel');
    expect([(await cancels(first.id)).length, (await cancels(second.id)).length]).to.deep.equal([1, 1]);
    expect(await f.store.timetable.listOccurrences(f.org.id, [meeting.id], '2026-03-01', '2026-03-31')).to.deep.equal([]);
    const active = await f.store.sessions.listActiveForSubjects(f.org.id, [f.subject.id]);
    expect(active.filter((s) => s.day === '2026-03-04' || s.day === '2026-03-11')).to.deep.equal([]);
  });
}

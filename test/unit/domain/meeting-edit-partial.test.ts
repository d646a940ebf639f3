import { expect } from 'chai';
import { SLOT_LOCK_TTL_MS } from '../../../src/domain/sessions/slot-locks.js';
import type { SessionView } from '../../../src/shared/events.js';
import { expectCode } from '../../support/expect-code.js';
import { subjectMaker } from '../../support/live-fixture.js';
import { beforeNextCall, useLiveFixture } from '../../support/race-fixture.js';
import { onBothStores, type RaceStore } from '../../support/race-stores.js';

// A meeting edit moves or cancels its sessions before it writes the meeting, each write fenced
// by its slot locks (docs/timetable.md, "Editing a meeting"). A node paused past the locks' 15 s
// between two of them runs the edit again; that run may complete it or be refused by what
// another node did meanwhile. Either way the answer must tell the whole edit: a completed one
// lists every session it cancelled, whichever run did; a refused one says which sessions
// already follow it. The pause is played by holding the edit's second session write while the
// clock passes the locks' life and node B takes the teacher's lock by adding a meeting.

onBothStores('what a meeting edit interrupted by a pause answers', 'attendance_meeting_edit_partial', suite);

function suite(setup: RaceStore): void {
  const fixture = useLiveFixture(setup, { students: 1 });
  const subjectOf = subjectMaker(fixture, 'P');

  /**
   * The fixture's subject meets on Wednesdays 10:00 to 11:00; its sessions of 4 and 11 March,
   * tapped ahead, are scheduled. Before the edit's second session write (a transition matching
   * `write`), the clock passes the locks' life and node B adds CHEM's meeting, taught by the same
   * teacher, on `weekday` from `startTime` to `endTime`, taking the teacher's lock.
   */
  async function twoSessionsSecondWriteHeld(
    write: (patch: { startsAt?: Date; status?: string }) => boolean,
    weekday: number,
    startTime: string,
    endTime: string,
  ) {
    const f = fixture();
    const teacher = f.actor(f.teacher);
    const term = await f.domain.timetable.createTerm(f.actor(f.admin), { name: 'Spring', startDay: '2026-01-05', endDay: '2026-07-10' });
    const chem = await subjectOf([f.teacher]);
    const meeting = await f.domain.timetable.createMeeting(teacher, f.subject.id, {
      termId: term.id,
      weekday: 3,
      startTime: '10:00',
      endTime: '11:00',
    });
    const first: SessionView = await f.domain.timetable.start(teacher, meeting.id, '2026-03-04');
    const second: SessionView = await f.domain.timetable.start(teacher, meeting.id, '2026-03-11');
    const added: string[] = [];
    let writes = 0;
    beforeNextCall(
      f.store.sessions,
      'transition',
      async () => {
        f.clock.advance(SLOT_LOCK_TTL_MS + 1_000);
        const b = f.build({ nodeId: 'node-b' });
        added.push((await b.timetable.createMeeting(teacher, chem.id, { termId: term.id, weekday, startTime, endTime })).id);
      },
      (_orgId: string, _id: string, _from: string[], patch: { startsAt?: Date; status?: string }) => write(patch) && (writes += 1) === 2,
    );
    const status = async (id: string) => (await f.store.sessions.get(f.org.id, id))?.status;
    return { f, teacher, meeting, first, second, added, status };
  }

  const cancellation = (patch: { status?: string }) => patch.status === 'cancelled';
  const move = (patch: { startsAt?: Date }) => patch.startsAt !== undefined;

  it('a weekday edit whose run again completes it answers both sessions cancelled, the first run’s too', async () => {
    // Node B's meeting is on Friday: no clash, the run again completes the edit.
    const { f, teacher, meeting, first, second, added, status } = await twoSessionsSecondWriteHeld(cancellation, 5, '10:00', '11:00');
    const edit = await f.domain.timetable.updateMeeting(teacher, meeting.id, { weekday: 4 });
    expect(added).to.have.length(1);
    expect(edit.meeting.weekday).to.equal(4);
    expect([await status(first.id), await status(second.id)]).to.deep.equal(['cancelled', 'cancelled']);
    expect([...edit.cancelled].sort()).to.deep.equal([first.id, second.id].sort());
  });

  it('a weekday edit refused in its run again says it is partly applied, naming the session cancelled; the retry answers both', async () => {
    // Node B's meeting is on Thursday at the same time: the run again is refused TEACHER_DOUBLE_BOOKED.
    const { f, teacher, meeting, first, second, added, status } = await twoSessionsSecondWriteHeld(cancellation, 4, '10:00', '11:00');
    const err = await expectCode(f.domain.timetable.updateMeeting(teacher, meeting.id, { weekday: 4 }), 'TEACHER_DOUBLE_BOOKED');
    expect(added).to.have.length(1);
    expect(err.details?.['meetingIds']).to.deep.equal(added);
    expect(err.details?.['partlyApplied']).to.deep.equal({
      rescheduled: [],
      cancelled: [first.id],
      rescheduledDays: [],
      cancelledDays: ['2026-03-04'],
    });
    expect(err.message).to.match(/partly applied/);
    expect(await f.store.timetable.getMeeting(f.org.id, meeting.id)).to.deep.equal(meeting);
    expect([await status(first.id), await status(second.id)]).to.deep.equal(['cancelled', 'scheduled']);
    // The teacher confirms, as the refusal asks: the retry finishes the edit and answers all it cancelled.
    const edit = await f.domain.timetable.updateMeeting(teacher, meeting.id, { weekday: 4, teacherOverlap: true });
    expect(edit.meeting.weekday).to.equal(4);
    expect([...edit.cancelled].sort()).to.deep.equal([first.id, second.id].sort());
    // Its own first request's cancellation is its own, not an abandoned edit's.
    expect(edit.abandoned).to.deep.equal({ rescheduled: [], cancelled: [] });
  });

  it('an edit refused in its run again says which session already moved; a refusal before any write says nothing of the kind', async () => {
    // Node B's meeting of CHEM, Wednesday 12:30 to 13:30, is in the way of the new time.
    const { f, teacher, meeting, first, second, status } = await twoSessionsSecondWriteHeld(move, 3, '12:30', '13:30');
    const err = await expectCode(
      f.domain.timetable.updateMeeting(teacher, meeting.id, { startTime: '12:00', endTime: '13:00' }),
      'TEACHER_DOUBLE_BOOKED',
    );
    expect(err.details?.['partlyApplied']).to.deep.equal({
      rescheduled: [first.id],
      cancelled: [],
      rescheduledDays: ['2026-03-04'],
      cancelledDays: [],
    });
    expect(err.message).to.match(/partly applied/);
    const startOf = async (id: string) => (await f.store.sessions.get(f.org.id, id))?.startsAt.toISOString();
    expect(await startOf(first.id)).to.not.equal(first.startsAt);
    expect(await startOf(second.id)).to.equal(second.startsAt);
    expect(await status(second.id)).to.equal('scheduled');
    // Another edit, refused by the same meeting at its checks, found nothing of its own applied.
    const other = await expectCode(
      f.domain.timetable.updateMeeting(teacher, meeting.id, { startTime: '12:15', endTime: '13:15' }),
      'TEACHER_DOUBLE_BOOKED',
    );
    expect(other.details).to.not.have.property('partlyApplied');
    // The same edit refused again before any write of this request: still partly applied by the first.
    const again = await expectCode(
      f.domain.timetable.updateMeeting(teacher, meeting.id, { startTime: '12:00', endTime: '13:00' }),
      'TEACHER_DOUBLE_BOOKED',
    );
    expect(again.details?.['partlyApplied']).to.deep.include({ rescheduled: [first.id], cancelled: [] });
  });
}

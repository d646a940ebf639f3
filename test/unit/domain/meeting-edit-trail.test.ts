import { expect } from 'chai';
import { SLOT_LOCK_TTL_MS } from '../../../src/domain/sessions/slot-locks.js';
import type { SessionView } from '../../../src/shared/events.js';
import { expectCode } from '../../support/expect-code.js';
import { subjectMaker } from '../../support/live-fixture.js';
import { beforeNextCall, useLiveFixture } from '../../support/race-fixture.js';
import { onBothStores, type RaceStore } from '../../support/race-stores.js';

// A meeting edit marks the audit entries of the sessions it moves and cancels with its key
// (src/domain/timetable/edit-trail.ts), and reads them back for its answer (docs/timetable.md,
// "Editing a meeting"). These cases are the trail's edges: the same edit made twice with
// another in between, a different edit after a refused one, and a node that stops for good
// between cancelling a session and forgetting its day.

onBothStores('a meeting edit’s trail', 'attendance_meeting_edit_trail', suite);

function suite(setup: RaceStore): void {
  const fixture = useLiveFixture(setup, { students: 1 });
  const subjectOf = subjectMaker(fixture, 'T');

  /** The fixture's subject meets on Wednesdays 10:00 to 11:00; its sessions of 4 and 11 March are tapped ahead. */
  async function wednesdays() {
    const f = fixture();
    const teacher = f.actor(f.teacher);
    const term = await f.domain.timetable.createTerm(f.actor(f.admin), { name: 'Spring', startDay: '2026-01-05', endDay: '2026-07-10' });
    const meeting = await f.domain.timetable.createMeeting(teacher, f.subject.id, {
      termId: term.id,
      weekday: 3,
      startTime: '10:00',
      endTime: '11:00',
    });
    const tap = async (): Promise<SessionView[]> => [
      await f.domain.timetable.start(teacher, meeting.id, '2026-03-04'),
      await f.domain.timetable.start(teacher, meeting.id, '2026-03-11'),
    ];
    const occurrences = async () =>
      (await f.store.timetable.listOccurrences(f.org.id, [meeting.id], '2026-03-01', '2026-03-31')).map((o) => [
        o.day,
        o.state,
        o.sessionId,
      ]);
    return { f, teacher, term, meeting, tap, occurrences };
  }

  it('an edit made, undone and made again answers only the sessions its third run cancelled', async () => {
    const { f, teacher, meeting, tap } = await wednesdays();
    const first = await tap();
    const made = await f.domain.timetable.updateMeeting(teacher, meeting.id, { weekday: 4 });
    expect([...made.cancelled].sort()).to.deep.equal(first.map((s) => s.id).sort());
    await f.domain.timetable.updateMeeting(teacher, meeting.id, { weekday: 3 });
    const second = await tap();
    const again = await f.domain.timetable.updateMeeting(teacher, meeting.id, { weekday: 4 });
    // The first edit's sessions were cancelled by the first edit, not this one.
    expect([...again.cancelled].sort()).to.deep.equal(second.map((s) => s.id).sort());
    expect(again.abandoned).to.deep.equal({ rescheduled: [], cancelled: [] });
  });

  it('a different edit after a refused one names the session the refused one left cancelled, in its answer and audit', async () => {
    const { f, teacher, term, meeting, tap } = await wednesdays();
    const [first, second] = await tap();
    const chem = await subjectOf([f.teacher]);
    // Before the edit's second cancellation, the clock passes the locks' life and node B adds
    // CHEM's meeting on Thursday at the same time: the run again is refused, one session cancelled.
    let cancels = 0;
    beforeNextCall(
      f.store.sessions,
      'transition',
      async () => {
        f.clock.advance(SLOT_LOCK_TTL_MS + 1_000);
        const b = f.build({ nodeId: 'node-b' });
        await b.timetable.createMeeting(teacher, chem.id, { termId: term.id, weekday: 4, startTime: '10:00', endTime: '11:00' });
      },
      (_orgId: string, _id: string, _from: string[], patch: { status?: string }) => patch.status === 'cancelled' && (cancels += 1) === 2,
    );
    const refused = await expectCode(f.domain.timetable.updateMeeting(teacher, meeting.id, { weekday: 4 }), 'TEACHER_DOUBLE_BOOKED');
    expect(refused.details?.['partlyApplied']).to.deep.include({ cancelled: [first!.id] });
    // The teacher gives that edit up and moves the Wednesday meeting an hour earlier instead.
    const other = await f.domain.timetable.updateMeeting(teacher, meeting.id, { startTime: '09:00', endTime: '10:00' });
    expect(other.rescheduled).to.deep.equal([second!.id]);
    expect(other.cancelled).to.deep.equal([]);
    expect(other.abandoned).to.deep.equal({ rescheduled: [], cancelled: [first!.id] });
    const audit = (await f.store.audit.listForEntity(f.org.id, 'subject', f.subject.id)).filter((e) => e.action === 'meeting.update');
    expect(audit).to.have.length(1);
    expect(audit[0]!.to).to.deep.include({ abandoned: { rescheduled: [], cancelled: [first!.id] } });
    // The next edit starts from the written meeting: nothing of the given-up one is said again.
    const later = await f.domain.timetable.updateMeeting(teacher, meeting.id, { startTime: '08:00', endTime: '09:00' });
    expect(later.abandoned).to.deep.equal({ rescheduled: [], cancelled: [] });
  });

  it('a node that stops for good between a cancellation and forgetting its day leaves no day created with a cancelled session', async () => {
    const { f, teacher, meeting, tap, occurrences } = await wednesdays();
    const [first, second] = await tap();
    // After the edit's first cancellation the node pauses past its locks; node B sends the same
    // edit and completes it; the node never comes back (its forgetting of the day never runs).
    beforeNextCall(f.store.timetable, 'forgetOccurrence', async () => {
      f.clock.advance(SLOT_LOCK_TTL_MS + 1_000);
      const b = f.build({ nodeId: 'node-b' });
      const done = await b.timetable.updateMeeting(teacher, meeting.id, { weekday: 4 });
      expect([...done.cancelled].sort()).to.deep.equal([first!.id, second!.id].sort());
      throw new Error('node A stopped');
    });
    let stopped: unknown = null;
    await f.domain.timetable.updateMeeting(teacher, meeting.id, { weekday: 4 }).catch((err: unknown) => (stopped = err));
    expect((stopped as Error | null)?.message).to.equal('node A stopped');
    expect((await f.store.sessions.get(f.org.id, first!.id))?.status).to.equal('cancelled');
    // Both Wednesdays are free again: were the meeting moved back, the run would create their sessions.
    expect(await occurrences()).to.deep.equal([]);
  });
}

import { expect } from 'chai';
import { createHash } from 'node:crypto';
import type { AuditEntry } from '../../../src/domain/ports/audit.js';
import { UNAUDITED_CANCEL } from '../../../src/domain/ports/sessions.js';
import { meetingEditKey } from '../../../src/domain/timetable/edit-trail.js';
import { expectCode } from '../../support/expect-code.js';
import { subjectMaker } from '../../support/live-fixture.js';
import { beforeNextCall, useLiveFixture } from '../../support/race-fixture.js';
import { onBothStores, type RaceStore } from '../../support/race-stores.js';
import { cancelAsReleaseBefore, holdNthTransition, meetingTappedTwice } from '../../support/slot-pause.js';

// A meeting's revision is stored on it and moved in the same write as the edit (docs/timetable.md,
// "Editing a meeting"); an edit's key starts with it. These cases are what that changes: a crash
// between the meeting's write and its audit entry, marks written before keys carried a revision,
// a crash between a cancellation and its audit entry, and what a refusal says of a given-up edit.

onBothStores('a meeting’s revision and the edits it keys', 'attendance_meeting_edit_revision', suite);

const isCancel = (patch: { status?: string }) => patch.status === 'cancelled';

function suite(setup: RaceStore): void {
  const fixture = useLiveFixture(setup, { students: 1 });
  const subjectOf = subjectMaker(fixture, 'R');

  async function wednesdays() {
    const f = fixture();
    const teacher = f.actor(f.teacher);
    const term = await f.domain.timetable.createTerm(f.actor(f.admin), { name: 'Spring', startDay: '2026-01-05', endDay: '2026-07-10' });
    const { meeting, first, second } = await meetingTappedTwice(f, teacher, term.id);
    const occurrences = async () =>
      (await f.store.timetable.listOccurrences(f.org.id, [meeting.id], '2026-03-01', '2026-03-31')).map((o) => [
        o.day,
        o.state,
        o.sessionId,
      ]);
    return { f, teacher, term, meeting, first, second, occurrences };
  }

  /** The node stops for good at the next audit entry of `action`: that append throws, writing nothing. */
  const stopAtAudit = (action: string) =>
    beforeNextCall(
      fixture().store.audit,
      'append',
      () => {
        throw new Error('node stopped');
      },
      (entry: Omit<AuditEntry, 'id'>) => entry.action === action,
    );
  /** `call` ended where the node stopped; `unexpected` says what finishing would have meant. */
  const expectStopped = (call: Promise<unknown>, unexpected: string) =>
    call.then(
      () => expect.fail(unexpected),
      (err: Error) => expect(err.message).to.equal('node stopped'),
    );

  it('an edit reads none of its subject’s audit entries, and counts one completed edit in the meeting’s revision', async () => {
    const { f, teacher, meeting } = await wednesdays();
    expect((await f.store.timetable.getMeeting(f.org.id, meeting.id))?.revision).to.equal(0);
    let reads = 0;
    const original = f.store.audit.listForEntity.bind(f.store.audit);
    f.store.audit.listForEntity = async (...args) => {
      reads += 1;
      return original(...args);
    };
    try {
      await f.domain.timetable.updateMeeting(teacher, meeting.id, { startTime: '09:00', endTime: '10:00' });
    } finally {
      f.store.audit.listForEntity = original;
    }
    expect(reads).to.equal(0);
    expect((await f.store.timetable.getMeeting(f.org.id, meeting.id))?.revision).to.equal(1);
  });

  it('a crash between the meeting’s write and its audit entry still counts the edit: the next edit names nothing abandoned', async () => {
    const { f, teacher, meeting, first, second } = await wednesdays();
    stopAtAudit('meeting.update');
    await expectStopped(f.domain.timetable.updateMeeting(teacher, meeting.id, { weekday: 4 }), 'the audit entry was written');
    expect((await f.store.timetable.getMeeting(f.org.id, meeting.id))?.weekday).to.equal(4);
    const next = await f.domain.timetable.updateMeeting(teacher, meeting.id, { startTime: '09:00', endTime: '10:00' });
    // The first edit completed: its cancellations are its own, not a given-up edit's.
    expect(next.abandoned).to.deep.equal({ rescheduled: [], cancelled: [] });
    expect(
      [await f.store.sessions.get(f.org.id, first.id), await f.store.sessions.get(f.org.id, second.id)].map((s) => s?.status),
    ).to.deep.equal(['cancelled', 'cancelled']);
  });

  it('an edit in progress across the upgrade, its cancellation marked with the hash alone, completes naming it', async () => {
    const { f, teacher, meeting, first, second, occurrences } = await wednesdays();
    const stored = (await f.store.timetable.getMeeting(f.org.id, meeting.id))!;
    // The release before keys carried a revision cancelled the first session and forgot its day,
    // marking the cancellation with the hash alone, then stopped.
    const legacy = meetingEditKey(stored, { ...stored, weekday: 4 }).split('.')[1]!;
    expect(legacy).to.match(/^[0-9a-f]{32}$/);
    expect(legacy).to.equal(
      createHash('sha256')
        .update(JSON.stringify([meeting.id, fields(stored), fields({ ...stored, weekday: 4 })]))
        .digest('hex')
        .slice(0, 32),
    );
    await cancelAsReleaseBefore(f, meeting.id, first, legacy);
    const done = await f.domain.timetable.updateMeeting(teacher, meeting.id, { weekday: 4 });
    expect([...done.cancelled].sort()).to.deep.equal([first.id, second.id].sort());
    expect(done.abandoned).to.deep.equal({ rescheduled: [], cancelled: [] });
    expect(await occurrences()).to.deep.equal([]);
  });

  it('a crash between a cancellation and its audit entry leaves no day created with a cancelled session', async () => {
    const { f, teacher, meeting, first, second, occurrences } = await wednesdays();
    // The edit's first cancellation is written; its audit entry never is (the node stops for good).
    stopAtAudit('session.cancel');
    await expectStopped(f.domain.timetable.updateMeeting(teacher, meeting.id, { weekday: 4 }), 'the cancellation was audited');
    expect((await f.store.sessions.get(f.org.id, first.id))?.status).to.equal('cancelled');
    // The mark went with the cancellation's write, not with its lost audit entry.
    const marked = (await f.store.sessions.get(f.org.id, first.id))?.meetingEdit;
    expect(marked).to.match(/^0\.[0-9a-f]{32}$/);
    // The same edit sent again completes it, and lists both: the first by its mark.
    const done = await f.domain.timetable.updateMeeting(teacher, meeting.id, { weekday: 4 });
    expect([...done.cancelled].sort()).to.deep.equal([first.id, second.id].sort());
    expect((await f.store.sessions.get(f.org.id, second.id))?.meetingEdit).to.equal(marked);
    // Both Wednesdays are free again: were the meeting moved back, the run would create their sessions.
    expect(await occurrences()).to.deep.equal([]);
  });

  it('a hand cancel that stopped before its audit entry keeps its day, unmarked, and no edit lists it', async () => {
    const { f, teacher, meeting, first, occurrences } = await wednesdays();
    stopAtAudit('session.cancel');
    await expectStopped(f.live.lifecycle.cancel(teacher, first.id, undefined), 'the cancellation was audited');
    const cancelled = await f.store.sessions.get(f.org.id, first.id);
    expect([cancelled?.status, cancelled?.meetingEdit]).to.deep.equal(['cancelled', null]);
    const done = await f.domain.timetable.updateMeeting(teacher, meeting.id, { startTime: '09:00', endTime: '10:00' });
    expect(done.cancelled).to.deep.equal([]);
    expect(done.abandoned).to.deep.equal({ rescheduled: [], cancelled: [] });
    // The teacher called that class off: the timetable run does not create it again.
    expect((await occurrences()).map(([day, state, sessionId]) => [day, state, sessionId === first.id])).to.deep.equal([
      ['2026-03-04', 'created', true],
      ['2026-03-11', 'created', false],
    ]);
  });

  it('a session the upgrade marked unaudited frees its day at the meeting’s next completed edit, unlisted', async () => {
    const { f, teacher, meeting, first, occurrences } = await wednesdays();
    // The release before cancelled it and stopped before the audit entry; the upgrade found no
    // entry and marked it so (migrations: SQLite 32, MongoDB 20).
    await f.store.sessions.transition(f.org.id, first.id, ['scheduled'], {
      status: 'cancelled',
      closedAt: f.clock.now(),
      closedBy: f.teacher.id,
      meetingEdit: UNAUDITED_CANCEL,
    });
    const done = await f.domain.timetable.updateMeeting(teacher, meeting.id, { startTime: '09:00', endTime: '10:00' });
    expect(done.cancelled).to.deep.equal([]);
    expect((await occurrences()).map(([day, state]) => [day, state])).to.deep.equal([['2026-03-11', 'created']]);
  });

  it('a session cancelled by hand keeps its day: the timetable does not create it again', async () => {
    const { f, teacher, meeting, first, occurrences } = await wednesdays();
    await f.live.lifecycle.cancel(teacher, first.id, undefined);
    await f.domain.timetable.updateMeeting(teacher, meeting.id, { startTime: '09:00', endTime: '10:00' });
    expect((await occurrences()).map(([day, state]) => [day, state])).to.deep.equal([
      ['2026-03-04', 'created'],
      ['2026-03-11', 'created'],
    ]);
  });

  it('a different edit refused after a given-up one names what that one left, as a completed edit does', async () => {
    const { f, teacher, term, meeting, first } = await wednesdays();
    const chem = await subjectOf([f.teacher]);
    // Before the edit's second cancellation node B adds CHEM's meeting on Thursday at the same
    // time: the run again is refused, the first session cancelled.
    holdNthTransition(f, 2, isCancel, (b) =>
      b.timetable.createMeeting(teacher, chem.id, { termId: term.id, weekday: 4, startTime: '10:00', endTime: '11:00' }),
    );
    const refused = await expectCode(f.domain.timetable.updateMeeting(teacher, meeting.id, { weekday: 4 }), 'TEACHER_DOUBLE_BOOKED');
    expect(refused.details?.['partlyApplied']).to.deep.include({ cancelled: [first.id] });
    expect(refused.details).not.to.have.property('abandoned');
    // The teacher gives it up and asks for Thursday half an hour later: refused too (CHEM's meeting).
    const other = await expectCode(
      f.domain.timetable.updateMeeting(teacher, meeting.id, { weekday: 4, startTime: '10:30', endTime: '11:30' }),
      'TEACHER_DOUBLE_BOOKED',
    );
    expect(other.details).not.to.have.property('partlyApplied');
    expect(other.details?.['abandoned']).to.deep.equal({ rescheduled: [], cancelled: [first.id] });
    expect(other.message).to.contain('details.abandoned');
  });
}

const EDITED = ['weekday', 'startTime', 'endTime', 'teacherId', 'preset', 'location', 'allowedIpRanges'] as const;
/** The edited fields as the release before hashed them (no room set here, so no keys to sort). */
const fields = (m: Record<(typeof EDITED)[number], unknown>) => EDITED.map((k) => m[k]);

import { expect } from 'chai';
import { SLOT_LOCK_TTL_MS } from '../../../src/domain/sessions/slot-locks.js';
import { ACTIVE_SESSION_STATES } from '../../../src/shared/events.js';
import { expectCode } from '../../support/expect-code.js';
import { subjectMaker } from '../../support/live-fixture.js';
import { beforeNextCall, useLiveFixture } from '../../support/race-fixture.js';
import { onBothStores, type RaceStore } from '../../support/race-stores.js';

// session:open checks the subject's sessions under its slot locks, confirms the locks (the
// fence) and then writes the session. test/integration/paused-node-fencing.test.ts pauses a node
// before the fence; a pause after it, before the write (a few milliseconds in practice, longer
// on a stalled node), let the lock expire, another node take it and open a session of the
// subject, and the first write a second one on top. The write now checks the locks itself.
// Adding or editing a meeting checks the teacher's other meetings under the same locks and is
// fenced the same way.

onBothStores('a pause between the slot fence and the session write', 'attendance_slot_fence_write', suite);

function suite(setup: RaceStore): void {
  const fixture = useLiveFixture(setup, { students: 1 });

  it('the paused open writes nothing, runs again, and is refused SESSION_ALREADY_OPEN by the session opened meanwhile', async () => {
    const f = fixture();
    const teacher = f.actor(f.teacher);
    const sessions = f.store.sessions;
    const create = sessions.create;
    let opened: string | null = null;
    // The first session write: held past the lock's life while another node opens the subject.
    sessions.create = async (...args) => {
      sessions.create = create;
      f.clock.advance(SLOT_LOCK_TTL_MS + 1_000);
      opened = (await f.build({ nodeId: 'node-b' }).attendance.sessions.open(teacher, { subjectId: f.subject.id })).id;
      return create.apply(sessions, args);
    };
    const answer = await f.live.sessions.open(teacher, { subjectId: f.subject.id }).then(
      (s) => s.id,
      (err: { code?: string }) => err.code ?? String(err),
    );
    expect(opened).to.be.a('string');
    expect(answer).to.equal('SESSION_ALREADY_OPEN');
    const active = await f.store.sessions.listActiveForSubjects(f.org.id, [f.subject.id]);
    expect(active.filter((s) => (ACTIVE_SESSION_STATES as readonly string[]).includes(s.status)).map((s) => s.id)).to.deep.equal([opened]);
  });

  it('an extension paused the same way is refused SESSION_ALREADY_OPEN by the session opened in its added time, and changes nothing', async () => {
    const f = fixture();
    const teacher = f.actor(f.teacher);
    const minutes = (n: number) => new Date(f.clock.now().getTime() + n * 60_000).toISOString();
    const first = await f.live.sessions.open(teacher, { subjectId: f.subject.id, closesAt: minutes(30) });
    let opened: string | null = null;
    // The extension's write (a transition moving closesAt, status kept), held as above.
    beforeNextCall(
      f.store.sessions,
      'transition',
      async () => {
        f.clock.advance(SLOT_LOCK_TTL_MS + 1_000);
        const next = { subjectId: f.subject.id, startsAt: minutes(40), closesAt: minutes(50) };
        opened = (await f.build({ nodeId: 'node-b' }).attendance.sessions.open(teacher, next)).id;
      },
      (_orgId: string, _id: string, _from: string[], patch: { closesAt?: Date; status?: string }) =>
        patch.closesAt !== undefined && patch.status === undefined,
    );
    const answer = await f.live.lifecycle.extend(teacher, { sessionId: first.id, closesAt: minutes(90) }).then(
      (s) => s.closesAt,
      (err: { code?: string }) => err.code ?? String(err),
    );
    expect(opened).to.be.a('string');
    expect(answer).to.equal('SESSION_ALREADY_OPEN');
    expect((await f.store.sessions.get(f.org.id, first.id))?.closesAt.toISOString()).to.equal(first.closesAt);
  });

  describe('meetings', () => {
    const at = (termId: string, startTime: string, endTime: string) => ({ termId, weekday: 3, startTime, endTime });
    const subjectOf = subjectMaker(fixture, 'F');

    /** The term, and another subject of the fixture's teacher whose meeting "node B" adds while node A is paused. */
    async function otherSubjectAndTerm() {
      const f = fixture();
      const term = await f.domain.timetable.createTerm(f.actor(f.admin), { name: 'Spring', startDay: '2026-01-05', endDay: '2026-07-10' });
      return { f, term, chem: await subjectOf([f.teacher]) };
    }

    /** Node B adds CHEM's meeting, 09:30 to 10:30, its teacher the fixture's, once A's locks have expired. */
    function nodeBAddsAfterExpiry(f: ReturnType<typeof fixture>, chemId: string, termId: string, added: string[]) {
      return async () => {
        f.clock.advance(SLOT_LOCK_TTL_MS + 1_000);
        const b = f.build({ nodeId: 'node-b' });
        added.push((await b.timetable.createMeeting(f.actor(f.teacher), chemId, at(termId, '09:30', '10:30'))).id);
      };
    }

    it("a meeting add paused the same way writes nothing and is refused TEACHER_DOUBLE_BOOKED by the teacher's meeting added meanwhile", async () => {
      const { f, term, chem } = await otherSubjectAndTerm();
      const added: string[] = [];
      beforeNextCall(f.store.timetable, 'createMeeting', nodeBAddsAfterExpiry(f, chem.id, term.id, added));
      await expectCode(
        f.domain.timetable.createMeeting(f.actor(f.teacher), f.subject.id, at(term.id, '09:00', '10:00')),
        'TEACHER_DOUBLE_BOOKED',
      );
      expect(added).to.have.length(1);
      expect(await f.store.timetable.listMeetings(f.org.id, f.subject.id)).to.deep.equal([]);
      expect((await f.store.timetable.listMeetings(f.org.id, chem.id)).map((m) => m.id)).to.deep.equal(added);
    });

    it("a meeting edit paused the same way is refused TEACHER_DOUBLE_BOOKED by the teacher's meeting added meanwhile, and changes nothing", async () => {
      const { f, term, chem } = await otherSubjectAndTerm();
      const meeting = await f.domain.timetable.createMeeting(f.actor(f.teacher), f.subject.id, at(term.id, '08:00', '09:00'));
      const added: string[] = [];
      beforeNextCall(f.store.timetable, 'updateMeeting', nodeBAddsAfterExpiry(f, chem.id, term.id, added));
      await expectCode(
        f.domain.timetable.updateMeeting(f.actor(f.teacher), meeting.id, { startTime: '09:00', endTime: '10:00' }),
        'TEACHER_DOUBLE_BOOKED',
      );
      expect(added).to.have.length(1);
      expect(await f.store.timetable.getMeeting(f.org.id, meeting.id)).to.deep.equal(meeting);
    });

    it('a meeting edit paused before moving its session is refused SESSION_ALREADY_OPEN by the session opened at the new time meanwhile, and changes nothing', async () => {
      const { f, term } = await otherSubjectAndTerm();
      const teacher = f.actor(f.teacher);
      const meeting = await f.domain.timetable.createMeeting(teacher, f.subject.id, at(term.id, '10:00', '11:00'));
      // Tapped ahead: the meeting's session of Wednesday, scheduled, follows an edit.
      const tapped = await f.domain.timetable.start(teacher, meeting.id, '2026-03-04');
      expect(tapped.status).to.equal('scheduled');
      const hours = (iso: string, n: number) => new Date(Date.parse(iso) + n * 3_600_000).toISOString();
      let opened: string | null = null;
      // The move of the session (a transition with a new start), held past the locks' life while
      // node B opens a session of the subject at the meeting's new time.
      beforeNextCall(
        f.store.sessions,
        'transition',
        async () => {
          f.clock.advance(SLOT_LOCK_TTL_MS + 1_000);
          const next = { subjectId: f.subject.id, startsAt: hours(tapped.startsAt, 2), closesAt: hours(tapped.closesAt, 2) };
          opened = (await f.build({ nodeId: 'node-b' }).attendance.sessions.open(teacher, next)).id;
        },
        (_orgId: string, _id: string, _from: string[], patch: { startsAt?: Date }) => patch.startsAt !== undefined,
      );
      const refused = await expectCode(
        f.domain.timetable.updateMeeting(teacher, meeting.id, { startTime: '12:00', endTime: '13:00' }),
        'SESSION_ALREADY_OPEN',
      );
      expect(refused.details).to.not.have.property('partlyApplied');
      expect(opened).to.be.a('string');
      expect(await f.store.timetable.getMeeting(f.org.id, meeting.id)).to.deep.equal(meeting);
      const active = await f.store.sessions.listActiveForSubjects(f.org.id, [f.subject.id]);
      expect(active.map((x) => [x.id, x.startsAt.toISOString()]).sort()).to.deep.equal(
        [
          [tapped.id, tapped.startsAt],
          [opened!, hours(tapped.startsAt, 2)],
        ].sort(),
      );
    });

    /**
     * The meeting of Wednesdays 10:00 to 11:00 and its sessions of 4 and 11 March, tapped ahead
     * (scheduled), with a hook before the edit's second move: held past the locks' life while
     * node B opens a session of the subject from `startsAt` to `closesAt` (hours after the
     * second session's start), taking the locks.
     */
    async function twoSessionsSecondMoveHeld(startHours: number, endHours: number) {
      const { f, term } = await otherSubjectAndTerm();
      const teacher = f.actor(f.teacher);
      const meeting = await f.domain.timetable.createMeeting(teacher, f.subject.id, at(term.id, '10:00', '11:00'));
      const first = await f.domain.timetable.start(teacher, meeting.id, '2026-03-04');
      const second = await f.domain.timetable.start(teacher, meeting.id, '2026-03-11');
      const hours = (iso: string, n: number) => new Date(Date.parse(iso) + n * 3_600_000).toISOString();
      const opened: string[] = [];
      let moves = 0;
      beforeNextCall(
        f.store.sessions,
        'transition',
        async () => {
          f.clock.advance(SLOT_LOCK_TTL_MS + 1_000);
          const next = {
            subjectId: f.subject.id,
            startsAt: hours(second.startsAt, startHours),
            closesAt: hours(second.startsAt, endHours),
          };
          opened.push((await f.build({ nodeId: 'node-b' }).attendance.sessions.open(teacher, next)).id);
        },
        (_orgId: string, _id: string, _from: string[], patch: { startsAt?: Date }) => patch.startsAt !== undefined && (moves += 1) === 2,
      );
      const reschedules = async (sessionId: string) =>
        (await f.store.audit.listForSession(f.org.id, sessionId)).filter((e) => e.action === 'session.reschedule').length;
      const startOf = async (sessionId: string) => (await f.store.sessions.get(f.org.id, sessionId))?.startsAt.toISOString();
      return { f, teacher, meeting, first, second, hours, opened, reschedules, startOf };
    }

    it('a meeting edit that loses its locks between two moves runs again and completes it: each session moved once, one audit entry each', async () => {
      const { f, teacher, meeting, first, second, hours, opened, reschedules, startOf } = await twoSessionsSecondMoveHeld(5, 6);
      const policy = async () => (await f.store.sessions.get(f.org.id, first.id))?.policy;
      const policyBefore = await policy();
      // A new preset too: the run again resolves the moved session's checks afresh, and finds them as moved.
      const edit = await f.domain.timetable.updateMeeting(teacher, meeting.id, { startTime: '12:00', endTime: '13:00', preset: 'manual' });
      expect(await policy()).to.not.deep.equal(policyBefore);
      expect(opened).to.have.length(1);
      expect(edit.meeting).to.include({ startTime: '12:00', endTime: '13:00' });
      expect([...edit.rescheduled].sort()).to.deep.equal([first.id, second.id].sort());
      expect(await startOf(first.id)).to.equal(hours(first.startsAt, 2));
      expect(await startOf(second.id)).to.equal(hours(second.startsAt, 2));
      expect([await reschedules(first.id), await reschedules(second.id)]).to.deep.equal([1, 1]);
    });

    it('refused in its run again by a session opened at the new time meanwhile, the moves made stay; the retry completes the edit, one audit entry each', async () => {
      const { f, teacher, meeting, first, second, hours, opened, reschedules, startOf } = await twoSessionsSecondMoveHeld(2, 3);
      const refused = await expectCode(
        f.domain.timetable.updateMeeting(teacher, meeting.id, { startTime: '12:00', endTime: '13:00' }),
        'SESSION_ALREADY_OPEN',
      );
      // The refusal says so: the first session already follows the edit, the meeting does not yet.
      expect(refused.details?.['partlyApplied']).to.deep.equal({
        rescheduled: [first.id],
        cancelled: [],
        rescheduledDays: ['2026-03-04'],
        cancelledDays: [],
      });
      // Resumable, not taken back: the first session follows the edit, the meeting and the second do not yet.
      expect(await f.store.timetable.getMeeting(f.org.id, meeting.id)).to.deep.equal(meeting);
      expect(await startOf(first.id)).to.equal(hours(first.startsAt, 2));
      expect(await startOf(second.id)).to.equal(second.startsAt);
      // The teacher sends it again, confirming both sessions of 11 March side by side.
      const edit = await f.domain.timetable.updateMeeting(teacher, meeting.id, { startTime: '12:00', endTime: '13:00', parallel: true });
      expect(edit.meeting).to.include({ startTime: '12:00', endTime: '13:00' });
      expect([...edit.rescheduled].sort()).to.deep.equal([first.id, second.id].sort());
      expect(await startOf(second.id)).to.equal(hours(second.startsAt, 2));
      expect([await reschedules(first.id), await reschedules(second.id)]).to.deep.equal([1, 1]);
      expect(opened).to.have.length(1);
    });

    it('a weekday edit paused before cancelling its session, which opened meanwhile, leaves it running and moves the meeting', async () => {
      const { f, term } = await otherSubjectAndTerm();
      const teacher = f.actor(f.teacher);
      // Today's meeting (Monday 2 March, 11:00 in Paris, the clock at 10:00): its session, tapped ahead, is scheduled.
      const meeting = await f.domain.timetable.createMeeting(teacher, f.subject.id, {
        termId: term.id,
        weekday: 1,
        startTime: '11:00',
        endTime: '12:00',
      });
      const today = await f.domain.timetable.start(teacher, meeting.id, '2026-03-02');
      expect(today.status).to.equal('scheduled');
      const extendedTo = new Date(Date.parse(today.closesAt) + 30 * 60_000).toISOString();
      // The cancellation (a transition to cancelled), held past the session's start and the
      // locks' life while the teacher on node B extends the session, now open, taking the locks.
      beforeNextCall(
        f.store.sessions,
        'transition',
        async () => {
          f.clock.set(new Date(Date.parse(today.startsAt) + 60_000));
          await f.build({ nodeId: 'node-b' }).attendance.lifecycle.extend(teacher, { sessionId: today.id, closesAt: extendedTo });
        },
        (_orgId: string, _id: string, _from: string[], patch: { status?: string }) => patch.status === 'cancelled',
      );
      const edit = await f.domain.timetable.updateMeeting(teacher, meeting.id, { weekday: 2 });
      expect(edit.meeting.weekday).to.equal(2);
      expect(edit.cancelled).to.deep.equal([]);
      const stored = await f.store.sessions.get(f.org.id, today.id);
      expect(stored?.status).to.not.equal('cancelled');
      expect(stored?.closesAt.toISOString()).to.equal(extendedTo);
    });
  });
}

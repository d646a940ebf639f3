import { expect } from 'chai';
import type { Actor } from '../../../src/domain/actor.js';
import type { Subject } from '../../../src/domain/ports/subjects.js';
import { expectCode } from '../../support/expect-code.js';
import { createLiveFixture, subjectMaker, type LiveFixture } from '../../support/live-fixture.js';

// TEACHER_DOUBLE_BOOKED tells its reader that a teacher is busy, and names the sessions and
// meetings in the way only where the reader teaches their subject (or is an admin): a co-teacher
// learns that a colleague has another class then, not which (docs/timetable.md, "One class at
// a time per teacher"). The fixture's clock stands at Monday 2 March 2026, 10:00 in Paris (09:00Z).

const at = (hhmm: string, day = '2026-03-02') => new Date(`${day}T${hhmm}:00.000Z`).toISOString();
const manual = { preset: 'manual' as const };

describe('TEACHER_DOUBLE_BOOKED names only what its reader teaches', () => {
  let f: LiveFixture;
  let teacher: Actor;
  let coTeacher: Actor;
  let admin: Actor;
  /** Taught by both teachers. */
  let shared: Subject;
  /** Taught by the fixture's teacher alone: the co-teacher may not read its sessions or meetings. */
  let theirs: Subject;
  const subjectOf = subjectMaker(() => f, 'D');
  beforeEach(async () => {
    f = await createLiveFixture({ students: 1 });
    teacher = f.actor(f.teacher);
    coTeacher = f.actor(f.otherTeacher);
    admin = f.actor(f.admin);
    shared = await subjectOf([f.teacher, f.otherTeacher], 'SHARED');
    theirs = await subjectOf([f.teacher], 'THEIRS');
  });
  afterEach(() => f.close());

  const busy = { teacherId: '', sessionIds: [], subjectIds: [], withheld: 1, field: 'teacherOverlap' };
  /** Neither the ids nor the code of the subject the reader does not teach, anywhere in the answer. */
  function expectNothingOf(err: { message: string; details?: Record<string, unknown> | undefined }, ...ids: string[]): void {
    const text = JSON.stringify({ message: err.message, details: err.details });
    for (const id of [...ids, theirs.id, theirs.code]) expect(text).not.to.contain(id);
  }

  it("session:extend by a co-teacher into the teacher's class of another subject: busy, not which; its own teacher and an admin see it named", async () => {
    const lesson = await f.live.sessions.open(teacher, {
      subjectId: shared.id,
      startsAt: at('09:00'),
      closesAt: at('10:00'),
      policy: manual,
    });
    const next = await f.live.sessions.open(teacher, {
      subjectId: theirs.id,
      startsAt: at('10:00'),
      closesAt: at('11:00'),
      policy: manual,
    });
    const extend = (by: Actor) => f.live.lifecycle.extend(by, { sessionId: lesson.id, closesAt: at('10:10') });

    const err = await expectCode(extend(coTeacher), 'TEACHER_DOUBLE_BOOKED');
    expect(err.details).to.deep.equal({ ...busy, teacherId: f.teacher.id });
    expect(err.message).to.contain('not named');
    expectNothingOf(err, next.id);

    for (const reader of [teacher, admin]) {
      const named = await expectCode(extend(reader), 'TEACHER_DOUBLE_BOOKED');
      expect(named.details).to.deep.equal({
        teacherId: f.teacher.id,
        sessionIds: [next.id],
        subjectIds: [theirs.id],
        field: 'teacherOverlap',
      });
    }
  });

  it('session:open beside their own session of a subject they no longer teach: busy, not which', async () => {
    const earlier = await f.live.sessions.open(teacher, { subjectId: theirs.id, policy: manual });
    await f.store.subjects.update(f.org.id, theirs.id, { teacherIds: [f.otherTeacher.id] });
    const err = await expectCode(f.live.sessions.open(teacher, { subjectId: shared.id, policy: manual }), 'TEACHER_DOUBLE_BOOKED');
    expect(err.details).to.deep.equal({ ...busy, teacherId: f.teacher.id });
    expectNothingOf(err, earlier.id);
  });

  describe('meetings', () => {
    let termId: string;
    beforeEach(async () => {
      termId = (await f.domain.timetable.createTerm(admin, { name: 'Spring', startDay: '2026-01-05', endDay: '2026-07-10' })).id;
    });

    it('a meeting added by a co-teacher for the teacher at the time of their meeting of another subject: busy, not which; an admin sees it named', async () => {
      // No teacher of its own: THEIRS's first, the fixture's teacher.
      const other = await f.domain.timetable.createMeeting(admin, theirs.id, { termId, weekday: 3, startTime: '09:00', endTime: '10:00' });
      const add = (by: Actor) =>
        f.domain.timetable.createMeeting(by, shared.id, {
          termId,
          weekday: 3,
          startTime: '09:30',
          endTime: '10:30',
          teacherId: f.teacher.id,
        });

      const err = await expectCode(add(coTeacher), 'TEACHER_DOUBLE_BOOKED');
      expect(err.details).to.deep.equal({ teacherId: f.teacher.id, meetingIds: [], subjectIds: [], withheld: 1, field: 'teacherOverlap' });
      expectNothingOf(err, other.id);

      const named = await expectCode(add(admin), 'TEACHER_DOUBLE_BOOKED');
      expect(named.details).to.deep.equal({
        teacherId: f.teacher.id,
        meetingIds: [other.id],
        subjectIds: [theirs.id],
        field: 'teacherOverlap',
      });
    });

    it("a meeting edit by a co-teacher moving the teacher's session onto their session of another subject: the day and the moved session, not which", async () => {
      const meeting = await f.domain.timetable.createMeeting(admin, shared.id, {
        termId,
        weekday: 3,
        startTime: '09:00',
        endTime: '10:00',
      });
      const tapped = await f.domain.timetable.start(teacher, meeting.id, '2026-03-04');
      // The teacher's THEIRS session on Wednesday, 11:00–12:00 Paris.
      const other = await f.live.sessions.open(teacher, {
        subjectId: theirs.id,
        startsAt: at('10:00', '2026-03-04'),
        closesAt: at('11:00', '2026-03-04'),
        policy: manual,
      });
      const move = (by: Actor) => f.domain.timetable.updateMeeting(by, meeting.id, { startTime: '11:30', endTime: '12:30' });

      const err = await expectCode(move(coTeacher), 'TEACHER_DOUBLE_BOOKED');
      expect(err.details).to.deep.equal({
        ...busy,
        teacherId: f.teacher.id,
        clashes: [{ day: '2026-03-04', sessionId: tapped.id, teacherId: f.teacher.id }],
      });
      expectNothingOf(err, other.id);

      const named = await expectCode(move(admin), 'TEACHER_DOUBLE_BOOKED');
      expect(named.details).to.deep.include({
        sessionIds: [other.id],
        subjectIds: [theirs.id],
        clashes: [{ day: '2026-03-04', sessionId: tapped.id, withSessionId: other.id, teacherId: f.teacher.id }],
      });
    });
  });
});

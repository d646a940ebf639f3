import { expect } from 'chai';
import type { Actor } from '../../../src/domain/actor.js';
import type { Subject } from '../../../src/domain/ports/subjects.js';
import { SLOT_LOCK_TTL_MS } from '../../../src/domain/sessions/slot-locks.js';
import type { SessionView } from '../../../src/shared/events.js';
import { expectCode } from '../../support/expect-code.js';
import { subjectMaker, type LiveFixture } from '../../support/live-fixture.js';
import { beforeNextCall, useLiveFixture } from '../../support/race-fixture.js';
import { onBothStores, type RaceStore } from '../../support/race-stores.js';

// A change of a subject's first teacher writes the subject and hands the scheduled sessions of
// its teacher-less meetings over (docs/timetable.md, "A subject's first teacher changing"), under
// the subject's and the new first teacher's slot locks. A node paused in the middle past the
// locks' 15 s (docs/deploy.md, "A node pauses") lost them to another node: its writes must not
// land on what that node did meanwhile. The pause is played by holding the change's first or
// second write (the subject's, or a session's hand-over, whichever the change makes then) while
// the clock passes the locks' life and node B acts.

onBothStores("a pause in a change of a subject's first teacher", 'attendance_first_teacher_fence', suite);

function suite(setup: RaceStore): void {
  const fixture = useLiveFixture(setup, { students: 1 });
  const subjectOf = subjectMaker(fixture, 'FF');
  let f: LiveFixture;
  let admin: Actor;
  let bio: Subject;
  let tapped: SessionView;

  // BIO, taught by the other teacher, meets on Wednesdays 10:00 to 11:00 with no teacher of its
  // own; its session of 4 March, tapped ahead, is scheduled and the other teacher's.
  beforeEach(async () => {
    f = fixture();
    admin = f.actor(f.admin);
    bio = await subjectOf([f.otherTeacher], 'BIO');
    const term = await f.domain.timetable.createTerm(admin, { name: 'Spring', startDay: '2026-01-05', endDay: '2026-07-10' });
    const meeting = await f.domain.timetable.createMeeting(admin, bio.id, {
      termId: term.id,
      weekday: 3,
      startTime: '10:00',
      endTime: '11:00',
    });
    tapped = await f.domain.timetable.start(f.actor(f.otherTeacher), meeting.id, '2026-03-04');
    expect(tapped).to.include({ status: 'scheduled', teacherId: f.otherTeacher.id });
  });

  /**
   * Runs `pause` before the change's `nth` write, the subject's (subjects.update) or a hand-over
   * (a sessions.transition naming a teacher), whichever it makes then. Returns the undo.
   */
  function beforeWrite(nth: number, pause: () => Promise<unknown>): () => void {
    let writes = 0;
    const count = () => (writes += 1) === nth;
    const undo = [
      beforeNextCall(f.store.subjects, 'update', pause, count),
      beforeNextCall(f.store.sessions, 'transition', pause, (_o: string, _i: string, _f: string[], patch: { teacherId?: string }) =>
        patch.teacherId !== undefined ? count() : false,
      ),
    ];
    return () => undo.forEach((u) => u());
  }

  const expire = () => f.clock.advance(SLOT_LOCK_TTL_MS + 1_000);

  /** A teacher of the organisation besides the fixture's two, whom node B makes BIO's. */
  const aThirdTeacher = () =>
    f.store.users.create(f.org.id, {
      email: 'third@test',
      name: 'Teacher Three',
      role: 'teacher',
      studentNumber: null,
      passwordHash: null,
      active: true,
    });

  it('paused before its first write, it is refused TEACHER_DOUBLE_BOOKED by the class the new first teacher opened meanwhile, and changes nothing', async () => {
    let opened: string | null = null;
    const undo = beforeWrite(1, async () => {
      expire();
      const b = f.build({ nodeId: 'node-b' });
      const at = { subjectId: f.subject.id, startsAt: tapped.startsAt, closesAt: tapped.closesAt };
      opened = (await b.attendance.sessions.open(f.actor(f.teacher), at)).id;
    });
    await expectCode(f.domain.subjects.update(admin, bio.id, { teacherIds: [f.teacher.id] }), 'TEACHER_DOUBLE_BOOKED');
    undo();
    expect(opened).to.be.a('string');
    expect((await f.store.subjects.get(f.org.id, bio.id))?.teacherIds).to.deep.equal([f.otherTeacher.id]);
    expect((await f.store.sessions.get(f.org.id, tapped.id))?.teacherId).to.equal(f.otherTeacher.id);
    expect((await f.store.sessions.get(f.org.id, opened!))?.status).to.equal('scheduled');
  });

  it('paused between its two writes while node B changes the teachers again, it leaves the subject and its session agreeing, handed once', async () => {
    const third = await aThirdTeacher();
    let changedByB: string[] = [];
    const undo = beforeWrite(2, async () => {
      expire();
      const b = f.build({ nodeId: 'node-b' });
      changedByB = (await b.subjects.update(admin, bio.id, { teacherIds: [third.id] })).teacherIds;
    });
    const changed = await f.domain.subjects.update(admin, bio.id, { teacherIds: [f.teacher.id] });
    undo();
    expect(changedByB).to.deep.equal([third.id]);
    const subject = await f.store.subjects.get(f.org.id, bio.id);
    const session = await f.store.sessions.get(f.org.id, tapped.id);
    // The change that answered last stands, in the subject and its session alike.
    expect(changed.teacherIds).to.deep.equal([f.teacher.id]);
    expect(subject?.teacherIds).to.deep.equal([f.teacher.id]);
    expect(session?.teacherId).to.equal(f.teacher.id);
    // Each hand-over a change of holder: node A's to its teacher; node B's to the third, the session
    // being held by a teacher not of BIO as B found it (nobody taken off keeps a session); node A's
    // run again, back to its teacher. None repeated.
    const trail = await f.store.audit.listForSession(f.org.id, tapped.id);
    const holders = trail.filter((e) => e.action === 'session.reschedule').map((e) => (e.to as { teacherId?: string }).teacherId);
    expect(holders).to.deep.equal([f.teacher.id, third.id, f.teacher.id]);
  });

  it("paused before taking its locks while node B changes the teachers, its audit's before is node B's teachers, read under the locks", async () => {
    const third = await aThirdTeacher();
    // The change has read the subject (its access check) and not yet taken its first lock.
    const undo = beforeNextCall(f.store.jobs, 'claim', async () => {
      await f.build({ nodeId: 'node-b' }).subjects.update(admin, bio.id, { teacherIds: [third.id] });
    });
    await f.domain.subjects.update(admin, bio.id, { teacherIds: [f.teacher.id] });
    undo();
    const updates = (await f.store.audit.listForEntity(f.org.id, 'subject', bio.id)).filter((e) => e.action === 'subject.update');
    expect(updates.map((e) => [e.from, e.to])).to.deep.equal([
      [{ teacherIds: [f.otherTeacher.id] }, { teacherIds: [third.id] }],
      [{ teacherIds: [third.id] }, { teacherIds: [f.teacher.id] }],
    ]);
  });

  it("paused before its last write, the subject's, it is refused TEACHER_DOUBLE_BOOKED by the new first teacher's meeting added meanwhile; a confirmed retry completes it", async () => {
    let added: string | null = null;
    const term = (await f.store.timetable.listTerms(f.org.id))[0]!;
    const undo = beforeNextCall(f.store.subjects, 'update', async () => {
      expire();
      const b = f.build({ nodeId: 'node-b' });
      const at = { termId: term.id, weekday: 3, startTime: '10:30', endTime: '11:30' };
      added = (await b.timetable.createMeeting(f.actor(f.teacher), f.subject.id, at)).id;
    });
    await expectCode(f.domain.subjects.update(admin, bio.id, { teacherIds: [f.teacher.id] }), 'TEACHER_DOUBLE_BOOKED');
    undo();
    expect(added).to.be.a('string');
    expect((await f.store.subjects.get(f.org.id, bio.id))?.teacherIds).to.deep.equal([f.otherTeacher.id]);
    // Resumable rather than taken back: the session handed before the pause stays the new
    // teacher's, and the admin's retry, confirmed, hands over what is left and writes the subject.
    expect((await f.store.sessions.get(f.org.id, tapped.id))?.teacherId).to.equal(f.teacher.id);
    const changed = await f.domain.subjects.update(admin, bio.id, { teacherIds: [f.teacher.id], teacherOverlap: true });
    expect(changed.teacherIds).to.deep.equal([f.teacher.id]);
    expect((await f.store.sessions.get(f.org.id, tapped.id))?.teacherId).to.equal(f.teacher.id);
    const trail = await f.store.audit.listForSession(f.org.id, tapped.id);
    expect(trail.filter((e) => e.action === 'session.reschedule')).to.have.length(1);
  });
}

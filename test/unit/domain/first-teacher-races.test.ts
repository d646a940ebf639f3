import { expect } from 'chai';
import type { Actor } from '../../../src/domain/actor.js';
import type { Domain } from '../../../src/domain/services.js';
import type { Subject } from '../../../src/domain/ports/subjects.js';
import type { Meeting, Term } from '../../../src/domain/ports/timetable.js';
import { subjectMaker, type LiveFixture } from '../../support/live-fixture.js';
import { expectOneWinner, raceAfter, useLiveFixture } from '../../support/race-fixture.js';
import { onBothStores, type RaceStore } from '../../support/race-stores.js';

// A subject's first teacher changing while the timetable run creates its meeting's session, or
// while its meeting is edited, on two nodes (docs/timetable.md, "A subject's first teacher
// changing"). Whichever goes first, the sessions end up the new first teacher's. The fixture's
// clock stands at Monday 2 March 2026, 10:00 in Paris (09:00Z).

onBothStores("a subject's first teacher changing during a timetable run or a meeting edit", 'attendance_first_teacher', suite);

function suite(setup: RaceStore): void {
  let f: LiveFixture;
  let b: Domain;
  let term: Term;
  let admin: Actor;
  const fixture = useLiveFixture(setup, { students: 1 });
  const subjectOf = subjectMaker(fixture, 'FT');
  beforeEach(async () => {
    f = fixture();
    b = f.build({ nodeId: 'node-b' });
    admin = f.actor(f.admin);
    term = await f.domain.timetable.createTerm(admin, { name: 'Spring', startDay: '2026-01-05', endDay: '2026-07-10' });
  });

  /** Minutes after 08:00 as "HH:MM". */
  const time = (m: number) => `${String(8 + Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

  /** A teacher-less meeting of a new subject of the other teacher, on Wednesday at a time of its own each round. */
  async function meetingOfRound(round: number): Promise<{ subject: Subject; meeting: Meeting }> {
    const subject = await subjectOf([f.otherTeacher]);
    const meeting = await f.domain.timetable.createMeeting(admin, subject.id, {
      termId: term.id,
      weekday: 3,
      startTime: time(round * 20),
      endTime: time(round * 20 + 15),
    });
    return { subject, meeting };
  }

  /** Starts `a` and `b` in turn a little later than the other, by `scale` steps more every other round. */
  function stagger<A, B>(round: number, scale: number, a: () => Promise<A>, b: () => Promise<B>) {
    const step = Math.floor(round / 2) * scale;
    return raceAfter(setup, round % 2 === 0 ? [step, 0] : [0, step], a, b);
  }

  const outcomes = (results: PromiseSettledResult<unknown>[]) =>
    JSON.stringify(results.map((r) => (r.status === 'fulfilled' ? 'ok' : ((r.reason as { code?: string }).code ?? String(r.reason)))));

  async function sessionsOf(meetingId: string) {
    const occurrences = await f.store.timetable.listOccurrences(f.org.id, [meetingId], '2026-03-04', '2026-03-04');
    return Promise.all(occurrences.filter((o) => o.sessionId).map((o) => f.store.sessions.get(f.org.id, o.sessionId!)));
  }

  /** Whether the session was handed over after it was made (the change saw it) rather than made the new teacher's. */
  async function handedOver(sessionId: string): Promise<boolean> {
    const trail = await f.store.audit.listForSession(f.org.id, sessionId);
    return trail.some((e) => e.action === 'session.reschedule');
  }

  /**
   * 24 rounds of `create` (on node A) racing the change of the round's subject's first teacher to
   * the fixture's teacher (on node B), `scale` more store steps apart every other round: the
   * meeting's session always ends the new first teacher's, and both orders happened.
   */
  async function newFirstTeacherEveryRound(scale: number, create: (meeting: Meeting) => Promise<unknown>): Promise<void> {
    const ways = new Set<string>();
    for (let round = 0; round < 24; round += 1) {
      const { subject, meeting } = await meetingOfRound(round);
      const results = await stagger(
        round,
        scale,
        () => create(meeting),
        () => b.subjects.update(admin, subject.id, { teacherIds: [f.teacher.id], teacherOverlap: true }),
      );
      expect(
        results.map((r) => r.status),
        `round ${round}: ${outcomes(results)}`,
      ).to.deep.equal(['fulfilled', 'fulfilled']);
      // A run that found the change under way may leave the day to the next run.
      if ((await sessionsOf(meeting.id)).length === 0) await create(meeting);
      const sessions = await sessionsOf(meeting.id);
      expect(sessions, `round ${round}`).to.have.length(1);
      expect(sessions[0]?.teacherId, `round ${round}: the session's teacher`).to.equal(f.teacher.id);
      ways.add((await handedOver(sessions[0]!.id)) ? 'made, then handed over' : 'made for the new teacher');
    }
    // The rounds did race: each order happened.
    expect([...ways].sort()).to.deep.equal(['made for the new teacher', 'made, then handed over']);
  }

  it("the timetable run and the change on two nodes: the session is always the new first teacher's (24 rounds)", async function () {
    this.timeout(120_000);
    await newFirstTeacherEveryRound(3, () => f.domain.timetable.createUpcoming(f.clock.now(), 7));
  });

  it("the one tap makes the meeting's session its teacher's, as the run would, whoever of the staff taps", async () => {
    const { subject, meeting } = await meetingOfRound(0);
    await f.store.subjects.update(f.org.id, subject.id, { teacherIds: [f.otherTeacher.id, f.teacher.id] });
    await f.domain.timetable.updateSettings(f.actor(f.otherTeacher), { lateGraceMinutes: 3 });
    await f.domain.timetable.updateSettings(f.actor(f.teacher), { lateGraceMinutes: 7 });
    // A co-teacher taps: the session is the first teacher's, with their defaults; the audit names who tapped.
    const tapped = await f.domain.timetable.start(f.actor(f.teacher), meeting.id, '2026-03-04');
    expect((await f.store.sessions.get(f.org.id, tapped.id))?.teacherId).to.equal(f.otherTeacher.id);
    expect(Date.parse(tapped.lateAfter) - Date.parse(tapped.startsAt)).to.equal(3 * 60_000);
    const opened = (await f.store.audit.listForSession(f.org.id, tapped.id)).find((e) => e.action === 'session.open');
    expect(opened?.actorId).to.equal(f.teacher.id);
    // An admin taps a meeting with a teacher of its own: that teacher's.
    const own = await f.domain.timetable.createMeeting(admin, subject.id, {
      termId: term.id,
      weekday: 3,
      startTime: time(300),
      endTime: time(315),
      teacherId: f.teacher.id,
    });
    const byAdmin = await f.domain.timetable.start(admin, own.id, '2026-03-04');
    expect((await f.store.sessions.get(f.org.id, byAdmin.id))?.teacherId).to.equal(f.teacher.id);
    // The subject's first teacher changing takes the tapped session over, as the run's.
    await b.subjects.update(admin, subject.id, { teacherIds: [f.teacher.id], teacherOverlap: true });
    expect((await f.store.sessions.get(f.org.id, tapped.id))?.teacherId).to.equal(f.teacher.id);
    // A subject without a teacher: the session is the tapper's, as one opened by hand.
    const { subject: bare, meeting: orphan } = await meetingOfRound(1);
    await f.store.subjects.update(f.org.id, bare.id, { teacherIds: [] });
    const alone = await f.domain.timetable.start(admin, orphan.id, '2026-03-04');
    expect((await f.store.sessions.get(f.org.id, alone.id))?.teacherId).to.equal(f.admin.id);
  });

  it("an admin's tap and the change on two nodes: the session is always the new first teacher's (24 rounds)", async function () {
    this.timeout(120_000);
    await newFirstTeacherEveryRound(1, (meeting) => f.domain.timetable.start(admin, meeting.id, '2026-03-04'));
  });

  it("a meeting edit and the change on two nodes: the moved session is always the new first teacher's (24 rounds)", async function () {
    this.timeout(120_000);
    const orders = new Set<string>();
    for (let round = 0; round < 24; round += 1) {
      const { subject, meeting } = await meetingOfRound(round);
      await f.store.subjects.update(f.org.id, subject.id, { teacherIds: [f.otherTeacher.id, f.teacher.id] });
      const tapped = await f.domain.timetable.start(f.actor(f.otherTeacher), meeting.id, '2026-03-04');
      const results = await stagger(
        round,
        1,
        () => f.domain.timetable.updateMeeting(admin, meeting.id, { startTime: time(round * 20 + 5), endTime: time(round * 20 + 20) }),
        () => b.subjects.update(admin, subject.id, { teacherIds: [f.teacher.id, f.otherTeacher.id], teacherOverlap: true }),
      );
      expect(
        results.map((r) => r.status),
        `round ${round}: ${outcomes(results)}`,
      ).to.deep.equal(['fulfilled', 'fulfilled']);
      const session = await f.store.sessions.get(f.org.id, tapped.id);
      expect(session?.startsAt.getTime(), `round ${round}: moved`).to.equal(Date.parse(tapped.startsAt) + 5 * 60_000);
      expect(session?.teacherId, `round ${round}: the session's teacher`).to.equal(f.teacher.id);
      const moves = (await f.store.audit.listForSession(f.org.id, tapped.id)).filter((e) => e.action === 'session.reschedule');
      const first = moves[0]?.to as { teacherId?: string } | undefined;
      orders.add(first?.teacherId === f.teacher.id ? 'change first' : 'edit first');
    }
    expect([...orders].sort()).to.deep.equal(['change first', 'edit first']);
  });

  it("a teacher-less meeting added and the change on two nodes, at the new first teacher's other class: exactly one stands (24 rounds)", async function () {
    this.timeout(120_000);
    const theirs = await subjectOf([f.teacher]);
    const winners = new Set<string>();
    for (let round = 0; round < 24; round += 1) {
      const slot = { termId: term.id, weekday: 3, startTime: time(round * 20), endTime: time(round * 20 + 15) };
      await f.domain.timetable.createMeeting(admin, theirs.id, slot);
      const subject = await subjectOf([f.otherTeacher]);
      const results = await stagger(
        round,
        1,
        () => f.domain.timetable.createMeeting(admin, subject.id, slot),
        () => b.subjects.update(admin, subject.id, { teacherIds: [f.teacher.id] }),
      );
      const added = expectOneWinner(results, 'TEACHER_DOUBLE_BOOKED', `round ${round}: ${outcomes(results)}`);
      winners.add(added ? 'add' : 'change');
      // What is stored agrees with the winner.
      expect(await f.store.timetable.listMeetings(f.org.id, subject.id), `round ${round}`).to.have.length(added ? 1 : 0);
      expect((await f.store.subjects.get(f.org.id, subject.id))?.teacherIds, `round ${round}`).to.deep.equal([
        added ? f.otherTeacher.id : f.teacher.id,
      ]);
    }
    expect([...winners].sort()).to.deep.equal(['add', 'change']);
  });
}

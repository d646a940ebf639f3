import { expect } from 'chai';
import type { Actor } from '../../../src/domain/actor.js';
import type { Subject } from '../../../src/domain/ports/subjects.js';
import type { Meeting } from '../../../src/domain/ports/timetable.js';
import type { User } from '../../../src/domain/ports/users.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { expectCode } from '../../support/expect-code.js';
import { createLiveFixture, type LiveFixture } from '../../support/live-fixture.js';
import { beforeNextCall } from '../../support/race-fixture.js';

// A co-teacher's session of a meeting that names another teacher of its own (tapped before a
// tap made the meeting's teacher's session) goes, when an admin takes that co-teacher off the
// subject, to the meeting's own teacher: who is held to one class at a time as the first
// teacher is (docs/timetable.md, "One class at a time per teacher"). The fixture's clock stands
// at Monday 2 March 2026, 10:00 in Paris.

describe("a removed co-teacher's scheduled session handed to the meeting's own teacher", () => {
  let f: LiveFixture;
  let admin: Actor;
  let first: User;
  let removed: User;
  let own: User;
  let subject: Subject;
  let meeting: Meeting;
  let sessionId: string;
  const day = '2026-03-04';

  beforeEach(async () => {
    f = await createLiveFixture({ students: 1 });
    admin = f.actor(f.admin);
    first = f.teacher;
    removed = f.otherTeacher;
    own = await f.store.users.create(f.org.id, {
      email: 'own@test',
      name: 'Meeting Teacher',
      role: 'teacher',
      studentNumber: null,
      passwordHash: null,
      active: true,
    });
    subject = (await f.store.subjects.update(f.org.id, f.subject.id, { teacherIds: [first.id, removed.id, own.id] }))!;
    const term = await f.domain.timetable.createTerm(admin, { name: 'Spring', startDay: '2026-01-05', endDay: '2026-07-10' });
    // The meeting was the co-teacher's when they tapped it; it names its own teacher since.
    meeting = await f.domain.timetable.createMeeting(admin, subject.id, {
      termId: term.id,
      weekday: 3,
      startTime: '14:00',
      endTime: '15:00',
      teacherId: removed.id,
    });
    sessionId = (await f.domain.timetable.start(f.actor(removed), meeting.id, day)).id;
    await f.store.timetable.updateMeeting(f.org.id, meeting.id, { teacherId: own.id });
    expect((await f.store.sessions.get(f.org.id, sessionId))?.teacherId).to.equal(removed.id);
  });
  afterEach(() => f.close());

  /** A class of another subject of the meeting's own teacher, by hand, overlapping the session. */
  async function ownOtherClass(): Promise<string> {
    const other = await otherSubject();
    const opened = await f.live.sessions.open(f.actor(own), {
      subjectId: other.id,
      startsAt: '2026-03-04T13:30:00.000Z',
      closesAt: '2026-03-04T14:30:00.000Z',
    });
    return opened.id;
  }

  function otherSubject(): Promise<Subject> {
    return f.store.subjects.create(f.org.id, {
      code: 'OTH1',
      name: 'Other',
      teacherIds: [own.id],
      location: null,
      allowedIpRanges: [],
    });
  }

  it('free: the session becomes the meeting teacher’s', async () => {
    await f.domain.subjects.update(admin, subject.id, { teacherIds: [first.id, own.id] });
    expect((await f.store.sessions.get(f.org.id, sessionId))?.teacherId).to.equal(own.id);
  });

  it('busy then: the change is refused TEACHER_DOUBLE_BOOKED naming the meeting’s teacher, and nothing moves', async () => {
    const inTheWay = await ownOtherClass();
    const err = await expectCode(f.domain.subjects.update(admin, subject.id, { teacherIds: [first.id, own.id] }), 'TEACHER_DOUBLE_BOOKED');
    expect(err.details).to.deep.include({ teacherId: own.id });
    expect(err.details?.['sessionIds']).to.deep.equal([inTheWay]);
    expect((await f.store.sessions.get(f.org.id, sessionId))?.teacherId).to.equal(removed.id);
    expect((await f.store.subjects.get(f.org.id, subject.id))?.teacherIds).to.deep.equal([first.id, removed.id, own.id]);
  });

  it("the meeting teacher's class opened at that time while the change runs: never both (the change holds their lock)", async () => {
    const other = await otherSubject();
    let opening: Promise<unknown> = Promise.resolve();
    // Between the change's check of the meeting's teacher and its hand-over of the session.
    beforeNextCall(f.store.sessions, 'transition', async () => {
      opening = f.live.sessions.open(f.actor(own), {
        subjectId: other.id,
        startsAt: '2026-03-04T13:30:00.000Z',
        closesAt: '2026-03-04T14:30:00.000Z',
      });
      opening.catch(() => undefined);
      await sleep(100);
    });
    await f.domain.subjects.update(admin, subject.id, { teacherIds: [first.id, own.id] });
    // The open waited for the change, then found the session handed over in the way.
    const [opened] = await Promise.allSettled([opening]);
    expect((opened as PromiseRejectedResult).reason?.code, JSON.stringify(opened)).to.equal('TEACHER_DOUBLE_BOOKED');
    expect((await f.store.sessions.get(f.org.id, sessionId))?.teacherId).to.equal(own.id);
  });

  it("a hand-over giving the meeting's teacher two such sessions of two subjects at once is refused TEACHER_DOUBLE_BOOKED, nothing moved", async () => {
    // A second subject alike: a meeting the co-teacher tapped, overlapping the first's, its own teacher's since.
    const second = await f.store.subjects.create(f.org.id, {
      code: 'SEC1',
      name: 'Second',
      teacherIds: [first.id, removed.id, own.id],
      location: null,
      allowedIpRanges: [],
    });
    const term = (await f.store.timetable.listTerms(f.org.id))[0]!;
    const meeting2 = await f.domain.timetable.createMeeting(admin, second.id, {
      termId: term.id,
      weekday: 3,
      startTime: '14:30',
      endTime: '15:30',
      teacherId: removed.id,
      teacherOverlap: true,
    });
    const session2 = (await f.domain.timetable.start(f.actor(removed), meeting2.id, day)).id;
    await f.store.timetable.updateMeeting(f.org.id, meeting2.id, { teacherId: own.id });
    const colleague = await f.store.users.create(f.org.id, {
      email: 'colleague@test',
      name: 'Colleague',
      role: 'teacher',
      studentNumber: null,
      passwordHash: null,
      active: true,
    });
    const err = await expectCode(
      f.domain.handover.handOver(admin, removed.id, { toTeacherId: colleague.id, keepAbsent: false, teacherOverlap: false }),
      'TEACHER_DOUBLE_BOOKED',
    );
    const refused = err.details?.['refused'] as { code: string; error: string; doubleBookings: unknown[] }[];
    expect(refused.map((r) => [r.code, r.error, r.doubleBookings])).to.deep.equal([
      ['SEC1', 'TEACHER_DOUBLE_BOOKED', [{ code: 'SEC1', meeting: null, day, withCode: 'PHY1', withMeeting: null }]],
    ]);
    for (const id of [sessionId, session2]) expect((await f.store.sessions.get(f.org.id, id))?.teacherId).to.equal(removed.id);
  });
});

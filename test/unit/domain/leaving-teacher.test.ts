import { expect } from 'chai';
import type { Actor } from '../../../src/domain/actor.js';
import { UnstaffedNotice } from '../../../src/domain/notifications/unstaffed-notice.js';
import type { Subject } from '../../../src/domain/ports/subjects.js';
import type { User } from '../../../src/domain/ports/users.js';
import type { LiveFixture } from '../../support/live-fixture.js';
import { beforeNextCall, useLiveFixture } from '../../support/race-fixture.js';
import { onBothStores, type RaceStore } from '../../support/race-stores.js';

// A teacher an admin makes a student, or deactivates, alone or with others: no class is run in
// their name any more (docs/authorization.md, "A role change or a deactivation"). Their sessions
// still scheduled go to a teacher of the subject free then, else stay, audited for the admins.
// The fixture's clock stands at Monday 2 March 2026, 10:00 in Paris.

// Both stores: the hand-over reads a teacher's sessions (listActiveForTeacher) and moves them
// under locks, each store with its own queries and indexes.
onBothStores('the scheduled sessions of a teacher who can no longer teach', 'attendance_leaving', leavingSuite);

function leavingSuite(setup: RaceStore): void {
  const fixture = useLiveFixture(setup, { students: 1 });
  let f: LiveFixture;
  let admin: Actor;
  let leaving: User;
  let colleague: User;
  let subject: Subject;
  const window = { startsAt: '2026-03-04T13:00:00.000Z', closesAt: '2026-03-04T14:00:00.000Z' };

  beforeEach(async () => {
    f = fixture();
    admin = f.actor(f.admin);
    leaving = f.teacher;
    colleague = f.otherTeacher;
    subject = (await f.store.subjects.update(f.org.id, f.subject.id, { teacherIds: [leaving.id, colleague.id] }))!;
  });

  const leave = {
    'made a student': () => f.domain.users.update(admin, leaving.id, { role: 'student', studentNumber: 'S-LEFT' }),
    'made an admin': () => f.domain.users.update(admin, leaving.id, { role: 'admin' }),
    deactivated: () => f.domain.users.deactivate(admin, leaving.id),
    'deactivated with others': () => f.domain.deactivation.run(admin, [leaving.id], false),
  } as const;

  const holder = async (id: string) => (await f.store.sessions.get(f.org.id, id))?.teacherId;
  const trail = async (id: string) => (await f.store.audit.listForSession(f.org.id, id)).map((e) => [e.action, e.reason]);

  for (const how of Object.keys(leave) as (keyof typeof leave)[]) {
    it(`${how}: a session they scheduled by hand becomes the free colleague's, audited TEACHER_LEFT`, async () => {
      const { id } = await f.live.sessions.open(f.actor(leaving), { subjectId: subject.id, ...window });
      await leave[how]();
      expect(await holder(id)).to.equal(colleague.id);
      expect((await trail(id)).at(-1)).to.deep.equal(['session.reschedule', 'TEACHER_LEFT']);
    });
  }

  it('the colleague busy then: the session stays as it is, audited session.unstaffed for the admins', async () => {
    const { id } = await f.live.sessions.open(f.actor(leaving), { subjectId: subject.id, ...window });
    const other = await f.store.subjects.create(f.org.id, {
      code: 'OTH1',
      name: 'Other',
      teacherIds: [colleague.id],
      location: null,
      allowedIpRanges: [],
    });
    await f.live.sessions.open(f.actor(colleague), {
      subjectId: other.id,
      startsAt: '2026-03-04T13:30:00.000Z',
      closesAt: '2026-03-04T14:30:00.000Z',
    });
    await leave.deactivated();
    expect(await holder(id)).to.equal(leaving.id);
    expect((await trail(id)).at(-1)).to.deep.equal(['session.unstaffed', 'TEACHER_LEFT']);
  });

  it('a session that cannot be handed now is left unstaffed with the failure, and the change and the other sessions still go', async () => {
    const failing = await f.live.sessions.open(f.actor(leaving), { subjectId: subject.id, ...window });
    const fine = await f.live.sessions.open(f.actor(leaving), {
      subjectId: subject.id,
      startsAt: '2026-03-05T13:00:00.000Z',
      closesAt: '2026-03-05T14:00:00.000Z',
    });
    // The store fails on the one session's read under the locks (a lost link, a lock's lease).
    const get = f.store.sessions.get.bind(f.store.sessions);
    f.store.sessions.get = async (orgId, id) => {
      if (id === failing.id) throw new Error('the store is unreachable');
      return get(orgId, id);
    };
    try {
      await leave['made a student']();
    } finally {
      f.store.sessions.get = get;
    }
    expect((await f.store.users.get(f.org.id, leaving.id))?.role).to.equal('student');
    expect(await holder(fine.id)).to.equal(colleague.id);
    expect(await holder(failing.id)).to.equal(leaving.id);
    const entry = (await f.store.audit.listForSession(f.org.id, failing.id)).at(-1);
    expect([entry?.action, entry?.reason, entry?.to]).to.deep.equal(['session.unstaffed', 'TEACHER_LEFT', { failure: 'INTERNAL' }]);
  });

  it("a meeting's session goes to the teacher the timetable's rule gives now; an open session keeps its teacher", async () => {
    const term = await f.domain.timetable.createTerm(admin, { name: 'Spring', startDay: '2026-01-05', endDay: '2026-07-10' });
    const meeting = await f.domain.timetable.createMeeting(admin, subject.id, {
      termId: term.id,
      weekday: 3,
      startTime: '14:00',
      endTime: '15:00',
      teacherId: leaving.id,
    });
    const scheduled = await f.domain.timetable.start(f.actor(colleague), meeting.id, '2026-03-04');
    expect(await holder(scheduled.id)).to.equal(leaving.id);
    const other = await f.store.subjects.create(f.org.id, {
      code: 'RUN1',
      name: 'Running',
      teacherIds: [leaving.id],
      location: null,
      allowedIpRanges: [],
    });
    const running = await f.live.sessions.open(f.actor(leaving), { subjectId: other.id });
    await leave['made a student']();
    expect(await holder(scheduled.id)).to.equal(colleague.id);
    expect(await holder(running.id)).to.equal(leaving.id);
  });

  // A meeting edit moves its sessions, and a change of the subject's teachers hands them on: the
  // same rule as the hand-over, never to an account that is no longer an active teacher.
  const wednesdayMeeting = async (teacherId: string | null) => {
    const term = await f.domain.timetable.createTerm(admin, { name: 'Spring', startDay: '2026-01-05', endDay: '2026-07-10' });
    return f.domain.timetable.createMeeting(admin, subject.id, {
      termId: term.id,
      weekday: 3,
      startTime: '14:00',
      endTime: '15:00',
      teacherId,
    });
  };

  it("a meeting edit moves its session to the rule's active teacher, not back to the meeting's own deactivated teacher", async () => {
    const meeting = await wednesdayMeeting(leaving.id);
    const scheduled = await f.domain.timetable.start(f.actor(colleague), meeting.id, '2026-03-04');
    await leave.deactivated();
    expect(await holder(scheduled.id)).to.equal(colleague.id);
    await f.domain.timetable.updateMeeting(admin, meeting.id, { startTime: '15:00', endTime: '16:00' });
    const moved = await f.store.sessions.get(f.org.id, scheduled.id);
    expect([moved?.startsAt.toISOString(), moved?.teacherId]).to.deep.equal(['2026-03-04T14:00:00.000Z', colleague.id]);
  });

  it("a change of the subject's teachers hands a meeting's session to an active teacher, not to a deactivated first teacher kept", async () => {
    const meeting = await wednesdayMeeting(null);
    const scheduled = await f.domain.timetable.start(f.actor(colleague), meeting.id, '2026-03-04');
    await leave.deactivated();
    expect(await holder(scheduled.id)).to.equal(colleague.id);
    const third = await f.store.users.create(f.org.id, {
      email: 'third@test',
      name: 'Third',
      role: 'teacher',
      studentNumber: null,
      passwordHash: null,
      active: true,
    });
    // The deactivated teacher kept first, the colleague holding the session taken off.
    await f.domain.subjects.update(admin, subject.id, { teacherIds: [leaving.id, third.id] });
    expect(await holder(scheduled.id)).to.equal(third.id);
  });

  // The timetable's two ways of making a meeting's session in its teacher's name.
  const makers = {
    'a timetable run': async () => {
      expect((await f.domain.timetable.createUpcoming(f.clock.now(), 7)).created).to.equal(1);
    },
    "a colleague's one tap": async (meetingId: string) => {
      await f.domain.timetable.start(f.actor(colleague), meetingId, '2026-03-04');
    },
  } as const;

  for (const [maker, make] of Object.entries(makers)) {
    it(`${maker} that read the teacher as active as the role change lands: the session it makes is handed over all the same`, async () => {
      const meeting = await wednesdayMeeting(leaving.id);
      // Right before the session is written, in the name of the teacher read as active, the
      // admin makes that teacher a student: the change is stored, and its hand-over lists the
      // teacher's sessions, while the session is not written yet. The write goes on once the
      // change is done, or once the hand-over finds the teacher's lock held.
      let change: Promise<unknown> | null = null;
      let waiting = () => {};
      const waits = new Promise<void>((resolve) => (waiting = resolve));
      const claim = f.store.jobs.claim.bind(f.store.jobs);
      f.store.jobs.claim = async (name, ...rest) => {
        const got = await claim(name, ...rest);
        // The hand-over finding the teacher's lock held: it waits for the write to be done.
        if (change && !got && name.endsWith(`:teacher:${leaving.id}`)) waiting();
        return got;
      };
      const restore = beforeNextCall(f.store.sessions, 'create', async () => {
        change = leave['made a student']();
        await Promise.race([change, waits]);
      });
      try {
        await make(meeting.id);
        await change;
      } finally {
        restore();
        f.store.jobs.claim = claim;
      }
      const made = await f.store.sessions.listScheduled(f.org.id, f.clock.now());
      expect(made.map((s) => s.teacherId)).to.deep.equal([colleague.id]);
      expect((await trail(made[0]!.id)).at(-1)).to.deep.equal(['session.reschedule', 'TEACHER_LEFT']);
    });
  }

  // Nobody free: the admins see the session on their list, and give or cancel it from there.
  const busyColleague = async () => {
    const other = await f.store.subjects.create(f.org.id, {
      code: 'OTH1',
      name: 'Other',
      teacherIds: [colleague.id],
      location: null,
      allowedIpRanges: [],
    });
    return f.live.sessions.open(f.actor(colleague), {
      subjectId: other.id,
      startsAt: '2026-03-04T13:30:00.000Z',
      closesAt: '2026-03-04T14:30:00.000Z',
    });
  };
  const listed = async () =>
    (await f.domain.unstaffed.list(admin, { limit: 50, offset: 0 })).items.map((u) => [u.session.id, u.why, u.teachers.map((t) => t.id)]);

  it("a session nobody was free to take is on the admins' list until an admin gives it to a teacher free then", async () => {
    const { id } = await f.live.sessions.open(f.actor(leaving), { subjectId: subject.id, ...window });
    const busy = await busyColleague();
    await leave.deactivated();
    expect(await listed()).to.deep.equal([[id, 'deactivated', [colleague.id]]]);
    // The colleague still busy then: refused, the session as it was.
    const err = await f.domain.unstaffed.give(admin, id, colleague.id).catch((e: unknown) => e);
    expect(err).to.have.property('code', 'TEACHER_DOUBLE_BOOKED');
    expect(await holder(id)).to.equal(leaving.id);
    // A student, or the deactivated teacher: no teacher of the subject.
    for (const who of [f.students[0]!.id, leaving.id]) {
      expect(await f.domain.unstaffed.give(admin, id, who).catch((e: unknown) => e)).to.have.property('code', 'VALIDATION_FAILED');
    }
    await f.live.lifecycle.cancel(f.actor(colleague), busy.id, undefined);
    const given = await f.domain.unstaffed.give(admin, id, colleague.id);
    expect([given.teacherId, given.startsAt]).to.deep.equal([colleague.id, window.startsAt]);
    expect((await trail(id)).at(-1)).to.deep.equal(['session.reschedule', 'STAFFED_BY_ADMIN']);
    expect(await listed()).to.deep.equal([]);
    // Off the list: a second give, or a cancel, is answered CONFLICT.
    expect(await f.domain.unstaffed.cancel(admin, id).catch((e: unknown) => e)).to.have.property('code', 'CONFLICT');
  });

  it('an admin cancels a session left without a teacher; a teacher may not list them', async () => {
    const { id } = await f.live.sessions.open(f.actor(leaving), { subjectId: subject.id, ...window });
    await busyColleague();
    await leave['made an admin']();
    expect(await listed()).to.deep.equal([[id, 'notTeacher', [colleague.id]]]);
    expect(await f.domain.unstaffed.list(f.actor(colleague), { limit: 50, offset: 0 }).catch((e: unknown) => e)).to.have.property(
      'code',
      'FORBIDDEN',
    );
    const cancelled = await f.domain.unstaffed.cancel(admin, id);
    expect(cancelled.status).to.equal('cancelled');
    expect((await trail(id)).at(-1)).to.deep.equal(['session.cancel', 'UNSTAFFED']);
    expect(await listed()).to.deep.equal([]);
  });

  it("a meeting's session an admin gave from the list keeps its teacher through an edit of the room, not of the teacher or times", async () => {
    const third = await f.store.users.create(f.org.id, {
      email: 'third@test',
      name: 'Third',
      role: 'teacher',
      studentNumber: null,
      passwordHash: null,
      active: true,
    });
    subject = (await f.store.subjects.update(f.org.id, subject.id, { teacherIds: [leaving.id, colleague.id, third.id] }))!;
    const meeting = await wednesdayMeeting(leaving.id);
    const { id } = await f.domain.timetable.start(f.actor(colleague), meeting.id, '2026-03-04');
    const busy = await busyColleague();
    // The rule gives the session to the colleague, busy then: it is left on the list.
    await leave.deactivated();
    expect((await listed()).map(([sessionId]) => sessionId)).to.deep.equal([id]);
    await f.domain.unstaffed.give(admin, id, third.id);
    // The colleague still busy: an edit of the room neither refuses nor moves the session to them.
    await f.domain.timetable.updateMeeting(admin, meeting.id, { allowedIpRanges: ['10.1.2.0/24'] });
    const kept = await f.store.sessions.get(f.org.id, id);
    expect([kept?.teacherId, kept?.room?.allowedIpRanges, kept?.startsAt.toISOString()]).to.deep.equal([
      third.id,
      ['10.1.2.0/24'],
      window.startsAt,
    ]);
    // New times: the session follows the meeting's rule, as every edit of its times does.
    await f.live.lifecycle.cancel(f.actor(colleague), busy.id, undefined);
    await f.domain.timetable.updateMeeting(admin, meeting.id, { startTime: '16:00', endTime: '17:00' });
    const moved = await f.store.sessions.get(f.org.id, id);
    expect([moved?.teacherId, moved?.startsAt.toISOString()]).to.deep.equal([colleague.id, '2026-03-04T15:00:00.000Z']);
  });

  // Between cancel's first look (the session on the list) and its write, the session is given
  // or its teacher can run it again: the cancel reads it again under the subject's lock and
  // answers CONFLICT, the session left scheduled under the teacher who has it.
  const meanwhile = {
    'an admin gives it to the colleague': async (id: string) => {
      await f.domain.unstaffed.give(admin, id, colleague.id);
      return colleague.id;
    },
    'its teacher is put back on the subject': async () => {
      await f.store.subjects.update(f.org.id, subject.id, { teacherIds: [colleague.id, leaving.id] });
      return leaving.id;
    },
  } as const;

  for (const [what, happen] of Object.entries(meanwhile)) {
    it(`a cancel from the list while ${what}: CONFLICT, the session still scheduled`, async () => {
      const { id } = await f.live.sessions.open(f.actor(leaving), { subjectId: subject.id, ...window });
      await f.store.subjects.update(f.org.id, subject.id, { teacherIds: [colleague.id] });
      let teacher: string | undefined;
      // Right after cancel's first read of the teacher's standing (the session still on the list).
      const getStandings = f.store.users.getStandings;
      f.store.users.getStandings = async (...args) => {
        f.store.users.getStandings = getStandings;
        const read = await getStandings.apply(f.store.users, args);
        teacher = await happen(id);
        return read;
      };
      try {
        expect(await f.domain.unstaffed.cancel(admin, id).catch((e: unknown) => e)).to.have.property('code', 'CONFLICT');
      } finally {
        f.store.users.getStandings = getStandings;
      }
      const after = await f.store.sessions.get(f.org.id, id);
      expect([after?.status, after?.teacherId]).to.deep.equal(['scheduled', teacher]);
      expect((await trail(id)).map(([action]) => action)).to.not.include('session.cancel');
    });
  }

  // The same after cancel's second look, under the subject's lock, and before its write: a
  // reactivation, or a change of the subject's teachers written without that lock, can come
  // between the two. The store's write is conditional on what was read (still scheduled, still
  // held by that teacher, who still cannot run it): nothing is cancelled, CONFLICT.
  const offSubject = () => f.store.subjects.update(f.org.id, subject.id, { teacherIds: [colleague.id] });
  // How each session comes off the list (written to the store: no hand-over), and how it comes back.
  const underTheLock = {
    'its teacher is reactivated': [
      () => f.store.users.update(f.org.id, leaving.id, { active: false }),
      async () => {
        await f.domain.users.update(admin, leaving.id, { active: true });
        return leaving.id;
      },
    ],
    'its teacher is put back on the subject': [
      offSubject,
      async () => {
        await f.store.subjects.update(f.org.id, subject.id, { teacherIds: [colleague.id, leaving.id] });
        return leaving.id;
      },
    ],
    'it is given to the colleague by a write that takes no lock': [
      offSubject,
      async (id: string) => {
        await f.store.sessions.transition(f.org.id, id, ['scheduled'], { teacherId: colleague.id });
        return colleague.id;
      },
    ],
  } as const;

  for (const [what, [leave, happen]] of Object.entries(underTheLock)) {
    it(`a cancel from the list while ${what} after its check under the lock: CONFLICT, nothing changed`, async () => {
      const { id } = await f.live.sessions.open(f.actor(leaving), { subjectId: subject.id, ...window });
      await leave();
      let teacher: string | undefined;
      // The second read of the teacher's standing is the check under the lock.
      const getStandings = f.store.users.getStandings;
      let reads = 0;
      f.store.users.getStandings = async (...args) => {
        const read = await getStandings.apply(f.store.users, args);
        reads += 1;
        if (reads === 2) {
          f.store.users.getStandings = getStandings;
          teacher = await happen(id);
        }
        return read;
      };
      try {
        expect(await f.domain.unstaffed.cancel(admin, id).catch((e: unknown) => e)).to.have.property('code', 'CONFLICT');
      } finally {
        f.store.users.getStandings = getStandings;
      }
      expect(reads).to.equal(2);
      const after = await f.store.sessions.get(f.org.id, id);
      expect([after?.status, after?.teacherId, after?.closedAt]).to.deep.equal(['scheduled', teacher, null]);
      expect((await trail(id)).map(([action]) => action)).to.not.include('session.cancel');
    });
  }

  it("the list pages earliest first: a page's next key gives the sessions after it, one given meanwhile skips none; subjects in one read", async () => {
    const ids: string[] = [];
    for (const day of ['04', '05', '06', '09', '10']) {
      const opened = await f.live.sessions.open(f.actor(leaving), {
        subjectId: subject.id,
        startsAt: `2026-03-${day}T13:00:00.000Z`,
        closesAt: `2026-03-${day}T14:00:00.000Z`,
      });
      ids.push(opened.id);
    }
    await f.store.subjects.update(f.org.id, subject.id, { teacherIds: [colleague.id] });
    const reads = { get: 0, getMany: 0 };
    const { get, getMany } = f.store.subjects;
    f.store.subjects.get = (...args) => ((reads.get += 1), get.apply(f.store.subjects, args));
    f.store.subjects.getMany = (...args) => ((reads.getMany += 1), getMany.apply(f.store.subjects, args));
    const page = (q: { offset?: number; after?: { startsAt: Date; id: string } | null }) =>
      f.domain.unstaffed.list(admin, { limit: 2, offset: q.offset ?? 0, ...(q.after ? { after: q.after } : {}) });
    try {
      const first = await page({});
      expect([first.items.map((u) => u.session.id), first.total, reads]).to.deep.equal([ids.slice(0, 2), 5, { get: 0, getMany: 1 }]);
      expect(first.next?.id).to.equal(ids[1]);
      // Given meanwhile: an offset of 2 would now skip the third session; the key does not.
      await f.domain.unstaffed.give(admin, ids[0]!, colleague.id);
      const second = await page({ after: first.next });
      expect([second.items.map((u) => u.session.id), second.total]).to.deep.equal([ids.slice(2, 4), 4]);
      const third = await page({ after: second.next });
      expect([third.items.map((u) => u.session.id), third.next]).to.deep.equal([[ids[4]], null]);
      expect((await page({ offset: 3 })).items.map((u) => u.session.id)).to.deep.equal([ids[4]]);
      expect(await page({ offset: 9 })).to.deep.equal({ items: [], total: 4, next: null });
    } finally {
      Object.assign(f.store.subjects, { get, getMany });
    }
  });

  it("an admin's one tap on a meeting of a subject with no active teacher: the session is the admin's, and on the list", async () => {
    const meeting = await wednesdayMeeting(null);
    // Its teachers both deactivated (written to the store: no hand-over, nothing else scheduled).
    for (const id of [leaving.id, colleague.id]) await f.store.users.update(f.org.id, id, { active: false });
    const tapped = await f.domain.timetable.start(admin, meeting.id, '2026-03-04');
    expect([tapped.status, tapped.teacherId]).to.deep.equal(['scheduled', f.admin.id]);
    const [onList, ...more] = (await f.domain.unstaffed.list(admin, { limit: 50, offset: 0 })).items;
    expect(more).to.deep.equal([]);
    expect([onList?.session.id, onList?.why, onList?.teacherName, onList?.teachers]).to.deep.equal([
      tapped.id,
      'notTeacher',
      f.admin.name,
      [],
    ]);
    // A teacher of the subject active again: given to them from the list, off it.
    await f.domain.users.update(admin, colleague.id, { active: true });
    await f.domain.unstaffed.give(admin, tapped.id, colleague.id);
    expect((await f.domain.unstaffed.list(admin, { limit: 50, offset: 0 })).total).to.equal(0);
  });

  it('the list also shows a session whose teacher was taken off its subject, however it came to be', async () => {
    const { id } = await f.live.sessions.open(f.actor(leaving), { subjectId: subject.id, ...window });
    // Written straight to the store: no hand-over ran (a release before it, a failure).
    await f.store.subjects.update(f.org.id, subject.id, { teacherIds: [colleague.id] });
    expect(await listed()).to.deep.equal([[id, 'offSubject', [colleague.id]]]);
    // Given its place back, it can run the session again: off the list.
    await f.store.subjects.update(f.org.id, subject.id, { teacherIds: [colleague.id, leaving.id] });
    expect(await listed()).to.deep.equal([]);
  });

  it('one email to each admin per change that left sessions without a teacher, not to an admin who stopped alert emails', async () => {
    await f.live.sessions.open(f.actor(leaving), { subjectId: subject.id, ...window });
    // Right after the first, while the colleague is still busy.
    await f.live.sessions.open(f.actor(leaving), {
      subjectId: subject.id,
      startsAt: '2026-03-04T14:00:00.000Z',
      closesAt: '2026-03-04T14:20:00.000Z',
    });
    await busyColleague();
    const quiet = await f.store.users.create(f.org.id, {
      email: 'quiet-admin@test',
      name: 'Quiet',
      role: 'admin',
      studentNumber: null,
      passwordHash: null,
      active: true,
    });
    await f.store.notificationPreferences.put(f.org.id, quiet.id, { language: 'fr', unsubscribed: ['alert'] });
    await leave.deactivated();
    await f.jobs.drain(10_000);
    const mails = (await f.store.outbox.list(f.org.id, { limit: 10, offset: 0 })).items;
    expect(mails.map((m) => [m.to, m.category])).to.deep.equal([[f.admin.email, 'alert']]);
    expect(mails[0]!.subject).to.equal('2 sessions left without a teacher: PHY1');
  });

  // The email goes in the background: it tells only what is still on the list when it runs.
  const holdNotice = () => {
    const held: (() => Promise<void>)[] = [];
    const run = f.jobs.run.bind(f.jobs);
    f.jobs.run = (name, job) => (name === 'unstaffed.notice' ? void held.push(job) : run(name, job));
    return async () => {
      f.jobs.run = run;
      for (const job of held) await job();
      return (await f.store.outbox.list(f.org.id, { limit: 10, offset: 0 })).items;
    };
  };

  it('the email sent after one of two sessions was cancelled from the list names only the other', async () => {
    const first = await f.live.sessions.open(f.actor(leaving), { subjectId: subject.id, ...window });
    await f.live.sessions.open(f.actor(leaving), {
      subjectId: subject.id,
      startsAt: '2026-03-04T14:00:00.000Z',
      closesAt: '2026-03-04T14:20:00.000Z',
    });
    await busyColleague();
    const send = holdNotice();
    await leave.deactivated();
    await f.domain.unstaffed.cancel(admin, first.id);
    const mails = await send();
    expect(mails.map((m) => [m.to, m.subject])).to.deep.equal([[f.admin.email, 'A session left without a teacher: PHY1']]);
  });

  it('no email when the teacher can teach again before it is sent', async () => {
    await f.live.sessions.open(f.actor(leaving), { subjectId: subject.id, ...window });
    await busyColleague();
    const send = holdNotice();
    await leave.deactivated();
    expect(await listed()).to.have.length(1);
    await f.store.users.update(f.org.id, leaving.id, { active: true });
    expect(await listed()).to.deep.equal([]);
    expect(await send()).to.deep.equal([]);
  });

  it('more active admins than the email goes to: the ones left out are logged', async () => {
    await f.live.sessions.open(f.actor(leaving), { subjectId: subject.id, ...window });
    await busyColleague();
    const send = holdNotice();
    await leave.deactivated();
    for (let i = 0; i < 50; i += 1) {
      await f.store.users.create(f.org.id, {
        email: `admin-${i}@test`,
        name: `Admin ${i}`,
        role: 'admin',
        studentNumber: null,
        passwordHash: null,
        active: true,
      });
    }
    const { id } = (await f.domain.unstaffed.list(admin, { limit: 50, offset: 0 })).items[0]!.session;
    const told: string[][] = [];
    const warned: { obj: object; msg: string }[] = [];
    const notice = new UnstaffedNotice({
      store: f.store,
      emails: {
        each: async (_orgId, ids) => {
          told.push(ids);
          return ids.length;
        },
      },
      publicUrl: () => 'https://attendance.test',
      defaultTimezone: 'UTC',
      now: f.clock.now,
      logger: { warn: (obj: object, msg: string) => void warned.push({ obj, msg }) },
    });
    expect(await notice.send(f.org.id, leaving.id, [id])).to.equal(50);
    expect(told.map((ids) => ids.length)).to.deep.equal([50]);
    expect(warned.map((w) => [w.msg, w.obj])).to.deep.equal([
      [
        'sessions left without a teacher: only the first admins are emailed',
        { orgId: f.org.id, teacherId: leaving.id, sessionIds: [id], admins: 51, told: 50 },
      ],
    ]);
    await send();
  });

  it('taken off the subject by an admin: a session they scheduled by hand goes to the remaining teacher; none free, it stays audited', async () => {
    const { id } = await f.live.sessions.open(f.actor(leaving), { subjectId: subject.id, ...window });
    await f.domain.subjects.update(admin, subject.id, { teacherIds: [colleague.id] });
    expect(await holder(id)).to.equal(colleague.id);
    expect((await trail(id)).at(-1)).to.deep.equal(['session.reschedule', 'TEACHER_LEFT']);

    // The colleague taken off in turn, the subject left to a teacher busy then.
    const busy = await f.store.users.create(f.org.id, {
      email: 'busy@test',
      name: 'Busy',
      role: 'teacher',
      studentNumber: null,
      passwordHash: null,
      active: true,
    });
    const other = await f.store.subjects.create(f.org.id, {
      code: 'OTH1',
      name: 'Other',
      teacherIds: [busy.id],
      location: null,
      allowedIpRanges: [],
    });
    await f.live.sessions.open(f.actor(busy), { subjectId: other.id, ...window });
    await f.domain.subjects.update(admin, subject.id, { teacherIds: [busy.id] });
    expect(await holder(id)).to.equal(colleague.id);
    expect((await trail(id)).at(-1)).to.deep.equal(['session.unstaffed', 'TEACHER_LEFT']);
  });

  it('handed over to a colleague and back: a session scheduled by hand follows who teaches the subject', async () => {
    const cover = await f.store.users.create(f.org.id, {
      email: 'cover@test',
      name: 'Cover',
      role: 'teacher',
      studentNumber: null,
      passwordHash: null,
      active: true,
    });
    await f.store.subjects.update(f.org.id, subject.id, { teacherIds: [leaving.id] });
    const { id } = await f.live.sessions.open(f.actor(leaving), { subjectId: subject.id, ...window });
    await f.domain.handover.handOver(admin, leaving.id, { toTeacherId: cover.id, keepAbsent: false, teacherOverlap: false });
    expect(await holder(id)).to.equal(cover.id);
    // Back: the cover's by-hand session of the subject goes back to the returning teacher.
    await f.domain.handover.handBack(admin, leaving.id, false);
    expect(await holder(id)).to.equal(leaving.id);
  });
}

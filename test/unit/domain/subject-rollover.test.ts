import { expect } from 'chai';
import type { Subject } from '../../../src/domain/ports/subjects.js';
import { ROLLOVER_SUBJECTS_MAX, SubjectRollover, type RolloverRow } from '../../../src/domain/subjects/subject-rollover.js';
import { expectCode } from '../../support/expect-code.js';
import { createUser } from '../../support/fixtures.js';
import type { LiveFixture } from '../../support/live-fixture.js';
import { useLiveFixture } from '../../support/race-fixture.js';
import { onBothStores, type RaceStore } from '../../support/race-stores.js';

// A new school year from last year's subjects: next year's made by a code rule, with the
// teachers and students still active and the timetable of the mapped terms.

onBothStores('SubjectRollover: next year’s subjects from last year’s', 'attendance_rollover', rolloverSuite);

function rolloverSuite(setup: RaceStore): void {
  let f: LiveFixture;
  const fixture = useLiveFixture(setup, { students: 4 });
  beforeEach(() => {
    f = fixture();
  });

  const admin = () => f.actor(f.admin);
  const all = async () => (await f.store.subjects.list(f.org.id, { limit: 500, offset: 0 })).items;
  const byCode = async (code: string): Promise<Subject> => (await f.store.subjects.getByCodes(f.org.id, [code]))[0]!;
  const outcomes = (rows: RolloverRow[]) => rows.map((r) => [r.code, r.newCode, r.outcome, r.problem]);

  it('dry-runs, then makes each subject with last year’s code back (the archived one renamed), its active teachers and students, room and meetings of the mapped term; a retry makes nothing', async () => {
    const leaver = await createUser(f.store, f.org.id, 'teacher', { active: false });
    const [s1, s2, s3, s4] = f.students as [(typeof f.students)[0], (typeof f.students)[0], (typeof f.students)[0], (typeof f.students)[0]];
    await f.store.users.update(f.org.id, s4.id, { active: false });
    const physics = f.subject; // PHY1, teacher One, the four students, classroom and networks
    await f.store.subjects.update(f.org.id, physics.id, { teacherIds: [f.teacher.id, leaver.id] });
    const oldTerm = await f.domain.timetable.createTerm(admin(), { name: 'Spring 2026', startDay: '2026-01-05', endDay: '2026-07-03' });
    const otherTerm = await f.domain.timetable.createTerm(admin(), { name: 'Summer school', startDay: '2026-07-06', endDay: '2026-07-31' });
    const newTerm = await f.domain.timetable.createTerm(admin(), { name: 'Autumn 2026', startDay: '2026-09-01', endDay: '2026-12-18' });
    const tuesday = await f.domain.timetable.createMeeting(admin(), physics.id, {
      termId: oldTerm.id,
      weekday: 2,
      startTime: '08:00',
      endTime: '09:00',
      preset: 'location-code',
    });
    await f.domain.timetable.createMeeting(admin(), physics.id, {
      termId: oldTerm.id,
      weekday: 4,
      startTime: '10:00',
      endTime: '11:00',
      teacherId: leaver.id,
    });
    await f.domain.timetable.createMeeting(admin(), physics.id, { termId: otherTerm.id, weekday: 1, startTime: '08:00', endTime: '09:00' });
    // Next year's timetable already has the teacher in chemistry on Tuesdays at 08:30.
    const chemistry = await f.store.subjects.create(f.org.id, {
      code: 'CHEM',
      name: 'Chemistry',
      teacherIds: [f.teacher.id],
      location: null,
      allowedIpRanges: [],
    });
    await f.domain.timetable.createMeeting(admin(), chemistry.id, { termId: newTerm.id, weekday: 2, startTime: '08:30', endTime: '09:30' });
    const archive = await f.domain.subjectArchive.archive(admin(), [physics.id]);
    expect(archive.changed).to.have.length(1);

    const input = {
      subjectIds: [physics.id],
      codes: {},
      previousSuffix: '-2026',
      carryStudents: true,
      terms: [{ from: oldTerm.id, to: newTerm.id }],
    };
    const before = await all();
    const dry = await f.domain.subjectRollover.run(admin(), { ...input, dryRun: true });
    expect(dry.dryRun).to.equal(true);
    expect(dry.rows).to.have.length(1);
    expect(dry.rows[0]).to.deep.include({
      code: 'PHY1',
      newCode: 'PHY1',
      outcome: 'new',
      problem: null,
      renamedTo: 'PHY1-2026',
      teacherIds: [f.teacher.id],
      teachersLeftOut: [leaver.id],
      students: 3,
      studentsLeftOut: [s4.id],
      meetings: 2,
    });
    expect(await all(), 'a dry run writes nothing').to.deep.equal(before);

    const done = await f.domain.subjectRollover.run(admin(), input);
    const row = done.rows[0]!;
    expect(outcomes(done.rows)).to.deep.equal([['PHY1', 'PHY1', 'new', null]]);
    const next = await byCode('PHY1');
    expect(next.id).to.equal(row.newSubjectId).and.not.equal(physics.id);
    expect(next.archivedAt).to.equal(null);
    expect(next).to.deep.include({
      name: 'Physics',
      teacherIds: [f.teacher.id],
      location: physics.location,
      allowedIpRanges: physics.allowedIpRanges,
    });
    const last = (await f.store.subjects.get(f.org.id, physics.id))!;
    expect(last.code).to.equal('PHY1-2026');
    expect(last.archivedAt).to.not.equal(null);
    expect((await f.store.subjects.listEnrolled(f.org.id, next.id)).sort()).to.deep.equal([s1.id, s2.id, s3.id].sort());
    expect((await f.store.subjects.listEnrolled(f.org.id, physics.id)).length, 'last year’s class list stays').to.equal(4);
    const meetings = await f.store.timetable.listMeetings(f.org.id, next.id);
    expect(meetings.map((m) => [m.termId, m.weekday, m.startTime, m.teacherId, m.preset])).to.deep.equal([
      [newTerm.id, 4, '10:00', null, null],
    ]);
    expect(row.meetings).to.equal(1);
    expect(row.meetingsRefused).to.deep.equal([{ meetingId: tuesday.id, code: 'TEACHER_DOUBLE_BOOKED' }]);
    const entries = await f.store.audit.listForEntity(f.org.id, 'subject', next.id);
    const rolled = entries.filter((e) => e.action === 'subject.rollover');
    // Made (what it is to carry), then carried (what it did).
    // (The trail is newest first, and both may fall in one millisecond: compared in the order made.)
    expect(rolled.map((e) => [e.from, (e.to as { carried: boolean }).carried]).sort((a, b) => Number(a[1]) - Number(b[1]))).to.deep.equal([
      [{ subjectId: physics.id, code: 'PHY1' }, false],
      [{ subjectId: physics.id, code: 'PHY1' }, true],
    ]);

    // The same request again (a retry after a time-out): nothing new.
    const count = (await all()).length;
    const again = await f.domain.subjectRollover.run(admin(), input);
    expect(again.rows[0]).to.deep.include({
      code: 'PHY1-2026',
      newCode: 'PHY1',
      outcome: 'exists',
      newSubjectId: next.id,
      renamedTo: null,
    });
    expect((await all()).length).to.equal(count);
    expect(await f.store.timetable.listMeetings(f.org.id, next.id)).to.have.length(1);
  });

  it('carries once the meetings that differ only by a teacher left out or the first teacher named: one meeting next year, nothing refused', async () => {
    const leaver = await createUser(f.store, f.org.id, 'teacher', { active: false });
    const physics = f.subject;
    await f.store.subjects.update(f.org.id, physics.id, { teacherIds: [f.teacher.id, leaver.id] });
    const oldTerm = await f.domain.timetable.createTerm(admin(), { name: 'Spring 2026', startDay: '2026-01-05', endDay: '2026-07-03' });
    const newTerm = await f.domain.timetable.createTerm(admin(), { name: 'Autumn 2026', startDay: '2026-09-01', endDay: '2026-12-18' });
    const slot = { termId: oldTerm.id, weekday: 4, startTime: '10:00', endTime: '11:00' };
    await f.domain.timetable.createMeeting(admin(), physics.id, slot);
    // The leaver's own Thursday class beside the first teacher's (a second group, taught at once),
    // and the same class naming the first teacher: all three are one meeting next year.
    await f.domain.timetable.createMeeting(admin(), physics.id, { ...slot, teacherId: leaver.id });
    await f.domain.timetable.createMeeting(admin(), physics.id, { ...slot, teacherId: f.teacher.id, teacherOverlap: true });
    await f.domain.subjectArchive.archive(admin(), [physics.id]);

    const input = {
      subjectIds: [physics.id],
      codes: {},
      previousSuffix: '-2026',
      carryStudents: false,
      terms: [{ from: oldTerm.id, to: newTerm.id }],
    };
    const dry = await f.domain.subjectRollover.run(admin(), { ...input, dryRun: true });
    expect(dry.rows[0]).to.deep.include({ outcome: 'new', meetings: 1, teachersLeftOut: [leaver.id] });
    const row = (await f.domain.subjectRollover.run(admin(), input)).rows[0]!;
    expect(row).to.deep.include({ outcome: 'new', meetings: 1, meetingsRefused: [] });
    const meetings = await f.store.timetable.listMeetings(f.org.id, row.newSubjectId!);
    // Whichever of the three came first is the one carried: taught by the first teacher either way.
    expect(meetings.map((m) => [m.termId, m.weekday, m.startTime, m.teacherId ?? f.teacher.id])).to.deep.equal([
      [newTerm.id, 4, '10:00', f.teacher.id],
    ]);
  });

  it('leaves out, and names, a student deactivated between the plan and the write; the next row is still made', async () => {
    const [s1, s2] = f.students as [(typeof f.students)[0], (typeof f.students)[0]];
    const other = await f.store.subjects.create(f.org.id, {
      code: 'BIO1',
      name: 'Biology',
      teacherIds: [f.teacher.id],
      location: null,
      allowedIpRanges: [],
    });
    await f.store.subjects.enrol(f.org.id, other.id, [s1.id]);
    await f.domain.subjectArchive.archive(admin(), [f.subject.id, other.id]);
    const subjects = f.domain.subjects;
    let deactivated = false;
    // Another admin deactivates s2 right after the first new subject is made.
    const rollover = new SubjectRollover({
      store: f.store,
      clock: () => new Date(),
      timetable: f.domain.timetable,
      subjects: {
        update: (...args) => subjects.update(...args),
        enrolChecked: (...args) => subjects.enrolChecked(...args),
        create: async (...args) => {
          const made = await subjects.create(...args);
          if (!deactivated) {
            deactivated = true;
            await f.store.users.update(f.org.id, s2.id, { active: false });
          }
          return made;
        },
      },
    });
    const done = await rollover.run(admin(), { subjectIds: [f.subject.id, other.id], codes: { suffix: '-27' }, carryStudents: true });
    // Rows come in code order: BIO1 is made first, then s2 is deactivated, then PHY1 is made.
    expect(outcomes(done.rows)).to.deep.equal([
      ['BIO1', 'BIO1-27', 'new', null],
      ['PHY1', 'PHY1-27', 'new', null],
    ]);
    const [bio, phy] = done.rows as [RolloverRow, RolloverRow];
    expect(phy.studentsLeftOut).to.deep.equal([s2.id]);
    expect(phy.students).to.equal(f.students.length - 1);
    expect(await f.store.subjects.listEnrolled(f.org.id, phy.newSubjectId!))
      .to.have.length(f.students.length - 1)
      .and.not.include(s2.id);
    expect(await f.store.subjects.listEnrolled(f.org.id, bio.newSubjectId!)).to.deep.equal([s1.id]);
  });

  for (const cut of ['enrolment', 'meetings'] as const) {
    it(`a run cut at the ${cut} after the create is finished by a retry, nothing twice; a third run finds it whole`, async () => {
      const oldTerm = await f.domain.timetable.createTerm(admin(), { name: 'Spring', startDay: '2026-01-05', endDay: '2026-07-03' });
      const newTerm = await f.domain.timetable.createTerm(admin(), { name: 'Autumn', startDay: '2026-09-01', endDay: '2026-12-18' });
      for (const weekday of [1, 3]) {
        await f.domain.timetable.createMeeting(admin(), f.subject.id, {
          termId: oldTerm.id,
          weekday,
          startTime: '08:00',
          endTime: '09:00',
        });
      }
      await f.domain.subjectArchive.archive(admin(), [f.subject.id]);
      const input = {
        subjectIds: [f.subject.id],
        codes: { suffix: '-27' },
        carryStudents: true,
        terms: [{ from: oldTerm.id, to: newTerm.id }],
      };
      const { subjects, timetable } = f.domain;
      // The node's store fails (or it dies) at that step of the first run, after the new subject is made.
      const cutShort = new SubjectRollover({
        store: f.store,
        clock: () => new Date(),
        subjects: {
          create: (...args) => subjects.create(...args),
          update: (...args) => subjects.update(...args),
          enrolChecked: (...args) => (cut === 'enrolment' ? Promise.reject(new Error('store gone')) : subjects.enrolChecked(...args)),
        },
        timetable: {
          createMeeting: async (...args) => {
            if (cut === 'meetings') throw new Error('store gone');
            return timetable.createMeeting(...args);
          },
        },
      });
      let failed: unknown = null;
      await cutShort.run(admin(), input).catch((err: unknown) => (failed = err));
      expect(failed).to.be.an('error');
      const made = await byCode('PHY1-27');
      const enrolledBefore = (await f.store.subjects.listEnrolled(f.org.id, made.id)).length;
      expect(enrolledBefore).to.equal(cut === 'enrolment' ? 0 : f.students.length);

      const dry = await f.domain.subjectRollover.run(admin(), { ...input, dryRun: true });
      expect(dry.rows[0]).to.deep.include({
        outcome: 'finished',
        newSubjectId: made.id,
        students: f.students.length - enrolledBefore,
        meetings: 2,
      });
      const again = await f.domain.subjectRollover.run(admin(), input);
      expect(outcomes(again.rows)).to.deep.equal([['PHY1', 'PHY1-27', 'finished', null]]);
      expect(again.rows[0]).to.deep.include({ newSubjectId: made.id, students: f.students.length - enrolledBefore, meetings: 2 });
      expect((await f.store.subjects.listEnrolled(f.org.id, made.id)).sort()).to.deep.equal(f.students.map((s) => s.id).sort());
      const copied = async () => (await f.store.timetable.listMeetings(f.org.id, made.id)).map((m) => [m.termId, m.weekday, m.startTime]);
      expect(await copied()).to.deep.equal([
        [newTerm.id, 1, '08:00'],
        [newTerm.id, 3, '08:00'],
      ]);

      const third = await f.domain.subjectRollover.run(admin(), input);
      expect(third.rows[0]).to.deep.include({ outcome: 'exists', newSubjectId: made.id, students: 0, meetings: 0 });
      expect(await copied()).to.have.length(2);
      expect(await f.store.subjects.listEnrolled(f.org.id, made.id)).to.have.length(f.students.length);
      expect((await all()).filter((x) => x.code.startsWith('PHY1'))).to.have.length(2);
      const rolled = (await f.store.audit.listForEntity(f.org.id, 'subject', made.id)).filter((e) => e.action === 'subject.rollover');
      expect(
        rolled.map((e) => (e.to as { carried: boolean }).carried).sort(),
        'the cut run’s create, then the retry’s carry',
      ).to.deep.equal([false, true]);
    });
  }

  it('two retries of a cut roll-over at once (two admins, two nodes) copy each meeting once', async () => {
    const oldTerm = await f.domain.timetable.createTerm(admin(), { name: 'Spring', startDay: '2026-01-05', endDay: '2026-07-03' });
    const newTerm = await f.domain.timetable.createTerm(admin(), { name: 'Autumn', startDay: '2026-09-01', endDay: '2026-12-18' });
    for (const weekday of [1, 3]) {
      await f.domain.timetable.createMeeting(admin(), f.subject.id, { termId: oldTerm.id, weekday, startTime: '08:00', endTime: '09:00' });
    }
    await f.domain.subjectArchive.archive(admin(), [f.subject.id]);
    const input = {
      subjectIds: [f.subject.id],
      codes: { suffix: '-27' },
      carryStudents: true,
      terms: [{ from: oldTerm.id, to: newTerm.id }],
    };
    const { subjects, timetable } = f.domain;
    const rollover = (createMeeting: SubjectRollover['deps']['timetable']['createMeeting']) =>
      new SubjectRollover({
        store: f.store,
        clock: () => new Date(),
        subjects: {
          create: (...args) => subjects.create(...args),
          update: (...args) => subjects.update(...args),
          enrolChecked: (...args) => subjects.enrolChecked(...args),
        },
        timetable: { createMeeting },
      });
    let failed: unknown = null;
    await rollover(() => Promise.reject(new Error('node died')))
      .run(admin(), input)
      .catch((err: unknown) => (failed = err));
    expect(failed).to.be.an('error');
    const made = await byCode('PHY1-27');
    // Both retries planned (each read the two meetings as still to copy) before either copies one.
    let arrived = 0;
    let release: () => void = () => undefined;
    const bothPlanned = new Promise<void>((resolve) => (release = resolve));
    const meeting: SubjectRollover['deps']['timetable']['createMeeting'] = async (...args) => {
      if (++arrived === 2) release();
      await bothPlanned;
      return timetable.createMeeting(...args);
    };
    const [a, b] = await Promise.all([rollover(meeting).run(admin(), input), rollover(meeting).run(admin(), input)]);
    const copied = await f.store.timetable.listMeetings(f.org.id, made.id);
    expect(copied.map((m) => [m.termId, m.weekday, m.startTime])).to.deep.equal([
      [newTerm.id, 1, '08:00'],
      [newTerm.id, 3, '08:00'],
    ]);
    // Each copy counted by the run that made it, neither refused.
    expect(a.rows[0]!.meetings + b.rows[0]!.meetings).to.equal(2);
    expect([...a.rows[0]!.meetingsRefused, ...b.rows[0]!.meetingsRefused]).to.deep.equal([]);
    const created = (await f.store.audit.listForEntity(f.org.id, 'subject', made.id)).filter((e) => e.action === 'meeting.create');
    expect(created).to.have.length(2);
  });

  it("a retry reads the new subjects' roll-over entries once for all its rows, not each subject's whole trail", async () => {
    const others = [];
    for (const code of ['BIO1', 'CHE1'])
      others.push(await f.store.subjects.create(f.org.id, { code, name: code, teacherIds: [], location: null, allowedIpRanges: [] }));
    const sources = [f.subject, ...others];
    await f.domain.subjectArchive.archive(
      admin(),
      sources.map((x) => x.id),
    );
    const input = { subjectIds: sources.map((x) => x.id), codes: { suffix: '-27' }, carryStudents: true };
    const first = await f.domain.subjectRollover.run(admin(), input);
    expect(first.rows.map((r) => r.outcome)).to.deep.equal(['new', 'new', 'new']);
    // A long trail on each new subject: enrolled and taken out again, many times.
    for (const row of first.rows) {
      for (let k = 0; k < 5; k++) {
        await f.domain.subjects.unenrol(admin(), row.newSubjectId!, [f.students[0]!.id]);
        await f.domain.subjects.enrol(admin(), row.newSubjectId!, [f.students[0]!.id]);
      }
    }
    const reads: string[] = [];
    const audit = Object.create(f.store.audit) as typeof f.store.audit;
    audit.listForEntity = async (...args) => {
      reads.push('listForEntity');
      return f.store.audit.listForEntity(...args);
    };
    audit.listRollovers = async (orgId, ids) => {
      reads.push(`listRollovers:${ids.length}`);
      return f.store.audit.listRollovers(orgId, ids);
    };
    const counted = new SubjectRollover({
      store: { ...f.store, audit },
      clock: () => new Date(),
      subjects: f.domain.subjects,
      timetable: f.domain.timetable,
    });
    const again = await counted.run(admin(), input);
    expect(again.rows.map((r) => r.outcome)).to.deep.equal(['exists', 'exists', 'exists']);
    expect(reads).to.deep.equal(['listRollovers:3']);
    const rolled = await f.store.audit.listRollovers(
      f.org.id,
      first.rows.map((r) => r.newSubjectId!),
    );
    expect(rolled.map((e) => [e.entityId, e.action, (e.to as { carried: boolean }).carried])).to.have.deep.members(
      first.rows.flatMap((r) => [
        [r.newSubjectId, 'subject.rollover', false],
        [r.newSubjectId, 'subject.rollover', true],
      ]),
    );
  });

  it('a roll-over that finished is not carried again: students unenrolled and meetings moved since stay as the admin left them', async () => {
    const oldTerm = await f.domain.timetable.createTerm(admin(), { name: 'Spring', startDay: '2026-01-05', endDay: '2026-07-03' });
    const newTerm = await f.domain.timetable.createTerm(admin(), { name: 'Autumn', startDay: '2026-09-01', endDay: '2026-12-18' });
    await f.domain.timetable.createMeeting(admin(), f.subject.id, { termId: oldTerm.id, weekday: 1, startTime: '08:00', endTime: '09:00' });
    await f.domain.subjectArchive.archive(admin(), [f.subject.id]);
    const input = {
      subjectIds: [f.subject.id],
      codes: { suffix: '-27' },
      carryStudents: true,
      terms: [{ from: oldTerm.id, to: newTerm.id }],
    };
    const first = await f.domain.subjectRollover.run(admin(), input);
    expect(outcomes(first.rows)).to.deep.equal([['PHY1', 'PHY1-27', 'new', null]]);
    const made = first.rows[0]!.newSubjectId!;
    // The admin moves the copied meeting to Tuesday and takes a student out of the class.
    const [copy] = await f.store.timetable.listMeetings(f.org.id, made);
    await f.domain.timetable.updateMeeting(admin(), copy!.id, { weekday: 2 });
    await f.domain.subjects.unenrol(admin(), made, [f.students[0]!.id]);

    // The same request again (to retry another row, or a time-out): nothing put back.
    const again = await f.domain.subjectRollover.run(admin(), input);
    expect(again.rows[0]).to.deep.include({ outcome: 'exists', newSubjectId: made, students: 0, meetings: 0 });
    expect((await f.store.timetable.listMeetings(f.org.id, made)).map((m) => m.weekday)).to.deep.equal([2]);
    expect(await f.store.subjects.listEnrolled(f.org.id, made))
      .to.have.length(f.students.length - 1)
      .and.not.include(f.students[0]!.id);
  });

  it('a subject in use made by hand with the new code is not this one’s roll-over: exists, nothing carried into it', async () => {
    await f.domain.subjectArchive.archive(admin(), [f.subject.id]);
    const byHand = await f.store.subjects.create(f.org.id, {
      code: 'PHY1-27',
      name: 'Other',
      teacherIds: [],
      location: null,
      allowedIpRanges: [],
    });
    const done = await f.domain.subjectRollover.run(admin(), { subjectIds: [f.subject.id], codes: { suffix: '-27' }, carryStudents: true });
    expect(done.rows[0]).to.deep.include({ outcome: 'exists', newSubjectId: byHand.id, students: 0 });
    expect(await f.store.subjects.listEnrolled(f.org.id, byHand.id)).to.deep.equal([]);
  });

  it('answers each row on its own: a code unchanged, repeated, held by an archived subject, too long, or a source in use to rename', async () => {
    const make = (code: string) =>
      f.store.subjects.create(f.org.id, { code, name: code, teacherIds: [f.teacher.id], location: null, allowedIpRanges: [] });
    const a = await make('7A-MATH-26');
    const b = await make('7B-MATH-26');
    const c = await make('7C-MATH-26');
    const held = await make('7C-MATH-27');
    await f.store.subjects.update(f.org.id, held.id, { archivedAt: new Date() });
    const long = await make('X'.repeat(29) + '-26');

    const unchanged = await f.domain.subjectRollover.run(admin(), { subjectIds: [a.id], codes: {}, carryStudents: false });
    expect(outcomes(unchanged.rows)).to.deep.equal([['7A-MATH-26', '7A-MATH-26', 'refused', 'codeUnchanged']]);

    const rule = { replace: { from: '-26', to: '-27' } };
    const res = await f.domain.subjectRollover.run(admin(), { subjectIds: [a.id, b.id, c.id, long.id], codes: rule, carryStudents: false });
    expect(outcomes(res.rows)).to.deep.equal([
      ['7A-MATH-26', '7A-MATH-27', 'new', null],
      ['7B-MATH-26', '7B-MATH-27', 'new', null],
      ['7C-MATH-26', '7C-MATH-27', 'refused', 'codeTaken'],
      ['X'.repeat(29) + '-26', 'X'.repeat(29) + '-27', 'new', null],
    ]);
    const exists = await f.domain.subjectRollover.run(admin(), {
      subjectIds: [a.id],
      codes: { replace: { from: '7A', to: '7B' } },
      carryStudents: false,
      dryRun: true,
    });
    expect(exists.rows[0]).to.deep.include({ newCode: '7B-MATH-26', outcome: 'exists', newSubjectId: b.id });
    const r1 = await make('ART-26');
    const r2 = await make('ART-2626');
    const repeated = await f.domain.subjectRollover.run(admin(), {
      subjectIds: [r2.id, r1.id],
      codes: { replace: { from: '26', to: '' } },
      carryStudents: false,
      dryRun: true,
    });
    expect(outcomes(repeated.rows)).to.deep.equal([
      ['ART-26', 'ART-', 'new', null],
      ['ART-2626', 'ART-', 'refused', 'codeRepeated'],
    ]);
    const longer = await f.domain.subjectRollover.run(admin(), {
      subjectIds: [long.id, c.id],
      codes: { suffix: '-NEXT' },
      carryStudents: false,
      dryRun: true,
    });
    expect(outcomes(longer.rows)).to.deep.equal([
      ['7C-MATH-26', '7C-MATH-26-NEXT', 'new', null],
      ['X'.repeat(29) + '-26', 'X'.repeat(29) + '-26-NEXT', 'refused', 'codeInvalid'],
    ]);
    const inUse = await f.domain.subjectRollover.run(admin(), {
      subjectIds: [c.id],
      codes: {},
      previousSuffix: '-OLD',
      carryStudents: false,
      dryRun: true,
    });
    expect(outcomes(inUse.rows)).to.deep.equal([['7C-MATH-26', '7C-MATH-26', 'refused', 'sourceInUse']]);

    await expectCode(
      f.domain.subjectRollover.run(admin(), {
        subjectIds: Array.from({ length: ROLLOVER_SUBJECTS_MAX + 1 }, (_, i) => `id-${i}`),
        codes: {},
        carryStudents: false,
      }),
      'VALIDATION_FAILED',
    );
    await expectCode(
      f.domain.subjectRollover.run(f.actor(f.teacher), { subjectIds: [a.id], codes: { suffix: '-T' }, carryStudents: false }),
      'FORBIDDEN',
    );
  });
}

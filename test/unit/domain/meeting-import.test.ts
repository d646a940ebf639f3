import { expect } from 'chai';
import { pino } from 'pino';
import type { Actor } from '../../../src/domain/actor.js';
import type { DomainDeps } from '../../../src/domain/deps.js';
import { EventBus } from '../../../src/domain/events.js';
import { JobRunner } from '../../../src/domain/jobs/job-runner.js';
import type { Store } from '../../../src/domain/ports/store.js';
import type { Subject } from '../../../src/domain/ports/subjects.js';
import type { Term } from '../../../src/domain/ports/timetable.js';
import type { User } from '../../../src/domain/ports/users.js';
import { SessionLifecycle } from '../../../src/domain/sessions/session-lifecycle.js';
import { SessionService } from '../../../src/domain/sessions/session-service.js';
import { CsvMeetingImport, MAX_MEETING_IMPORT_ROWS } from '../../../src/domain/timetable/meeting-import.js';
import { TimetableService } from '../../../src/domain/timetable/timetable-service.js';
import type { AppError } from '../../../src/shared/app-error.js';
import { createSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { expectCode } from '../../support/expect-code.js';
import { TestClock } from '../../support/live-fixture.js';

const T0 = Date.parse('2026-09-07T08:00:00.000Z');
const HEADER = 'subject_code,term,weekday,start,end,teacher_email,preset,latitude,longitude,radius_m,allowed_networks';

/** Each refused row as [line, its problem codes]. */
function refusedRows(err: AppError): Array<[number, string[]]> {
  const rows = err.details?.['rows'] as Array<{ line: number; problems: Array<{ code: string }> }>;
  return rows.map((r) => [r.line, r.problems.map((p) => p.code)]);
}

describe('CsvMeetingImport: a school’s week of meetings from one CSV', () => {
  let store: Store;
  let timetable: TimetableService;
  let importer: CsvMeetingImport;
  let admin: Actor;
  let ada: User;
  let bob: User;
  let maths: Subject;
  let physics: Subject;
  let autumn: Term;

  beforeEach(async () => {
    const clock = new TestClock(T0);
    store = await createSqliteStore({ path: ':memory:', now: clock.now });
    const deps: DomainDeps = {
      store,
      events: new EventBus((err) => {
        throw err;
      }),
      logger: pino({ level: 'silent' }),
      now: clock.now,
      jobs: new JobRunner(pino({ level: 'silent' })),
      capabilities: { selfie: false },
      settings: { codePeriodS: 15, locationMaxAgeS: 120, defaultTimezone: 'UTC' },
    };
    timetable = new TimetableService(deps, new SessionService(deps), new SessionLifecycle(deps));
    importer = new CsvMeetingImport({ store, timetable });
    const org = await store.organisations.create({ name: 'School', slug: 'school', timezone: 'UTC' });
    const user = (email: string, role: User['role'], active = true) =>
      store.users.create(org.id, { email, name: email, role, studentNumber: null, passwordHash: null, active });
    admin = { id: (await user('head@school.test', 'admin')).id, orgId: org.id, role: 'admin' };
    ada = await user('ada@school.test', 'teacher');
    bob = await user('bob@school.test', 'teacher');
    await user('gone@school.test', 'teacher', false);
    const room = { location: { lat: 48.85, lon: 2.35, radiusM: 60 }, allowedIpRanges: [] };
    maths = await store.subjects.create(org.id, { code: 'MATH-7A', name: 'Maths', teacherIds: [ada.id, bob.id], ...room });
    physics = await store.subjects.create(org.id, { code: 'PHY-7A', name: 'Physics', teacherIds: [ada.id], ...room });
    const old = await store.subjects.create(org.id, { code: 'OLD', name: 'Old', teacherIds: [], ...room });
    await store.subjects.update(org.id, old.id, { archivedAt: new Date(T0) });
    autumn = await timetable.createTerm(admin, { name: 'Autumn', startDay: '2026-09-01', endDay: '2026-12-18' });
  });
  afterEach(async () => store.close());

  const meetingsOf = (s: Subject) => store.timetable.listMeetings(admin.orgId, s.id);
  const audited = async () =>
    (
      await Promise.all(
        [maths, physics].map(async (s) =>
          (await store.audit.listForEntity(admin.orgId, 'subject', s.id)).filter((e) => e.action === 'meeting.create'),
        ),
      )
    ).flat().length;

  const WEEK = [
    HEADER,
    'MATH-7A,Autumn,1,09:00,10:00,,,,,,',
    'MATH-7A,autumn,Thursday,9:00,10:00,bob@school.test,location-code,48.86,2.34,80,10.1.0.0/16',
    'PHY-7A,Autumn,mardi,14:00,15:00,,,,,,',
  ].join('\n');

  it('checks on a dry run, writing nothing, then adds each meeting through the single add, audited', async () => {
    const dry = await importer.run(admin, WEEK, { dryRun: true });
    expect(dry).to.deep.include({ added: 0, toAdd: 3, checked: 3, doubleBooked: 0, skipped: [], warnings: [], refused: [] });
    expect(await meetingsOf(maths)).to.have.length(0);

    const done = await importer.run(admin, WEEK);
    expect(done).to.deep.include({ added: 3, toAdd: 3, checked: 3, doubleBooked: 0 });
    const [monday, thursday] = (await meetingsOf(maths)).sort((a, b) => a.weekday - b.weekday);
    expect(monday).to.deep.include({ termId: autumn.id, weekday: 1, startTime: '09:00', endTime: '10:00', teacherId: null, preset: null });
    expect(monday!.location).to.equal(null);
    expect(thursday).to.deep.include({ weekday: 4, startTime: '09:00', teacherId: bob.id, preset: 'location-code' });
    expect(thursday!.location).to.deep.equal({ lat: 48.86, lon: 2.34, radiusM: 80 });
    expect(thursday!.allowedIpRanges).to.deep.equal(['10.1.0.0/16']);
    expect((await meetingsOf(physics)).map((m) => m.weekday)).to.deep.equal([2]);
    expect(await audited()).to.equal(3);
  });

  it('run again, skips every row already there, row by row, and adds nothing twice', async () => {
    await importer.run(admin, WEEK);
    const again = await importer.run(admin, WEEK);
    expect(again).to.deep.include({ added: 0, toAdd: 0, checked: 3 });
    expect(again.skipped.map((r) => [r.line, r.subjectCode, r.problems.map((p) => p.code)])).to.deep.equal([
      [2, 'MATH-7A', ['meetingExists']],
      [3, 'MATH-7A', ['meetingExists']],
      [4, 'PHY-7A', ['meetingExists']],
    ]);
    expect(await meetingsOf(maths)).to.have.length(2);
    expect(await audited()).to.equal(3);
    // Another room is another meeting: added, the identical rows still skipped.
    const moved = await importer.run(admin, WEEK.replace('48.86,2.34,80', '48.87,2.34,80'));
    expect(moved).to.deep.include({ added: 1 });
    expect(moved.skipped.map((r) => r.line)).to.deep.equal([2, 4]);
  });

  it('sent twice at once, adds each meeting once, and each answer says which rows it added and which it found there', async () => {
    const [one, two] = await Promise.all([importer.run(admin, WEEK), importer.run(admin, WEEK)]);
    expect(await meetingsOf(maths)).to.have.length(2);
    expect(await meetingsOf(physics)).to.have.length(1);
    expect(one!.added + two!.added).to.equal(3);
    for (const answer of [one!, two!]) {
      expect(answer.refused).to.deep.equal([]);
      expect(answer.added + answer.skipped.length).to.equal(3);
      expect(answer.meetings).to.have.length(answer.added);
      for (const r of answer.skipped) expect(r.problems.map((p) => p.code)).to.deep.equal(['meetingExists']);
    }
    expect(await audited()).to.equal(3);
  });

  it('a row added by another import between the check and the write is skipped, not added twice', async () => {
    await importer.run(admin, WEEK);
    // The check reads before the other import's writes: every row looks new to it.
    const blind = new CsvMeetingImport({
      store: { ...store, timetable: { ...store.timetable, listMeetings: async () => [] } } as Store,
      timetable,
    });
    const late = await blind.run(admin, WEEK);
    expect(late).to.deep.include({ added: 0, toAdd: 3, checked: 3, refused: [], meetings: [] });
    expect(late.skipped.map((r) => [r.line, r.subjectCode, r.problems.map((p) => p.code)])).to.deep.equal([
      [2, 'MATH-7A', ['meetingExists']],
      [3, 'MATH-7A', ['meetingExists']],
      [4, 'PHY-7A', ['meetingExists']],
    ]);
    expect(await meetingsOf(maths)).to.have.length(2);
    expect(await audited()).to.equal(3);
  });

  it('a meeting deleted is added again by the next import of its row', async () => {
    await importer.run(admin, WEEK);
    const [monday] = (await meetingsOf(maths)).sort((a, b) => a.weekday - b.weekday);
    await timetable.deleteMeeting(admin, monday!.id);
    const again = await importer.run(admin, WEEK);
    expect(again).to.deep.include({ added: 1, toAdd: 1 });
    expect(again.meetings[0]).to.deep.include({ weekday: 1, startTime: '09:00' });
    expect(again.skipped.map((r) => r.line)).to.deep.equal([3, 4]);
  });

  it('a single add equal to a meeting the subject has, or an edit making one equal, is 409 CONFLICT naming it, nothing written', async () => {
    const monday = await timetable.createMeeting(admin, maths.id, { termId: autumn.id, weekday: 1, startTime: '09:00', endTime: '10:00' });
    const again = await expectCode(
      timetable.createMeeting(admin, maths.id, { termId: autumn.id, weekday: 1, startTime: '09:00', endTime: '10:00' }),
      'CONFLICT',
    );
    expect(again.details).to.deep.equal({ existingMeetingId: monday.id });
    const tuesday = await timetable.createMeeting(admin, maths.id, { termId: autumn.id, weekday: 2, startTime: '09:00', endTime: '10:00' });
    const edit = await expectCode(timetable.updateMeeting(admin, tuesday.id, { weekday: 1 }), 'CONFLICT');
    expect(edit.details).to.deep.include({ existingMeetingId: monday.id });
    expect(await store.timetable.getMeeting(admin.orgId, tuesday.id)).to.deep.equal(tuesday);
    expect(await meetingsOf(maths)).to.have.length(2);
    expect(await audited()).to.equal(2);
  });

  it('refuses the file with every bad row by line and code, writing nothing', async () => {
    const csv = [
      HEADER,
      'NOPE,Autumn,1,09:00,10:00,,,,,,',
      'MATH-7A,Spring,8,25:00,10:00,,,,,,',
      'MATH-7A,Autumn,1,11:00,10:00,gone@school.test,sometimes,,,,',
      'PHY-7A,Autumn,1,11:00,12:00,bob@school.test,,48.8,,,not-a-network',
      'OLD,Autumn,1,11:00,12:00,head@school.test,,91,2,10,',
      'MATH-7A,Autumn,5,08:00,09:00,,,,,,',
      'MATH-7A,Autumn,fri,08:00,09:00,,,,,,',
    ].join('\n');
    const err = await expectCode(importer.run(admin, csv, { dryRun: true }), 'VALIDATION_FAILED');
    expect(refusedRows(err)).to.deep.equal([
      [2, ['subjectUnknown']],
      [3, ['weekdayInvalid', 'startInvalid', 'termUnknown']],
      [4, ['endNotAfterStart', 'presetUnknown', 'teachersDeactivated']],
      [5, ['roomIncomplete', 'networksInvalid', 'teacherNotOfSubject']],
      [6, ['latitudeInvalid', 'subjectArchived', 'teachersNotTeachers']],
      [8, ['meetingRepeated']],
    ]);
    expect(err.details?.['rowsInvalid']).to.equal(6);
    await expectCode(importer.run(admin, csv), 'VALIDATION_FAILED');
    expect(await meetingsOf(maths)).to.have.length(0);
  });

  it("refuses a row the single add refuses (a preset the room cannot run), with that add's coded error", async () => {
    const bare = await store.subjects.create(admin.orgId, {
      code: 'BARE',
      name: 'No room',
      teacherIds: [],
      location: null,
      allowedIpRanges: [],
    });
    const err = await expectCode(
      importer.run(admin, `${HEADER}\nBARE,Autumn,1,09:00,10:00,,location,,,,`, { dryRun: true }),
      'VALIDATION_FAILED',
    );
    const rows = err.details?.['rows'] as Array<{ line: number; problems: Array<{ code: string; params: Record<string, string> }> }>;
    expect(rows[0]!.line).to.equal(2);
    expect(rows[0]!.problems[0]).to.deep.include({ code: 'refused' });
    expect(rows[0]!.problems[0]!.params['code']).to.be.a('string').and.not.equal('');
    expect(await meetingsOf(bare)).to.have.length(0);
  });

  it('warns of a double-booked teacher, counted, on the dry run and the import, and adds the row all the same', async () => {
    // Ada already teaches physics on Monday at 09:30; the file gives her maths then, and physics
    // again against its own earlier row on Wednesday.
    await timetable.createMeeting(admin, physics.id, { termId: autumn.id, weekday: 1, startTime: '09:30', endTime: '10:30' });
    const csv = [
      HEADER,
      'MATH-7A,Autumn,1,09:00,10:00,,,,,,',
      'MATH-7A,Autumn,3,09:00,10:00,,,,,,',
      'PHY-7A,Autumn,3,09:45,10:15,,,,,,',
      'MATH-7A,Autumn,3,13:00,14:00,bob@school.test,,,,,',
    ].join('\n');
    const dry = await importer.run(admin, csv, { dryRun: true });
    expect(dry.doubleBooked).to.equal(2);
    expect(dry.warnings.map((r) => [r.line, r.problems[0]!.code, r.problems[0]!.params['count']])).to.deep.equal([
      [2, 'teacherDoubleBooked', 1],
      [4, 'teacherDoubleBooked', 1],
    ]);
    const done = await importer.run(admin, csv);
    expect(done).to.deep.include({ added: 4, doubleBooked: 2 });
    expect(done.warnings.map((r) => r.line)).to.deep.equal([2, 4]);
    expect(await meetingsOf(maths)).to.have.length(3);
    expect(await meetingsOf(physics)).to.have.length(2);
  });

  it('answers a row changed by another admin since the check as refused, the other rows added', async () => {
    let calls = 0;
    const racing = new CsvMeetingImport({
      store,
      timetable: {
        checkMeeting: (a, id, input, opts) => timetable.checkMeeting(a, id, input, opts),
        createMeeting: async (a, id, input) => {
          // The term is deleted between the check and the second row's write.
          if (++calls === 2) await store.timetable.deleteTerm(admin.orgId, autumn.id);
          return timetable.createMeeting(a, id, input);
        },
      },
    });
    const done = await racing.run(admin, WEEK);
    expect(done.added).to.equal(1);
    expect(done.refused.map((r) => [r.line, r.problems[0]!.code, r.problems[0]!.params['code']])).to.deep.equal([
      [3, 'refused', 'NOT_FOUND'],
      [4, 'refused', 'NOT_FOUND'],
    ]);
  });

  it('is for admins only, and bounded in rows', async () => {
    await expectCode(importer.run({ id: ada.id, orgId: admin.orgId, role: 'teacher' }, WEEK, { dryRun: true }), 'FORBIDDEN');
    const many = [HEADER, ...Array.from({ length: MAX_MEETING_IMPORT_ROWS + 1 }, () => 'MATH-7A,Autumn,1,09:00,10:00,,,,,,')].join('\n');
    await expectCode(importer.run(admin, many, { dryRun: true }), 'VALIDATION_FAILED');
    await expectCode(importer.run(admin, 'subject_code,term,weekday\nMATH-7A,Autumn,1', { dryRun: true }), 'VALIDATION_FAILED');
  });
});

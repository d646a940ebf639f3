import { expect } from 'chai';
import type { Actor } from '../../../src/domain/actor.js';
import type { DomainEvent } from '../../../src/domain/events.js';
import type { Store } from '../../../src/domain/ports/store.js';
import type { User } from '../../../src/domain/ports/users.js';
import { CsvSubjectImport, MAX_ROW_STUDENTS, MAX_SUBJECT_IMPORT_ROWS } from '../../../src/domain/subjects/subject-import.js';
import { SubjectService } from '../../../src/domain/subjects/subject-service.js';
import type { AppError } from '../../../src/shared/app-error.js';
import { createSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { newSubject, newUser } from '../../contract/fixtures.js';
import { expectCode } from '../../support/expect-code.js';
import { personOf } from '../../../src/domain/privacy/erasure-rules.js';

const T = new Date('2026-09-07T08:00:00.000Z');
const HEADER = 'code,name,teacher_email,co_teacher_emails,student_numbers';

/** Each refused row as [line, its problem codes]. */
function refusedRows(err: AppError): Array<[number, string[]]> {
  const rows = err.details?.['rows'] as Array<{ line: number; problems: Array<{ code: string }> }>;
  return rows.map((r) => [r.line, r.problems.map((p) => p.code)]);
}

describe('CsvSubjectImport: a year’s subjects with their teachers and classes from one CSV', () => {
  let store: Store;
  let admin: Actor;
  let events: DomainEvent[];
  let importer: CsvSubjectImport;
  let ada: User;
  let bob: User;
  let students: User[];

  beforeEach(async () => {
    store = await createSqliteStore({ path: ':memory:', now: () => T });
    const org = await store.organisations.create({ name: 'School', slug: 'school', timezone: 'UTC' });
    const users = await store.users.createMany(org.id, [
      newUser({ role: 'admin', email: 'head@school.test', studentNumber: null }),
      newUser({ role: 'teacher', email: 'ada@school.test', studentNumber: null }),
      newUser({ role: 'teacher', email: 'bob@school.test', studentNumber: null }),
      newUser({ role: 'teacher', email: 'gone@school.test', studentNumber: null, active: false }),
      newUser({ email: 's1@school.test', studentNumber: 'S1' }),
      newUser({ email: 's2@school.test', studentNumber: 'S2' }),
      newUser({ email: 's3@school.test', studentNumber: 'S3', active: false }),
      newUser({ email: 's4a@school.test', studentNumber: 'S4' }),
      newUser({ email: 's4b@school.test', studentNumber: 'S4' }),
    ]);
    admin = { id: users[0]!.id, orgId: org.id, role: 'admin', ip: null };
    [ada, bob] = [users[1]!, users[2]!];
    students = users.slice(4);
    events = [];
    const subjects = new SubjectService({ store, clock: () => T, events: { publish: (e) => events.push(e) } });
    importer = new CsvSubjectImport({ store, subjects });
  });
  afterEach(async () => store.close());

  const allSubjects = async () => (await store.subjects.list(admin.orgId, { limit: 100, offset: 0 })).items;

  it('creates each subject with its first teacher first, co-teachers after, and enrols its students, audited and announced as the single routes', async () => {
    const csv = [
      HEADER,
      'MATH-7A,Maths 7A,ada@school.test,"bob@school.test",S1 S2',
      'HIST-7A,History 7A,,,',
      'ART-7A,Art,BOB@school.test,ada@school.test;bob@school.test,S2',
    ].join('\n');
    const result = await importer.run(admin, csv);
    expect(result).to.include({ created: 3, enrolled: 3, checked: 3 });
    expect(result.refused).to.deep.equal([]);
    const byCode = new Map((await allSubjects()).map((s) => [s.code, s]));
    expect(byCode.get('MATH-7A')!.teacherIds).to.deep.equal([ada.id, bob.id]);
    expect(byCode.get('HIST-7A')!.teacherIds).to.deep.equal([]);
    expect(byCode.get('ART-7A')!.teacherIds).to.deep.equal([bob.id, ada.id]);
    expect((await store.subjects.listEnrolled(admin.orgId, byCode.get('MATH-7A')!.id)).sort()).to.deep.equal(
      [students[0]!.id, students[1]!.id].sort(),
    );
    const actions = async (code: string) =>
      (await store.audit.listForEntity(admin.orgId, 'subject', byCode.get(code)!.id)).map((e) => [e.action, e.actorId]);
    expect(await actions('MATH-7A')).to.have.deep.members([
      ['subject.create', admin.id],
      ['subject.enrol', admin.id],
    ]);
    expect(await actions('HIST-7A')).to.deep.equal([['subject.create', admin.id]]);
    expect(events.filter((e) => e.type === 'subject.assigned')).to.have.length(2);
    expect(events.filter((e) => e.type === 'subject.enrolled')).to.have.length(2);
  });

  it('takes the classroom from optional columns, checked as the subject form’s fields, ready for the location check', async () => {
    const room = 'code,name,teacher_email,latitude,longitude,radius_m,allowed_networks';
    const csv = [room, 'LAB-1,Lab,ada@school.test,"48,853",2.349,60,"10.2.0.0/16 192.168.1.7"', 'GYM-1,Gym,,,,,'].join('\n');
    await importer.run(admin, csv);
    const byCode = new Map((await allSubjects()).map((s) => [s.code, s]));
    expect(byCode.get('LAB-1')).to.deep.include({
      location: { lat: 48.853, lon: 2.349, radiusM: 60 },
      allowedIpRanges: ['10.2.0.0/16', '192.168.1.7'],
    });
    expect(byCode.get('GYM-1')).to.deep.include({ location: null, allowedIpRanges: [] });

    const bad = [
      room,
      'B-1,Half a place,,48.8,2.3,,',
      'B-2,Off the map,,91,181,0,',
      'B-3,Not numbers,,north,2.3,abc,',
      'B-4,Bad network,,,,,"10.0.0.0/8 300.1.1.1/8 nonsense"',
      `B-5,Too many networks,,,,,"${Array.from({ length: 101 }, (_, i) => `10.0.${i}.0/24`).join(' ')}"`,
    ].join('\n');
    const err = await expectCode(importer.run(admin, bad, { dryRun: true }), 'VALIDATION_FAILED');
    expect(refusedRows(err)).to.deep.equal([
      [2, ['roomIncomplete']],
      [3, ['latitudeInvalid', 'longitudeInvalid', 'radiusInvalid']],
      [4, ['latitudeInvalid', 'radiusInvalid']],
      [5, ['networksInvalid']],
      [6, ['tooManyNetworks']],
    ]);
    const rows = err.details?.['rows'] as Array<{ problems: Array<{ code: string; params: object; column?: string }> }>;
    expect(rows[3]!.problems[0]).to.deep.equal({ code: 'networksInvalid', params: { count: 2 }, column: 'allowed_networks' });
  });

  it('refuses the file with every bad row by line and writes nothing: the single route’s rules and the classes’ students', async () => {
    await store.subjects.create(admin.orgId, newSubject({ code: 'TAKEN' }));
    const csv = [
      HEADER,
      'OK-1,Fine,ada@school.test,,S1',
      'TAKEN,Taken code,ada@school.test,,',
      'OK-1,Repeated code,ada@school.test,,',
      'X-1,Unknown teacher,nobody@school.test,,',
      'X-2,Not a teacher,s1@school.test,,',
      'X-3,Deactivated teacher,gone@school.test,,',
      'X-4,Students,ada@school.test,,S1 NOPE S3 S4',
      'X-5,Co-teacher alone,,bob@school.test,',
      'bad code!,,not-an-email,,',
    ].join('\n');
    for (const dryRun of [true, false]) {
      const err = await expectCode(importer.run(admin, csv, { dryRun }), 'VALIDATION_FAILED');
      expect(refusedRows(err)).to.deep.equal([
        [3, ['subjectCodeTaken']],
        [4, ['subjectCodeRepeated']],
        [5, ['teachersUnknown']],
        [6, ['teachersNotTeachers']],
        [7, ['teachersDeactivated']],
        [8, ['studentNumbersUnknown', 'studentNumbersDeactivated', 'studentNumbersShared']],
        [9, ['teacherEmailMissing']],
        [10, ['subjectCodeInvalid', 'subjectNameInvalid', 'teacherEmailsInvalid']],
      ]);
      expect(err.details?.['lines']).to.deep.equal([3, 4, 5, 6, 7, 8, 9, 10]);
      const row8 = (err.details?.['rows'] as Array<{ line: number; problems: Array<{ params: unknown }> }>).find((r) => r.line === 8)!;
      expect(row8.problems.map((p) => p.params)).to.deep.equal([
        { count: 1, values: 'NOPE' },
        { count: 1, values: 'S3' },
        { count: 1, values: 'S4' },
      ]);
      expect((await allSubjects()).map((s) => s.code)).to.deep.equal(['TAKEN']);
    }
    expect(events).to.deep.equal([]);
  });

  it('a dry run of good rows checks them and writes nothing', async () => {
    const result = await importer.run(admin, `${HEADER}\nOK-1,Fine,ada@school.test,,S1\nOK-2,Fine too,,,`, { dryRun: true });
    expect(result).to.deep.include({ created: 0, checked: 2, subjects: [] });
    expect(await allSubjects()).to.deep.equal([]);
  });

  it('never quotes a cell that is not a number or an address, however long', async () => {
    const markup = '<svg/onload=alert(1)>';
    const err = await expectCode(
      importer.run(admin, `${HEADER}\nOK-1,Fine,ada@school.test,,"${markup} ${'x'.repeat(5_000)}"`),
      'VALIDATION_FAILED',
    );
    const told = JSON.stringify({ message: err.message, details: err.details });
    expect(told).not.to.contain(markup);
    expect(told).not.to.contain('x'.repeat(100));
    expect(refusedRows(err)).to.deep.equal([[2, ['studentNumbersUnknown']]]);
  });

  it('refuses a file of more rows than one request takes, and a row of more students than one enrolment takes', async () => {
    const rows = Array.from({ length: MAX_SUBJECT_IMPORT_ROWS + 1 }, (_, i) => `C-${i},Subject ${i},,,`);
    const err = await expectCode(importer.run(admin, [HEADER, ...rows].join('\n'), { dryRun: true }), 'VALIDATION_FAILED');
    expect(err.message).to.equal(`At most ${MAX_SUBJECT_IMPORT_ROWS} rows per file.`);
    const numbers = Array.from({ length: MAX_ROW_STUDENTS + 1 }, (_, i) => `N${i}`).join(' ');
    const crowded = await expectCode(importer.run(admin, `${HEADER}\nBIG,Lecture,,,${numbers}`, { dryRun: true }), 'VALIDATION_FAILED');
    expect(refusedRows(crowded)).to.deep.equal([[2, ['tooManyStudentNumbers']]]);
  });

  it('a teacher or a student cannot import', async () => {
    for (const role of ['teacher', 'student'] as const) {
      await expectCode(importer.run({ ...admin, id: ada.id, role }, `${HEADER}\nOK-1,Fine,,,`), 'FORBIDDEN');
    }
    expect(await allSubjects()).to.deep.equal([]);
  });

  /**
   * An import whose `between` runs after the file was checked and before the subject of `code`
   * is created: what another admin does meanwhile. Every other call is the service's own.
   */
  function racing(code: string, between: () => Promise<unknown>): CsvSubjectImport {
    const subjects = new SubjectService({ store, clock: () => T, events: { publish: (e) => events.push(e) } });
    const raced = Object.create(subjects) as SubjectService;
    raced.create = async (actor, input) => {
      if (input.code === code) await between();
      return subjects.create(actor, input);
    };
    return new CsvSubjectImport({ store, subjects: raced });
  }

  it('a code another admin takes between the check and the write leaves that row out and says so', async () => {
    const importer = racing('RACE', () => store.subjects.create(admin.orgId, newSubject({ code: 'RACE' })));
    const result = await importer.run(admin, `${HEADER}\nRACE,Raced,,,\nCALM,Calm,ada@school.test,,S1`);
    expect(result).to.include({ created: 1, enrolled: 1, checked: 2 });
    expect(result.refused.map((r) => [r.line, r.code, r.problems.map((p) => p.code)])).to.deep.equal([[2, 'RACE', ['subjectCodeTaken']]]);
  });

  it('a student another admin deactivates between the check and the write is not enrolled, and the row says so', async () => {
    const [s1, s2] = students;
    const importer = racing('LATE', () => store.users.update(admin.orgId, s1!.id, { active: false }));
    const result = await importer.run(admin, `${HEADER}\nEARLY,Early,,,S2\nLATE,Late,,,S1 S2`);
    expect(result).to.include({ created: 2, enrolled: 2, checked: 2 });
    const late = result.subjects.find((x) => x.code === 'LATE')!;
    expect(await store.subjects.listEnrolled(admin.orgId, late.id)).to.deep.equal([s2!.id]);
    expect(result.studentsRefused.map((r) => [r.line, r.code, r.problems])).to.deep.equal([
      [3, 'LATE', [{ code: 'studentNumbersDeactivated', params: { count: 1, values: 'S1' }, column: 'student_numbers' }]],
    ]);
    expect(result.refused).to.deep.equal([]);
    // Neither audited nor announced as enrolled in LATE.
    const told = events.filter((e) => e.type === 'subject.enrolled' && e.subjectId === late.id);
    expect(told.flatMap((e) => (e.type === 'subject.enrolled' ? e.studentIds : []))).to.deep.equal([s2!.id]);
    const audited = (await store.audit.listForEntity(admin.orgId, 'subject', late.id)).filter((e) => e.action === 'subject.enrol');
    expect(audited.map((e) => e.to)).to.deep.equal([{ studentIds: [s2!.id] }]);
  });

  it('a student erased between the check and the write leaves the rows created, with the number named, not a 400 after writing', async () => {
    const [s1, s2] = students;
    const importer = racing('LATE', () => store.privacy.erase(personOf(s1!), 'tomb-import'));
    const result = await importer.run(admin, `${HEADER}\nEARLY,Early,,,S1\nLATE,Late,,,S1 S2`);
    expect(result).to.include({ created: 2, enrolled: 1, checked: 2 });
    expect(result.studentsRefused.map((r) => [r.line, r.code, r.problems.map((p) => [p.code, p.params])])).to.deep.equal([
      [2, 'EARLY', [['studentNumbersUnknown', { count: 1, values: 'S1' }]]],
      [3, 'LATE', [['studentNumbersUnknown', { count: 1, values: 'S1' }]]],
    ]);
    expect((await allSubjects()).map((x) => x.code).sort()).to.deep.equal(['EARLY', 'LATE']);
    const late = result.subjects.find((x) => x.code === 'LATE')!;
    expect(await store.subjects.listEnrolled(admin.orgId, late.id)).to.deep.equal([s2!.id]);
  });
  for (const [what, between, problem] of [
    ['deleted', (id: string) => store.subjects.delete(admin.orgId, id), 'subjectDeletedSince'],
    ['archived', (id: string) => store.subjects.update(admin.orgId, id, { archivedAt: T }), 'subjectArchivedSince'],
  ] as const) {
    it(`a subject ${what} by another admin after its row was written is named, its students not enrolled; the other rows are written`, async () => {
      const [s1, s2] = students;
      const early = async () => (await store.subjects.getByCodes(admin.orgId, ['EARLY']))[0]!.id;
      const importer = racing('LATE', async () => between(await early()));
      const result = await importer.run(admin, `${HEADER}\nEARLY,Early,,,S1\nLATE,Late,,,S1 S2`);
      expect(result).to.include({ created: 2, enrolled: 2, checked: 2 });
      const late = result.subjects.find((x) => x.code === 'LATE')!;
      expect((await store.subjects.listEnrolled(admin.orgId, late.id)).sort()).to.deep.equal([s1!.id, s2!.id].sort());
      expect(result.studentsRefused.map((r) => [r.line, r.code, r.problems.map((p) => [p.code, p.params])])).to.deep.equal([
        [2, 'EARLY', [[problem, { count: 1 }]]],
      ]);
      expect(result.refused).to.deep.equal([]);
    });
  }

  /** An import whose store runs `between` once, right before its enrolMany: after the service's check of the subjects. */
  function racingWrite(between: () => Promise<unknown>): CsvSubjectImport {
    let done = false;
    const raced = Object.create(store.subjects) as Store['subjects'];
    raced.enrolMany = async (orgId, bySubject, entry) => {
      if (!done) await between();
      done = true;
      return store.subjects.enrolMany(orgId, bySubject, entry);
    };
    const racedStore = { ...store, subjects: raced };
    const subjects = new SubjectService({ store: racedStore, clock: () => T, events: { publish: (e) => events.push(e) } });
    return new CsvSubjectImport({ store: racedStore, subjects });
  }
  for (const [what, between, problem] of [
    ['deleted', (id: string) => store.subjects.delete(admin.orgId, id), 'subjectDeletedSince'],
    ['archived', (id: string) => store.subjects.update(admin.orgId, id, { archivedAt: T }), 'subjectArchivedSince'],
  ] as const) {
    it(`a subject ${what} after the service's check, before the store's write, is named and nobody is enrolled in it, audited or announced`, async () => {
      const [s1, s2] = students;
      const early = async () => (await store.subjects.getByCodes(admin.orgId, ['EARLY']))[0]!.id;
      const importer = racingWrite(async () => between(await early()));
      const result = await importer.run(admin, `${HEADER}\nEARLY,Early,,,S1\nLATE,Late,,,S1 S2`);
      expect(result).to.include({ created: 2, enrolled: 2, checked: 2 });
      expect(result.studentsRefused.map((r) => [r.line, r.code, r.problems.map((p) => [p.code, p.params])])).to.deep.equal([
        [2, 'EARLY', [[problem, { count: 1 }]]],
      ]);
      const earlyId = result.subjects.find((x) => x.code === 'EARLY')!.id;
      expect(await store.subjects.listEnrolled(admin.orgId, earlyId)).to.deep.equal([]);
      const entries = await store.audit.listForEntity(admin.orgId, 'subject', earlyId);
      expect(entries.filter((e) => e.action === 'subject.enrol')).to.deep.equal([]);
      expect(events.filter((e) => e.type === 'subject.enrolled' && e.subjectId === earlyId)).to.deep.equal([]);
      const late = result.subjects.find((x) => x.code === 'LATE')!;
      expect((await store.subjects.listEnrolled(admin.orgId, late.id)).sort()).to.deep.equal([s1!.id, s2!.id].sort());
    });
  }

  it('no enrolment is left without its audit entry: an audit write that fails takes the enrolments with it', async () => {
    // What a crash between the two writes left: the enrolments stored, their entries never.
    const failing = Object.create(store.audit) as Store['audit'];
    failing.append = async () => {
      throw new Error('audit write failed');
    };
    failing.appendMany = async () => {
      throw new Error('audit write failed');
    };
    const raced = Object.create(store.subjects) as Store['subjects'];
    raced.enrolMany = async (orgId, bySubject, entry) =>
      store.subjects.enrolMany(
        orgId,
        bySubject,
        entry &&
          ((id, ids) => {
            throw new Error(`audit write failed for ${id} (${ids.length})`);
          }),
      );
    const quiet = { publish: () => undefined };
    const creator = new SubjectService({ store, clock: () => T, events: quiet });
    const enroller = new SubjectService({ store: { ...store, audit: failing, subjects: raced }, clock: () => T, events: quiet });
    // The subjects created as usual; the entries of their enrolments fail.
    const importer = new CsvSubjectImport({
      store,
      subjects: { create: (a, input) => creator.create(a, input), enrolChecked: (a, m) => enroller.enrolChecked(a, m) },
    });
    await importer.run(admin, `${HEADER}\nMATH,Maths,,,S1 S2`).then(
      () => expect.fail('the import answered although its audit entries were not written'),
      (err: Error) => expect(err.message).to.match(/audit write failed/),
    );
    const math = (await store.subjects.getByCodes(admin.orgId, ['MATH']))[0]!;
    expect(await store.subjects.listEnrolled(admin.orgId, math.id)).to.deep.equal([]);
  });
});

import { expect } from 'chai';
import type { Actor } from '../../../src/domain/actor.js';
import { OneRosterAttendanceExport, type AttendanceRow } from '../../../src/domain/oneroster/attendance-export.js';
import { OneRosterImport, type ImportReport } from '../../../src/domain/oneroster/oneroster-import.js';
import type { Organisation } from '../../../src/domain/ports/organisations.js';
import type { Store } from '../../../src/domain/ports/store.js';
import { SubjectService } from '../../../src/domain/subjects/subject-service.js';
import { UserService } from '../../../src/domain/users/user-service.js';
import { AppError } from '../../../src/shared/app-error.js';
import { createSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { POLICY } from '../../contract/fixtures.js';
import { sampleBundle, USER_ROWS, userRow } from '../../support/oneroster-bundle.js';
import { cheapPasswordHasher } from '../../support/passwords.js';
import { countStoreCalls } from '../../../scripts/lib/store-calls.js';

const T = new Date('2026-09-07T08:00:00.000Z');

/** Everything an import can touch, in a stable order: equal snapshots mean nothing was written. */
async function snapshot(store: Store, orgId: string) {
  const users = (await store.users.list(orgId, { limit: 100, offset: 0 })).items;
  const subjects = (await store.subjects.list(orgId, { limit: 100, offset: 0 })).items;
  const enrolments = await Promise.all(subjects.map(async (s) => [s.code, (await store.subjects.listEnrolled(orgId, s.id)).sort()]));
  const objects = await Promise.all(
    (['org', 'academicSession', 'class', 'user'] as const).map((k) =>
      store.oneroster.getMany(orgId, k, ['org-1', 'term-1', 'cls-1', 'cls-2', 't-1', 's-1', 's-2', 's-3', 'p-1']),
    ),
  );
  const audit = await store.reports.audit(orgId, { entityType: 'organisation', entityId: orgId, limit: 100, offset: 0 });
  return { users, subjects, enrolments, objects, audit: audit.total };
}

const counts = (r: ImportReport) => r.files;
const byFile = (r: ImportReport, file: string) => r.rows.filter((x) => x.file === file).map((x) => [x.sourcedId, x.action]);

describe('OneRoster import', () => {
  let store: Store;
  let org: Organisation;
  let admin: Actor;
  let importer: OneRosterImport;

  beforeEach(async () => {
    store = await createSqliteStore({ path: ':memory:', now: () => T });
    org = await store.organisations.create({ name: 'Springfield', slug: 'springfield', timezone: 'America/Chicago' });
    const adminUser = await store.users.create(org.id, {
      name: 'Admin',
      email: 'admin@springfield.test',
      role: 'admin',
      studentNumber: null,
      passwordHash: null,
      active: true,
    });
    admin = { id: adminUser.id, orgId: org.id, role: 'admin', ip: null };
    const events = { publish: () => undefined };
    const clock = () => T;
    importer = new OneRosterImport({
      store,
      users: new UserService({ store, passwords: cheapPasswordHasher(), clock, events }),
      subjects: new SubjectService({ store, clock, events }),
      clock,
    });
  });
  afterEach(() => store.close());

  it('a dry run reports every row and writes nothing', async () => {
    const before = await snapshot(store, org.id);
    const report = await importer.run(admin, sampleBundle(), { dryRun: true });
    expect(report.dryRun).to.equal(true);
    expect(byFile(report, 'users')).to.deep.equal([
      ['t-1', 'created'],
      ['s-1', 'created'],
      ['s-2', 'created'],
      ['s-3', 'error'],
      ['p-1', 'skipped'],
    ]);
    expect(byFile(report, 'enrollments')).to.deep.equal([
      ['e-1', 'created'],
      ['e-2', 'created'],
      ['e-3', 'created'],
      ['e-4', 'created'],
      ['e-5', 'error'],
      ['e-6', 'skipped'],
    ]);
    expect(await snapshot(store, org.id)).to.deep.equal(before);
  });

  it('imports the good rows, reports the bad one with its line and reason, and predicts what the dry run said', async () => {
    const dry = await importer.run(admin, sampleBundle(), { dryRun: true });
    const real = await importer.run(admin, sampleBundle(), { dryRun: false });
    expect({ ...real, dryRun: true }).to.deep.equal(dry);
    expect(counts(real)).to.deep.equal({
      orgs: { created: 1, updated: 0, unchanged: 0, skipped: 0, error: 0 },
      academicSessions: { created: 1, updated: 0, unchanged: 0, skipped: 0, error: 0 },
      users: { created: 3, updated: 0, unchanged: 0, skipped: 1, error: 1 },
      classes: { created: 2, updated: 0, unchanged: 0, skipped: 0, error: 0 },
      enrollments: { created: 4, updated: 0, unchanged: 0, skipped: 1, error: 1 },
    });
    expect(real.rows.filter((r) => r.action === 'error')).to.deep.equal([
      {
        file: 'users',
        line: 5,
        sourcedId: 's-3',
        action: 'error',
        reason: 'email is invalid',
        problem: { code: 'emailInvalid', params: {}, column: 'email' },
      },
      {
        file: 'enrollments',
        line: 6,
        sourcedId: 'e-5',
        action: 'error',
        reason: 'user s-3 was not imported (see its row)',
        problem: { code: 'userNotImported', params: { sourcedId: 's-3' } },
      },
    ]);

    const users = (await store.users.list(org.id, { limit: 100, offset: 0 })).items.filter((u) => u.role !== 'admin');
    expect(users.map((u) => [u.name, u.email, u.role, u.studentNumber, u.active])).to.deep.equal([
      ['Ada Lovelace', 'ada@springfield.test', 'teacher', null, true],
      ['Ben Ng', 'ben@springfield.test', 'student', 'S001', true],
      ['Cleo Diaz', 'cleo@springfield.test', 'student', 'S002', true],
    ]);
    const id = Object.fromEntries(users.map((u) => [u.email.split('@')[0], u.id]));
    const subjects = (await store.subjects.list(org.id, { limit: 100, offset: 0 })).items;
    expect(subjects.map((s) => [s.code, s.name, s.teacherIds])).to.deep.equal([
      ['BIO201', 'Biology, Advanced', []],
      ['MATH101', 'Algebra I', [id['ada']]],
    ]);
    expect((await store.subjects.listEnrolled(org.id, subjects[1]!.id)).sort()).to.deep.equal([id['ben'], id['cleo']].sort());
    expect(await store.subjects.listEnrolled(org.id, subjects[0]!.id)).to.deep.equal([id['ben']]);
    const [term] = await store.oneroster.getMany(org.id, 'academicSession', ['term-1']);
    expect(term!.data).to.include({ title: 'Fall 2026', startDate: '2026-09-01', endDate: '2026-12-20' });
    const [cls] = await store.oneroster.getMany(org.id, 'class', ['cls-1']);
    expect([cls!.entityId, cls!.data['terms']]).to.deep.equal([subjects[1]!.id, 'term-1']);
    const audit = await store.reports.audit(org.id, { entityType: 'organisation', entityId: org.id, limit: 10, offset: 0 });
    expect(audit.items.map((e) => e.action)).to.deep.equal(['oneroster.import']);
  });

  it('a second run of the same bundle changes nothing and reports every imported row unchanged', async () => {
    await importer.run(admin, sampleBundle(), { dryRun: false });
    const after1 = await snapshot(store, org.id);
    const second = await importer.run(admin, sampleBundle(), { dryRun: false });
    expect(second.rows.filter((r) => !['unchanged', 'skipped', 'error'].includes(r.action))).to.deep.equal([]);
    expect(counts(second).users).to.deep.equal({ created: 0, updated: 0, unchanged: 3, skipped: 1, error: 1 });
    expect(counts(second).enrollments).to.deep.equal({ created: 0, updated: 0, unchanged: 4, skipped: 1, error: 1 });
    const after2 = await snapshot(store, org.id);
    // Only the run's own audit entry is new.
    expect({ ...after2, audit: after2.audit - 1 }).to.deep.equal(after1);
  });

  it('updates what the school system changed and links an existing account by its email', async () => {
    const existing = await store.users.create(org.id, {
      name: 'Benjamin Ng',
      email: 'ben@springfield.test',
      role: 'student',
      studentNumber: 'S001',
      passwordHash: 'x',
      active: true,
    });
    const first = await importer.run(admin, sampleBundle(), { dryRun: false });
    expect(first.rows.find((r) => r.sourcedId === 's-1')).to.deep.include({ action: 'updated', reason: 'changes name' });
    expect((await store.users.get(org.id, existing.id))!.name).to.equal('Ben Ng');

    const changed = USER_ROWS.map((r) =>
      r[0] === 's-2' ? userRow('s-2', 'student', 'Cleo', 'Diaz-Ruiz', 'S002', 'cleo@springfield.test', 'false') : r,
    );
    const second = await importer.run(admin, sampleBundle(changed), { dryRun: false });
    expect(second.rows.filter((r) => r.action === 'updated')).to.deep.equal([
      {
        file: 'users',
        line: 4,
        sourcedId: 's-2',
        action: 'updated',
        reason: 'changes name, active',
        problem: { code: 'changesFields', params: { fields: 'name, active' } },
      },
    ]);
    const cleo = await store.users.getByEmail(org.id, 'cleo@springfield.test');
    expect([cleo!.name, cleo!.active]).to.deep.equal(['Cleo Diaz-Ruiz', false]);
  });

  it('skips, in the dry run and the import, the enrolments of a student the bundle or the service deactivated', async () => {
    // The import enrolled them, though every enrol route refuses a deactivated student.
    const disabled = USER_ROWS.map((r) =>
      r[0] === 's-2' ? userRow('s-2', 'student', 'Cleo', 'Diaz', 'S002', 'cleo@springfield.test', 'false') : r,
    );
    const dry = await importer.run(admin, sampleBundle(disabled), { dryRun: true });
    const real = await importer.run(admin, sampleBundle(disabled), { dryRun: false });
    expect({ ...real, dryRun: true }).to.deep.equal(dry);
    expect(real.rows.find((r) => r.sourcedId === 'e-3')).to.deep.equal({
      file: 'enrollments',
      line: 4,
      sourcedId: 'e-3',
      action: 'skipped',
      reason: 'user s-2 is deactivated (enabledUser=false, or in the service): a deactivated student is not enrolled',
      problem: { code: 'studentDeactivated', params: { sourcedId: 's-2' } },
    });
    expect(counts(real).enrollments).to.deep.equal({ created: 3, updated: 0, unchanged: 0, skipped: 2, error: 1 });
    const ids = new Map((await store.users.list(org.id, { limit: 100, offset: 0 })).items.map((u) => [u.email, u.id]));
    const [algebra] = await store.oneroster.getMany(org.id, 'class', ['cls-1']);
    expect(await store.subjects.listEnrolled(org.id, algebra!.entityId!)).to.deep.equal([ids.get('ben@springfield.test')]);
    expect(ids.has('cleo@springfield.test')).to.equal(true);

    // A bundle of enrollments only reads the deactivated account from the service (an earlier import).
    const later = await importer.run(
      admin,
      { enrollments: 'sourcedId,classSourcedId,userSourcedId,role\r\ne-9,cls-2,s-2,student\r\ne-10,cls-1,s-1,student\r\n' },
      { dryRun: false },
    );
    expect(byFile(later, 'enrollments')).to.deep.equal([
      ['e-9', 'skipped'],
      ['e-10', 'unchanged'],
    ]);
  });

  it('a student another admin deactivates after the enrollments were checked is not enrolled, and the row says so', async () => {
    // The store's enrolMany, preceded once by another admin deactivating Cleo (s-2): after this
    // import checked the rows, before it writes them.
    let raced = false;
    const racingSubjects = Object.create(store.subjects) as Store['subjects'];
    racingSubjects.enrolMany = async (orgId, bySubject, entry) => {
      if (!raced) {
        raced = true;
        const cleo = await store.users.getByEmail(org.id, 'cleo@springfield.test');
        await store.users.update(org.id, cleo!.id, { active: false });
      }
      return store.subjects.enrolMany(orgId, bySubject, entry);
    };
    const events = { publish: () => undefined };
    const clock = () => T;
    const racing = new OneRosterImport({
      store,
      users: new UserService({ store, passwords: cheapPasswordHasher(), clock, events }),
      subjects: new SubjectService({ store: { ...store, subjects: racingSubjects }, clock, events }),
      clock,
    });
    const report = await racing.run(admin, sampleBundle(), { dryRun: false });
    expect(raced).to.equal(true);
    expect(report.rows.find((r) => r.sourcedId === 'e-3')).to.deep.include({
      action: 'skipped',
      problem: { code: 'studentDeactivated', params: { sourcedId: 's-2' } },
    });
    expect(counts(report).enrollments).to.deep.equal({ created: 3, updated: 0, unchanged: 0, skipped: 2, error: 1 });
    const ids = new Map((await store.users.list(org.id, { limit: 100, offset: 0 })).items.map((u) => [u.email, u.id]));
    const [algebra] = await store.oneroster.getMany(org.id, 'class', ['cls-1']);
    expect(await store.subjects.listEnrolled(org.id, algebra!.entityId!)).to.deep.equal([ids.get('ben@springfield.test')]);
  });

  it('a class another admin archives after the enrollments were checked enrols nobody, and each of its rows says so', async () => {
    // The store's enrolMany, preceded once by another admin archiving Algebra (cls-1).
    let raced = false;
    const racingSubjects = Object.create(store.subjects) as Store['subjects'];
    racingSubjects.enrolMany = async (orgId, bySubject, entry) => {
      if (!raced) {
        raced = true;
        const [algebra] = await store.oneroster.getMany(org.id, 'class', ['cls-1']);
        await store.subjects.update(org.id, algebra!.entityId!, { archivedAt: T });
      }
      return store.subjects.enrolMany(orgId, bySubject, entry);
    };
    const events = { publish: () => undefined };
    const clock = () => T;
    const racing = new OneRosterImport({
      store,
      users: new UserService({ store, passwords: cheapPasswordHasher(), clock, events }),
      subjects: new SubjectService({ store: { ...store, subjects: racingSubjects }, clock, events }),
      clock,
    });
    const report = await racing.run(admin, sampleBundle(), { dryRun: false });
    expect(raced).to.equal(true);
    for (const sourcedId of ['e-2', 'e-3'])
      expect(report.rows.find((r) => r.sourcedId === sourcedId)).to.deep.include({
        action: 'error',
        problem: { code: 'classGoneSince', params: {} },
      });
    expect(report.rows.find((r) => r.sourcedId === 'e-4')).to.deep.include({ action: 'created' });
    const [algebra] = await store.oneroster.getMany(org.id, 'class', ['cls-1']);
    expect(await store.subjects.listEnrolled(org.id, algebra!.entityId!)).to.deep.equal([]);
  });

  it('links a class to the subject of its exact code when more than 100 other codes contain it', async () => {
    // A-BIO201-0..100 contain BIO201 and sort before it: the subject list's capped search missed it.
    for (let i = 0; i <= 100; i += 1)
      await store.subjects.create(org.id, {
        code: `A-BIO201-${i}`,
        name: `Other ${i}`,
        teacherIds: [],
        location: null,
        allowedIpRanges: [],
      });
    const bio = await store.subjects.create(org.id, {
      code: 'BIO201',
      name: 'Biology',
      teacherIds: [],
      location: null,
      allowedIpRanges: [],
    });
    const report = await importer.run(admin, sampleBundle(), { dryRun: false });
    expect(report.rows.find((r) => r.sourcedId === 'cls-2')).to.deep.include({ action: 'updated', reason: 'changes name' });
    const [link] = await store.oneroster.getMany(org.id, 'class', ['cls-2']);
    expect(link?.entityId).to.equal(bio.id);
    expect((await store.subjects.get(org.id, bio.id))!.name).to.equal('Biology, Advanced');
  });

  it("enrols a school's new students in its classes checking them with one read, not one per class", async () => {
    // On MongoDB each users.getMany of a class's students was a scan of the users: 20 classes of
    // a 1,000-student import spent 3.6 of its 7 s there (scripts/bench-bulk.ts --ms-by-method).
    const counted = countStoreCalls(store);
    const clock = () => T;
    const events = { publish: () => undefined };
    const counting = new OneRosterImport({
      store: counted.store,
      users: new UserService({ store: counted.store, passwords: cheapPasswordHasher(), clock, events }),
      subjects: new SubjectService({ store: counted.store, clock, events }),
      clock,
    });
    const n = 60;
    const rows = Array.from({ length: n }, (_, i) => `n-${i},true,student,new${i},Given${i},Family${i},NEW${i},new${i}@school.test`);
    const bundle = {
      users: `sourcedId,enabledUser,role,username,givenName,familyName,identifier,email\n${rows.join('\n')}\n`,
      classes: `sourcedId,title,classCode,termSourcedIds\n${Array.from({ length: 6 }, (_, k) => `cls-${k},Class ${k},NEW${k},`).join('\n')}\n`,
      enrollments: `sourcedId,classSourcedId,userSourcedId,role\n${Array.from({ length: n }, (_, i) => `e-${i},cls-${i % 6},n-${i},student`).join('\n')}\n`,
    };
    const report = await counting.run(admin, bundle, { dryRun: false });
    expect(counts(report)['enrollments']).to.include({ created: n, error: 0 });
    expect(counted.counts.get('users.getMany') ?? 0, 'users.getMany').to.be.at.most(1);
    // One store write for all its classes: on MongoDB one read of the students for all of them.
    expect(counted.counts.get('subjects.enrol') ?? 0, 'subjects.enrol').to.equal(0);
    expect(counted.counts.get('subjects.enrolMany'), 'subjects.enrolMany').to.equal(1);
    const subjects = (await store.subjects.list(org.id, { limit: 100, offset: 0 })).items;
    expect((await Promise.all(subjects.map((s) => store.subjects.listEnrolled(org.id, s.id)))).map((l) => l.length)).to.deep.equal(
      Array.from({ length: 6 }, () => n / 6),
    );
  });

  it('refuses a bundle whose file lacks a column the import reads, or a delta manifest, writing nothing', async () => {
    const before = await snapshot(store, org.id);
    const bundle = sampleBundle();
    const bad = { ...bundle, users: bundle.users!.replace('givenName', 'firstName') };
    const err = await importer.run(admin, bad, { dryRun: false }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(AppError);
    expect((err as AppError).details).to.deep.equal({
      files: [
        {
          file: 'users.csv',
          line: 1,
          reason: 'missing column(s): givenName',
          problem: { code: 'missingColumns', params: { columns: 'givenName' } },
        },
      ],
    });
    const delta = { ...bundle, manifest: bundle.manifest!.replace('file.users,bulk', 'file.users,delta') };
    expect(((await importer.run(admin, delta, { dryRun: false }).catch((e: unknown) => e)) as AppError).code).to.equal('VALIDATION_FAILED');
    expect(await snapshot(store, org.id)).to.deep.equal(before);
  });

  it('only an admin imports', async () => {
    const err = await importer.run({ ...admin, role: 'teacher' }, sampleBundle(), { dryRun: true }).catch((e: unknown) => e);
    expect((err as AppError).code).to.equal('FORBIDDEN');
  });

  it('exports one row per student per settled session with the sourcedIds of the class and the student', async () => {
    await importer.run(admin, sampleBundle(), { dryRun: false });
    const math = (await store.subjects.list(org.id, { q: 'MATH101', limit: 1, offset: 0 })).items[0]!;
    const [ben, cleo] = await Promise.all(['ben', 'cleo'].map((n) => store.users.getByEmail(org.id, `${n}@springfield.test`)));
    const start = new Date('2026-09-08T14:00:00.000Z');
    const session = await store.sessions.create(org.id, {
      subjectId: math.id,
      teacherId: math.teacherIds[0]!,
      status: 'open',
      policy: POLICY,
      startsAt: start,
      lateAfter: new Date(start.getTime() + 600_000),
      closesAt: new Date(start.getTime() + 3_600_000),
      codeSecret: 'x',
      day: '2026-09-08',
    });
    const record = (studentId: string, status: 'present' | 'absent', submittedAt: Date | null) => ({
      orgId: org.id,
      sessionId: session.id,
      subjectId: math.id,
      studentId,
      status,
      reason: status === 'absent' ? ('NO_CHECKIN' as const) : null,
      flags: [],
      distanceM: null,
      location: null,
      ip: null,
      attempts: 1,
      submittedAt,
      decidedAt: null,
      decidedBy: null,
      note: null,
      verification: null,
    });
    await store.records.insertIfAbsent(org.id, record(ben!.id, 'present', new Date('2026-09-08T14:03:00.000Z')));
    await store.records.insertIfAbsent(org.id, record(cleo!.id, 'absent', null));
    const exporter = new OneRosterAttendanceExport({ store, defaultTimezone: 'UTC' });

    const collect = async () => {
      const rows: AttendanceRow[] = [];
      for await (const chunk of await exporter.open(admin, { from: '2026-09-01', to: '2026-09-30' })) rows.push(...chunk);
      return rows;
    };
    // An open session is not settled: nothing yet.
    expect(await collect()).to.deep.equal([]);
    await store.sessions.transition(org.id, session.id, ['open'], {
      status: 'closed',
      closedAt: new Date(start.getTime() + 3_600_000),
      closedBy: null,
    });
    expect(await collect()).to.deep.equal([
      {
        classSourcedId: 'cls-1',
        classCode: 'MATH101',
        sessionId: session.id,
        sessionDate: '2026-09-08',
        sessionStart: '2026-09-08T09:00:00-05:00',
        userSourcedId: 's-1',
        studentNumber: 'S001',
        status: 'present',
        reason: null,
        checkedInAt: '2026-09-08T09:03:00-05:00',
      },
      {
        classSourcedId: 'cls-1',
        classCode: 'MATH101',
        sessionId: session.id,
        sessionDate: '2026-09-08',
        sessionStart: '2026-09-08T09:00:00-05:00',
        userSourcedId: 's-2',
        studentNumber: 'S002',
        status: 'absent',
        reason: 'NO_CHECKIN',
        checkedInAt: null,
      },
    ]);
  });
});

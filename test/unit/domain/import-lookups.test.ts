import { expect } from 'chai';
import type { Actor } from '../../../src/domain/actor.js';
import { GuardianService } from '../../../src/domain/guardians/guardian-service.js';
import type { Store } from '../../../src/domain/ports/store.js';
import type { NewUser } from '../../../src/domain/ports/users.js';
import { CsvUserImport } from '../../../src/domain/users/csv-import.js';
import { LOOKUP_CHUNK } from '../../../src/domain/users/user-lookup.js';
import { OneRosterImport, type ImportReport } from '../../../src/domain/oneroster/oneroster-import.js';
import { SubjectService } from '../../../src/domain/subjects/subject-service.js';
import { UserService } from '../../../src/domain/users/user-service.js';
import { sampleBundle, userRow, USER_ROWS } from '../../support/oneroster-bundle.js';
import { AppError } from '../../../src/shared/app-error.js';
import { createSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { cheapPasswordHasher } from '../../support/passwords.js';

const T = new Date('2026-09-07T08:00:00.000Z');
const student = (name: string, studentNumber: string): NewUser => ({
  name,
  email: `${studentNumber}@school.test`,
  role: 'student',
  studentNumber,
  passwordHash: null,
  active: true,
});

/** The store with its user reads (and `oneroster.*` as `oneroster.<method>`) counted, to tell a query per chunk from a query per row. */
function counting(store: Store): { store: Store; calls: Record<string, number> } {
  const calls: Record<string, number> = {};
  const counted = <T extends object>(repo: T, prefix: string): T =>
    new Proxy(repo, {
      get(target, key: string) {
        const value = Reflect.get(target, key) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          calls[prefix + key] = (calls[prefix + key] ?? 0) + 1;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  return {
    store: {
      ...store,
      users: counted(store.users, ''),
      oneroster: counted(store.oneroster, 'oneroster.'),
      subjects: counted(store.subjects, 'subjects.'),
    } as Store,
    calls,
  };
}

/** The OneRoster import over `store`, with the services it creates and changes accounts through. */
function oneRosterImport(store: Store): OneRosterImport {
  const clock = () => T;
  const events = { publish: () => undefined };
  return new OneRosterImport({
    store,
    users: new UserService({ store, passwords: cheapPasswordHasher(), clock, events }),
    subjects: new SubjectService({ store, clock, events }),
    clock,
  });
}

describe('Imports resolve their rows exactly, a query per chunk', () => {
  let store: Store;
  let admin: Actor;

  beforeEach(async () => {
    store = await createSqliteStore({ path: ':memory:', now: () => T });
    const org = await store.organisations.create({ name: 'Big school', slug: 'big', timezone: 'UTC' });
    const a = await store.users.create(org.id, {
      ...student('Admin', 'x'),
      email: 'admin@school.test',
      role: 'admin',
      studentNumber: null,
    });
    admin = { id: a.id, orgId: org.id, role: 'admin', ip: null };
  });

  it('guardian CSV finds a student number that more than 50 other numbers contain', async () => {
    // 1000 is a substring of 10000..100059, whose names sort before the one it belongs to.
    await store.users.createMany(admin.orgId, [
      ...Array.from({ length: 60 }, (_, i) => student(`Aaron ${String(i).padStart(2, '0')}`, `1000${i}`)),
      student('Zoe', '1000'),
    ]);
    const zoe = (await store.users.getByStudentNumbers(admin.orgId, ['1000']))[0]!;
    const guardians = new GuardianService({ store, clock: () => T });
    const result = await guardians.importCsv(admin, 'student_number,name,relation,email\n1000,Mia,mother,mia@example.test\n');
    expect(result).to.deep.equal({ students: 1, contacts: 1 });
    expect((await store.guardians.get(admin.orgId, zoe.id)).map((c) => c.name)).to.deep.equal(['Mia']);
  });

  it('guardian CSV looks students up a chunk at a time, and refuses a number two students share', async () => {
    const n = LOOKUP_CHUNK + 20;
    await store.users.createMany(admin.orgId, [
      ...Array.from({ length: n }, (_, i) => student(`S${i}`, `S${i}`)),
      { ...student('Twin', 'S0'), email: 'twin@school.test' },
    ]);
    const { store: counted, calls } = counting(store);
    const guardians = new GuardianService({ store: counted, clock: () => T });
    const rows = Array.from({ length: n - 1 }, (_, i) => `S${i + 1},G${i},parent,g${i}@example.test`);
    const result = await guardians.importCsv(admin, `student_number,name,relation,email\n${rows.join('\n')}\n`);
    expect(result.students).to.equal(n - 1);
    expect(calls.getByStudentNumbers).to.equal(2);
    expect(calls.list ?? 0).to.equal(0);

    const err = await guardians
      .importCsv(admin, 'student_number,name,relation,email\nS0,Mia,mother,mia@example.test\n')
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(AppError);
    expect((err as AppError).details).to.deep.equal({
      rows: [
        {
          line: 2,
          reason: 'student number is shared by 2 students; use student_email',
          problems: [{ code: 'studentNumberShared', params: { count: 2 } }],
        },
      ],
      rowsInvalid: 1,
      problemCounts: { studentNumberShared: 1 },
      lines: [2],
    });
  });

  it('students CSV checks taken emails a chunk at a time', async () => {
    await store.users.create(admin.orgId, student('Old', 'S-old'));
    const { store: counted, calls } = counting(store);
    const importer = new CsvUserImport({ store: counted, passwords: cheapPasswordHasher(), clock: () => T });
    const n = LOOKUP_CHUNK + 20;
    const rows = Array.from({ length: n }, (_, i) => `N${i},n${i}@school.test,student,N${i}`);
    const ok = await importer.run(admin, `name,email,role,student_number\n${rows.join('\n')}\n`, { dryRun: true });
    expect(ok.checked).to.equal(n);
    expect(calls.getByEmails).to.equal(2);
    expect(calls.getByEmail ?? 0).to.equal(0);

    const err = await importer
      .run(admin, `name,email,role,student_number\n${rows[0]}\nOld,S-OLD@school.test,student,S9\n`)
      .catch((e: unknown) => e);
    expect((err as AppError).details).to.deep.equal({
      rows: [
        {
          line: 3,
          email: 's-old@school.test',
          reason: 'email is already taken in this organisation',
          problems: [{ code: 'emailTaken', params: {}, column: 'email' }],
        },
      ],
      rowsInvalid: 1,
      problemCounts: { emailTaken: 1 },
      lines: [3],
    });
  });

  it('OneRoster users step reads its accounts a chunk at a time: linking existing accounts by email, and a re-import', async () => {
    const n = LOOKUP_CHUNK + 20;
    await store.users.createMany(
      admin.orgId,
      Array.from({ length: n }, (_, i) => student(`Given${i} Family${i}`, `N${i}`)),
    );
    const rows = Array.from({ length: n }, (_, i) => userRow(`u-${i}`, 'student', `Given${i}`, `Family${i}`, `N${i}`, `N${i}@school.test`));
    const { store: counted, calls } = counting(store);
    const importer = oneRosterImport(counted);
    const users = (r: ImportReport) => r.files.users;

    const linked = await importer.run(admin, sampleBundle(rows), { dryRun: false });
    expect(users(linked)).to.include({ updated: n, created: 0, error: 0 });
    expect(calls).to.include({ getByEmails: 2, 'oneroster.getByEntities': 2 });
    expect([calls.getByEmail ?? 0, calls.get ?? 0]).to.deep.equal([0, 0]);

    for (const k of Object.keys(calls)) delete calls[k];
    const again = await importer.run(admin, sampleBundle(rows), { dryRun: false });
    expect(users(again)).to.include({ unchanged: n, error: 0 });
    // Two chunks of linked accounts; the enrollments step names none linked, so reads none.
    expect(calls.getMany).to.equal(2);
    expect([calls.getByEmail ?? 0, calls.get ?? 0, calls['oneroster.getByEntities'] ?? 0]).to.deep.equal([0, 0, 0]);
  });

  it('OneRoster users step sees the accounts its earlier rows changed', async () => {
    const { store: counted } = counting(store);
    const importer = oneRosterImport(counted);
    const first = [userRow('u-1', 'student', 'Ann', 'Lee', 'N1', 'ann@school.test')];
    await importer.run(admin, sampleBundle(first), { dryRun: false });
    // u-1 moves to a new address, and a new student takes the old one, later in the same file.
    const second = [
      userRow('u-1', 'student', 'Ann', 'Lee', 'N1', 'ann.lee@school.test'),
      userRow('u-2', 'student', 'Bo', 'Kim', 'N2', 'ann@school.test'),
    ];
    const report = await importer.run(admin, sampleBundle(second), { dryRun: false });
    expect(report.rows.filter((r) => r.file === 'users').map((r) => [r.sourcedId, r.action])).to.deep.equal([
      ['u-1', 'updated'],
      ['u-2', 'created'],
    ]);
    const holders = await store.users.getByEmails(admin.orgId, ['ann@school.test', 'ann.lee@school.test']);
    expect(holders.map((u) => [u.email, u.name]).sort()).to.deep.equal([
      ['ann.lee@school.test', 'Ann Lee'],
      ['ann@school.test', 'Bo Kim'],
    ]);
  });

  it("OneRoster import creates its new accounts and their links a chunk per store call, and reads the classes' subjects in bulk", async () => {
    const n = LOOKUP_CHUNK + 20;
    const rows = [
      ...USER_ROWS,
      ...Array.from({ length: n }, (_, i) => userRow(`n-${i}`, 'student', `New${i}`, `Kid${i}`, `M${i}`, `m${i}@school.test`)),
    ];
    rows.push(userRow('n-off', 'student', 'Off', 'Line', 'M-off', 'off@school.test', 'false'));
    const { store: counted, calls } = counting(store);
    const importer = oneRosterImport(counted);

    const first = await importer.run(admin, sampleBundle(rows), { dryRun: false });
    // The sample's teacher and two good students, the new ones and the deactivated one.
    expect(first.files.users).to.include({ created: 3 + n + 1, error: 1 });
    expect(first.files.enrollments).to.include({ created: 4, error: 1 });
    expect([calls.create ?? 0, calls.createMany ?? 0, calls.createEach, calls['oneroster.putMany']]).to.deep.equal([0, 0, 2, 2 + 1]);
    // The org's and the term's objects (put per row, a few), no link per row.
    expect(calls['oneroster.put']).to.equal(2);
    // The subject service's own reads of the classes it enrols into and gives a teacher (three
    // writes), none per row; the classes' subjects in one read.
    expect([calls['subjects.get'] ?? 0, calls['subjects.getMany']]).to.deep.equal([3, 1]);
    const off = await store.users.getByEmail(admin.orgId, 'off@school.test');
    expect(off?.active).to.equal(false);
    const linked = await store.oneroster.getMany(admin.orgId, 'user', ['n-0', `n-${n - 1}`, 'n-off']);
    expect(linked.map((o) => o.entityId).every((id) => typeof id === 'string')).to.equal(true);

    for (const k of Object.keys(calls)) delete calls[k];
    const again = await importer.run(admin, sampleBundle(rows), { dryRun: false });
    expect(again.files.users).to.include({ unchanged: 3 + n + 1, created: 0, updated: 0, error: 1 });
    expect(again.files.classes).to.include({ unchanged: 2 });
    expect([calls.createEach ?? 0, calls['oneroster.putMany'] ?? 0, calls['subjects.get'] ?? 0]).to.deep.equal([0, 0, 0]);
  });

  it('OneRoster import reports the one row whose email was taken meanwhile, and creates and links the others of its chunk in one call', async () => {
    const rows = Array.from({ length: 5 }, (_, i) => userRow(`n-${i}`, 'student', `New${i}`, `Kid${i}`, `M${i}`, `m${i}@school.test`));
    const createEach = store.users.createEach.bind(store.users);
    let raced = false;
    store.users.createEach = async (orgId, inputs) => {
      if (!raced) {
        raced = true;
        await store.users.createMany(orgId, [student('Someone Else', 'X9'), { ...student('Taker', 'X3'), email: 'm3@school.test' }]);
      }
      return createEach(orgId, inputs);
    };
    const { store: counted, calls } = counting(store);
    const report = await oneRosterImport(counted).run(admin, sampleBundle(rows), { dryRun: false });
    // The chunk refused one row, not as a whole: it was not written again row by row.
    expect([calls.createEach, calls.createMany ?? 0]).to.deep.equal([1, 0]);
    expect(report.rows.filter((r) => r.file === 'users').map((r) => [r.sourcedId, r.action, r.reason])).to.deep.equal([
      ['n-0', 'created', null],
      ['n-1', 'created', null],
      ['n-2', 'created', null],
      ['n-3', 'error', 'A user with this email already exists.'],
      ['n-4', 'created', null],
    ]);
    const links = await store.oneroster.getMany(admin.orgId, 'user', ['n-0', 'n-1', 'n-2', 'n-3', 'n-4']);
    expect(links.map((o) => o.sourcedId)).to.deep.equal(['n-0', 'n-1', 'n-2', 'n-4']);
    expect((await store.users.getByEmail(admin.orgId, 'm3@school.test'))?.name).to.equal('Taker');
  });
});

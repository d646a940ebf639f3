import { expect } from 'chai';
import type { Actor } from '../../../src/domain/actor.js';
import { GuardianService } from '../../../src/domain/guardians/guardian-service.js';
import type { Store } from '../../../src/domain/ports/store.js';
import { CsvUserImport } from '../../../src/domain/users/csv-import.js';
import { LISTED_ROWS_MAX } from '../../../src/domain/csv-table.js';
import { AppError } from '../../../src/shared/app-error.js';
import { createSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { cheapPasswordHasher } from '../../support/passwords.js';
import { newUser } from '../../contract/fixtures.js';

const T = new Date('2026-09-07T08:00:00.000Z');
/** Cells an admin's file may hold that no refusal may give back: markup, and a pupil's personal data. */
const MARKUP = '<img src=x onerror=alert(1)>';
const PERSONAL = 'Lea Martin born 2014-03-02 allergic to peanuts';
const LONG = 'x'.repeat(100_000);

async function refusal(run: () => Promise<unknown>): Promise<AppError> {
  try {
    await run();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected the file to be refused');
}

describe('CSV import refusals name the row, the column and the problem, never a cell', () => {
  let store: Store;
  let admin: Actor;

  beforeEach(async () => {
    store = await createSqliteStore({ path: ':memory:', now: () => T });
    const org = await store.organisations.create({ name: 'School', slug: 'school', timezone: 'UTC' });
    const [user] = await store.users.createMany(org.id, [
      newUser({ role: 'admin', studentNumber: null }),
      newUser({ studentNumber: 'S1' }),
    ]);
    admin = { id: user!.id, orgId: org.id, role: 'admin', ip: null };
  });
  afterEach(async () => store.close());

  it('a users CSV: bad email and role cells are reported by line and column, their content not quoted, each row bounded', async () => {
    const importer = new CsvUserImport({ store, passwords: cheapPasswordHasher(), clock: () => T });
    const csv = [
      'name,email,role,student_number',
      `Ann,"${MARKUP}@x",student,S2`,
      `Bob,bob@school.test,"${PERSONAL}",S3`,
      `Cy,${LONG},student,S4`,
      `Di,di@school.test,${MARKUP},S5`,
    ].join('\n');
    const err = await refusal(() => importer.run(admin, csv, { dryRun: true }));
    const rows = err.details?.['rows'] as Array<Record<string, unknown>>;
    expect(rows.map((r) => [r['line'], r['email'], r['problems']])).to.deep.equal([
      [2, null, [{ code: 'emailInvalid', params: {}, column: 'email' }]],
      [3, 'bob@school.test', [{ code: 'roleUnknown', params: {}, column: 'role' }]],
      [4, null, [{ code: 'emailInvalid', params: {}, column: 'email' }]],
      [5, 'di@school.test', [{ code: 'roleUnknown', params: {}, column: 'role' }]],
    ]);
    const told = JSON.stringify({ message: err.message, details: err.details });
    for (const cell of [MARKUP, PERSONAL, 'onerror', 'peanuts', 'xxxxxxxxxx']) expect(told).not.to.include(cell);
    for (const row of rows) expect(JSON.stringify(row).length).to.be.below(300);
  });

  it('a guardian contacts CSV: bad email and language cells are reported by line and column, their content not quoted', async () => {
    const guardians = new GuardianService({ store, clock: () => T });
    const csv = [
      'student_number,name,relation,email,language',
      `S1,Mia,mother,"${PERSONAL}",fr`,
      `S1,Max,father,max@example.test,"${MARKUP}"`,
    ].join('\n');
    const err = await refusal(() => guardians.importCsv(admin, csv));
    const rows = err.details?.['rows'] as Array<Record<string, unknown>>;
    expect(rows.map((r) => [r['line'], r['problems']])).to.deep.equal([
      [2, [{ code: 'emailInvalid', params: {}, column: 'email' }]],
      [3, [{ code: 'contactLanguage', params: {}, column: 'language' }]],
    ]);
    const told = JSON.stringify({ message: err.message, details: err.details });
    for (const cell of [MARKUP, PERSONAL, 'onerror', 'peanuts']) expect(told).not.to.include(cell);
  });

  it('a file bad in every row lists only the first rows, then counts by problem, with every bad line for the rest', async () => {
    const importer = new CsvUserImport({ store, passwords: cheapPasswordHasher(), clock: () => T });
    const bad = LISTED_ROWS_MAX * 3;
    const users = ['name,email,role,student_number', ...Array.from({ length: bad }, (_, i) => `P${i},p${i}@school.test,pupil,N${i}`)];
    const guardians = ['student_number,name,relation,email', ...Array.from({ length: bad }, (_, i) => `S1,G${i},aunt,not-an-email`)];
    for (const run of [
      () => importer.run(admin, users.join('\n'), { dryRun: true }),
      () => new GuardianService({ store, clock: () => T }).importCsv(admin, guardians.join('\n')),
    ]) {
      const err = await refusal(run);
      const details = err.details as { rows: Array<{ line: number }>; rowsInvalid: number; problemCounts: object; lines: number[] };
      const code = details.rows[0] && 'email' in details.rows[0] ? 'roleUnknown' : 'emailInvalid';
      expect({
        listed: details.rows.map((r) => r.line),
        rowsInvalid: details.rowsInvalid,
        problemCounts: details.problemCounts,
        lines: details.lines,
      }).to.deep.equal({
        listed: Array.from({ length: LISTED_ROWS_MAX }, (_, i) => i + 2),
        rowsInvalid: bad,
        problemCounts: { [code]: bad },
        lines: Array.from({ length: bad }, (_, i) => i + 2),
      });
      expect(err.message).to.equal(`${bad} row(s) are invalid; nothing was imported.`);
    }
  });
});

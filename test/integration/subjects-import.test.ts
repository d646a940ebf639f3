import { expect } from 'chai';
import type { Organisation } from '../../src/domain/ports/organisations.js';
import type { User } from '../../src/domain/ports/users.js';
import { createOrg, createUser, PASSWORD } from '../support/fixtures.js';
import { refusal, startTestServer, type TestServer } from '../support/http.js';

const API = '/api/v1';
const HEADER = 'code,name,teacher_email,co_teacher_emails,student_numbers';

describe('POST /subjects/import: a year’s subjects from CSV over HTTP', () => {
  let srv: TestServer;
  let org: Organisation;
  let admin: string;
  let teacher: User;
  let colleague: User;
  let students: User[];

  beforeEach(async () => {
    srv = await startTestServer();
    org = await createOrg(srv.store);
    const adminUser = await createUser(srv.store, org.id, 'admin');
    admin = (await srv.login(adminUser.email, PASSWORD)).accessToken;
    teacher = await createUser(srv.store, org.id, 'teacher');
    colleague = await createUser(srv.store, org.id, 'teacher');
    students = [await createUser(srv.store, org.id, 'student'), await createUser(srv.store, org.id, 'student')];
  });
  afterEach(() => srv.cleanup());

  const subjectCodes = async (orgId: string) =>
    (await srv.store.subjects.list(orgId, { limit: 100, offset: 0 })).items.map((s) => s.code).sort();
  const post = (token: string, csv: string, dryRun = false) =>
    srv.request('POST', `${API}/subjects/import${dryRun ? '?dryRun=true' : ''}`, { token, raw: csv, contentType: 'text/csv' });
  const goodCsv = () =>
    [
      HEADER,
      `MATH-7A,Maths 7A,${teacher.email},${colleague.email},"${students[0]!.studentNumber} ${students[1]!.studentNumber}"`,
      `HIST-7A,History 7A,${colleague.email},,${students[0]!.studentNumber}`,
    ].join('\n');

  it('a dry run checks the file and writes nothing; the import then creates, enrols and audits', async () => {
    const checked = await post(admin, goodCsv(), true);
    expect(checked.status).to.equal(200);
    expect(checked.body).to.deep.equal({ created: 0, enrolled: 0, subjects: [], checked: 2, refused: [], studentsRefused: [] });
    expect(await subjectCodes(org.id)).to.deep.equal([]);

    const imported = await post(admin, goodCsv());
    expect(imported.status).to.equal(201);
    expect(imported.body).to.include({ created: 2, enrolled: 3, checked: 2 });
    const math = (imported.body.subjects as Array<{ id: string; code: string; teacherIds: string[] }>).find((s) => s.code === 'MATH-7A')!;
    expect(math.teacherIds).to.deep.equal([teacher.id, colleague.id]);
    const roster = await srv.request('GET', `${API}/subjects/${math.id}/students`, { token: admin });
    expect(roster.body.total).to.equal(2);
    const trail = await srv.store.audit.listForEntity(org.id, 'subject', math.id);
    expect(trail.map((e) => e.action).sort()).to.deep.equal(['subject.create', 'subject.enrol']);
  });

  it('refuses a bad file whole, by line, on a dry run as on the import, and writes nothing', async () => {
    await post(admin, goodCsv());
    const bad = [HEADER, `NEW-1,New,${teacher.email},,`, `MATH-7A,Again,${teacher.email},,`, `NEW-2,New,${students[0]!.email},,`].join(
      '\n',
    );
    for (const dryRun of [true, false]) {
      const res = await post(admin, bad, dryRun);
      expect(refusal(res)).to.deep.equal([400, 'VALIDATION_FAILED']);
      expect(res.body.error.details.lines).to.deep.equal([3, 4]);
      expect(res.body.error.details.rows.map((r: { line: number; code: string }) => [r.line, r.code])).to.deep.equal([
        [3, 'MATH-7A'],
        [4, 'NEW-2'],
      ]);
    }
    expect(await subjectCodes(org.id)).to.deep.equal(['HIST-7A', 'MATH-7A']);
  });

  it('refuses a file that is not UTF-8 with the line of its first undecoded letter', async () => {
    const latin1 = Buffer.from(`${HEADER}\nFR-1,Fran\xe7ais,,,\n`, 'latin1');
    const res = await srv.request('POST', `${API}/subjects/import?dryRun=true`, {
      token: admin,
      raw: latin1.toString('utf8'),
      contentType: 'text/csv',
    });
    expect(refusal(res)).to.deep.equal([400, 'VALIDATION_FAILED']);
    expect(
      res.body.error.details.rows.map((r: { line: number; problems: Array<{ code: string }> }) => [r.line, r.problems[0]!.code]),
    ).to.deep.equal([[2, 'notUtf8']]);
  });

  it('a teacher is refused; another organisation’s admin reaches none of this one’s teachers or subjects', async () => {
    const asTeacher = await post((await srv.login(teacher.email, PASSWORD)).accessToken, goodCsv());
    expect(refusal(asTeacher)).to.deep.equal([403, 'FORBIDDEN']);

    const other = await createOrg(srv.store);
    const otherAdmin = await createUser(srv.store, other.id, 'admin');
    const otherToken = (await srv.login(otherAdmin.email, PASSWORD)).accessToken;
    const across = await post(otherToken, goodCsv());
    expect(refusal(across)).to.deep.equal([400, 'VALIDATION_FAILED']);
    expect(across.body.error.details.problemCounts).to.deep.equal({ teachersUnknown: 2, studentNumbersUnknown: 2 });
    expect(await subjectCodes(other.id)).to.deep.equal([]);
    expect(await subjectCodes(org.id)).to.deep.equal([]);
  });
});

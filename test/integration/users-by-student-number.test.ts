import { expect } from 'chai';
import type { Organisation } from '../../src/domain/ports/organisations.js';
import type { User } from '../../src/domain/ports/users.js';
import { createOrg, createUser, PASSWORD } from '../support/fixtures.js';
import { refusal, startTestServer, type TestServer } from '../support/http.js';

// POST /users/by-student-number: a class list resolved by exact numbers (the admin console's
// enrolment), never by the list's substring search and never by reading every student.
describe('users: found by exact student numbers', function () {
  this.timeout(20_000);
  let srv: TestServer;
  let org: Organisation;
  let token: string;
  let students: User[];

  before(async () => {
    srv = await startTestServer();
    org = await createOrg(srv.store);
    const admin = await createUser(srv.store, org.id, 'admin');
    token = (await srv.login(admin.email, PASSWORD)).accessToken;
    students = [];
    for (const number of ['K7', 'K70', 'K71', 'K8']) {
      const s = await createUser(srv.store, org.id, 'student');
      students.push((await srv.store.users.update(org.id, s.id, { studentNumber: number }))!);
    }
    await srv.store.users.update(org.id, students[3]!.id, { active: false });
    // Another organisation's student with the same number is not theirs to find.
    const other = await createOrg(srv.store);
    const outsider = await createUser(srv.store, other.id, 'student');
    await srv.store.users.update(other.id, outsider.id, { studentNumber: 'K7' });
  });
  after(() => srv.cleanup());

  const find = (studentNumbers: unknown) => srv.request('POST', '/api/v1/users/by-student-number', { token, body: { studentNumbers } });

  it('answers the users holding exactly these numbers, deactivated ones included, in this organisation only', async () => {
    const res = await find(['K7', ' K8 ', 'K', 'NOBODY']);
    expect(res.status).to.equal(200);
    const found = (res.body.items as { id: string; studentNumber: string; active: boolean }[]).map((u) => [u.studentNumber, u.active]);
    expect(found).to.have.deep.members([
      ['K7', true],
      ['K8', false],
    ]);
  });

  it('refuses an empty list and one longer than an enrolment request takes', async () => {
    expect(refusal(await find([]))).to.deep.equal([400, 'VALIDATION_FAILED']);
    expect(refusal(await find(Array.from({ length: 1_001 }, (_, i) => `N${i}`)))).to.deep.equal([400, 'VALIDATION_FAILED']);
    expect((await find(Array.from({ length: 1_000 }, (_, i) => `N${i}`))).status).to.equal(200);
  });
});

import { expect } from 'chai';
import { createOrg, createSubject, createUser } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';

// The API's answers hold personal data (rosters, records, the audit trail, exports). A browser
// keeps what it fetched in its disk cache unless told not to: on a school's shared computer the
// next user, or anyone reading the profile, found the last teacher's class there after logout.
describe('API answers are kept out of caches', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer();
  });
  after(() => srv?.cleanup());

  it('every /api/v1 answer says Cache-Control: no-store, JSON, CSV and refusals alike', async () => {
    const org = await createOrg(srv.store);
    const admin = await createUser(srv.store, org.id, 'admin');
    const teacher = await createUser(srv.store, org.id, 'teacher');
    const student = await createUser(srv.store, org.id, 'student');
    const subject = await createSubject(srv.store, org.id, [teacher.id], [student.id]);
    const token = srv.app.tokenService.signAccess(admin).token;
    for (const path of [
      '/me',
      '/users',
      `/users/${student.id}`,
      `/subjects/${subject.id}/students`,
      '/reports/audit',
      '/attendance.csv?from=2026-03-01&to=2026-03-31',
    ]) {
      const res = await fetch(`${srv.baseUrl}/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
      await res.arrayBuffer();
      expect(res.status, path).to.equal(200);
      expect(res.headers.get('cache-control'), path).to.equal('no-store');
    }
    const refused = await fetch(`${srv.baseUrl}/api/v1/users`);
    await refused.arrayBuffer();
    expect(refused.status).to.equal(401);
    expect(refused.headers.get('cache-control')).to.equal('no-store');
  });
});

import { expect } from 'chai';
import { PASSWORD, createOrg, createSubject, createUser } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';

/**
 * The audit trail keeps each actor's IP address, which the register of processing
 * (docs/privacy.md) gives to admins only. A teacher reads the trail of the subjects they
 * teach (GET /reports/audit and its CSV, by subject, session or record), and there read the
 * addresses of the admins and colleagues who acted on the subject: now blank for them.
 */
describe("the audit trail gives actors' IP addresses to admins only", () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer();
  });
  after(() => srv.cleanup());

  it("a teacher reading their subject's trail gets no address; an admin gets them", async () => {
    const org = await createOrg(srv.store);
    const admin = await createUser(srv.store, org.id, 'admin');
    const teacher = await createUser(srv.store, org.id, 'teacher');
    const subject = await createSubject(srv.store, org.id, [teacher.id], []);
    const adminToken = (await srv.login(admin.email, PASSWORD)).accessToken;
    const teacherToken = (await srv.login(teacher.email, PASSWORD)).accessToken;
    const renamed = await srv.request('PATCH', `/api/v1/subjects/${subject.id}`, {
      token: adminToken,
      body: { name: 'Renamed by the admin' },
    });
    expect(renamed.status).to.equal(200);

    const trail = `entityType=subject&entityId=${subject.id}`;
    const asAdmin = await srv.request('GET', `/api/v1/reports/audit?${trail}`, { token: adminToken });
    const adminEntry = (asAdmin.body.items as { action: string; ip: string | null }[]).find((e) => e.action === 'subject.update');
    expect(adminEntry?.ip, 'the admin sees the address').to.be.a('string').and.not.equal('');

    const asTeacher = await srv.request('GET', `/api/v1/reports/audit?${trail}`, { token: teacherToken });
    expect(asTeacher.status).to.equal(200);
    const entries = asTeacher.body.items as { action: string; ip: string | null }[];
    expect(entries.map((e) => e.action)).to.include('subject.update');
    expect(entries.map((e) => e.ip)).to.satisfy((ips: (string | null)[]) => ips.every((ip) => ip === null));

    const csv = await srv.request('GET', `/api/v1/reports/audit.csv?${trail}`, { token: teacherToken });
    expect(csv.status).to.equal(200);
    expect(csv.body as string).to.not.include(adminEntry!.ip!);
  });
});

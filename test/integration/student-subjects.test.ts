import { expect } from 'chai';
import { createOrg, createUser, PASSWORD } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';

// One student's subjects from the Users page: a leaver taken out of all their subjects in one
// request, all or nothing; a deactivated student enrolled by no route.
describe("a student's subjects (HTTP)", function () {
  let srv: TestServer;

  before(async () => {
    srv = await startTestServer();
  });
  after(() => srv.cleanup());

  async function school() {
    const org = await createOrg(srv.store);
    const other = await createOrg(srv.store);
    const admin = await createUser(srv.store, org.id, 'admin');
    const teacher = await createUser(srv.store, org.id, 'teacher');
    const student = await createUser(srv.store, org.id, 'student');
    const subject = (orgId: string, code: string, teacherIds: string[]) =>
      srv.store.subjects.create(orgId, { code, name: code, teacherIds, location: null, allowedIpRanges: [] });
    const [art, bio, chem] = [
      await subject(org.id, 'ART', [teacher.id]),
      await subject(org.id, 'BIO', []),
      await subject(org.id, 'CHEM', []),
    ];
    const foreign = await subject(other.id, 'ART', []);
    for (const s of [art, bio, chem]) await srv.store.subjects.enrol(org.id, s.id, [student.id]);
    const token = (await srv.login(admin.email, PASSWORD, org.slug)).accessToken;
    const teacherToken = (await srv.login(teacher.email, PASSWORD, org.slug)).accessToken;
    const codes = async () =>
      (
        await srv.store.subjects.getMany(
          org.id,
          (await srv.store.subjects.enrolmentsOf(org.id, [student.id])).map((e) => e.subjectId),
        )
      )
        .map((s) => s.code)
        .sort();
    return { org, student, art, bio, chem, foreign, token, teacherToken, codes };
  }

  it('takes a student out of several subjects in one request, all or nothing, audited on each subject left', async () => {
    const { org, student, art, bio, chem, foreign, token, codes } = await school();
    const path = `/api/v1/users/${student.id}/subjects`;
    // Another organisation's subject is unknown here: nothing is removed, not even art.
    const refused = await srv.request('DELETE', path, { token, body: { subjectIds: [art.id, foreign.id] } });
    expect(refused.status, JSON.stringify(refused.body)).to.equal(400);
    expect(refused.body.error.code).to.equal('VALIDATION_FAILED');
    expect(refused.body.error.details.unknownSubjectIds).to.deep.equal([foreign.id]);
    expect(await codes()).to.deep.equal(['ART', 'BIO', 'CHEM']);

    const left = await srv.request('DELETE', path, { token, body: { subjectIds: [art.id, chem.id] } });
    expect(left.status, JSON.stringify(left.body)).to.equal(200);
    expect(left.body.items.map((s: { code: string }) => s.code)).to.deep.equal(['BIO']);
    expect(await codes()).to.deep.equal(['BIO']);
    for (const [s, entries] of [
      [art, [{ action: 'subject.unenrol', from: { studentIds: [student.id] } }]],
      [bio, []],
      [chem, [{ action: 'subject.unenrol', from: { studentIds: [student.id] } }]],
    ] as const) {
      const trail = (await srv.store.audit.listForEntity(org.id, 'subject', s.id)).map((e) => ({ action: e.action, from: e.from }));
      expect(trail, s.code).to.deep.equal(entries);
    }
    // Again, and one they are not in: nothing more to remove, nothing more audited.
    const again = await srv.request('DELETE', path, { token, body: { subjectIds: [art.id] } });
    expect(again.status, JSON.stringify(again.body)).to.equal(200);
    expect(await srv.store.audit.listForEntity(org.id, 'subject', art.id)).to.have.length(1);
  });

  it('refuses to enrol a deactivated student on every enrol route, naming them, and enrols them once reactivated', async () => {
    const { org, student, art, bio, token, teacherToken, codes } = await school();
    const fresh = await createUser(srv.store, org.id, 'student');
    await srv.store.users.update(org.id, student.id, { active: false });
    await srv.store.subjects.unenrol(org.id, bio.id, [student.id]);
    const byCodes = await srv.request('POST', `/api/v1/users/${student.id}/subjects`, { token, body: { codes: ['BIO'] } });
    expect(byCodes.status, JSON.stringify(byCodes.body)).to.equal(400);
    expect(byCodes.body.error.details.deactivatedStudentIds).to.deep.equal([student.id]);
    // From the subject, by an admin or by its teacher, with an active student beside: nobody enrolled.
    for (const [t, subject] of [
      [token, bio],
      [teacherToken, art],
    ] as const) {
      const res = await srv.request('POST', `/api/v1/subjects/${subject.id}/enrolments`, {
        token: t,
        body: { studentIds: [fresh.id, student.id] },
      });
      expect(res.status, JSON.stringify(res.body)).to.equal(400);
      expect(res.body.error.details.deactivatedStudentIds).to.deep.equal([student.id]);
    }
    expect(await srv.store.subjects.listEnrolled(org.id, bio.id)).to.deep.equal([]);
    expect(await srv.store.subjects.isEnrolled(org.id, art.id, fresh.id)).to.equal(false);
    expect(await codes()).to.deep.equal(['ART', 'CHEM']);

    await srv.store.users.update(org.id, student.id, { active: true });
    const back = await srv.request('POST', `/api/v1/users/${student.id}/subjects`, { token, body: { codes: ['BIO'] } });
    expect(back.status, JSON.stringify(back.body)).to.equal(200);
    expect(await codes()).to.deep.equal(['ART', 'BIO', 'CHEM']);
  });
});

import { expect } from 'chai';
import type { Organisation } from '../../src/domain/ports/organisations.js';
import type { User } from '../../src/domain/ports/users.js';
import { FakeFaceEngine, fakeAnalysis, fakeFace } from '../support/fake-face-engine.js';
import { createOrg, createSubject, createUser } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/http.js';

/** A photo the fake engine recognises by its first byte. */
const photo = (byte: number) => Uint8Array.of(byte, 0xd8, 0xff, 0xe0, byte);
const face = (axis: number) => {
  const v = new Float32Array(8);
  v[axis] = 1;
  return fakeAnalysis([fakeFace(v)]);
};
/** The student's own face, and a friend's who would check in for them. */
const OWN = 1;
const FRIEND = 9;

/** One photo uploaded as `as` for `student`: the status, the outcome, and the error code of a refusal. */
async function uploadFace(
  srv: TestServer,
  as: User,
  student: User,
  byte: number,
): Promise<{ status: number; outcome: string | undefined; code?: string }> {
  const form = new FormData();
  form.append('photos', new Blob([photo(byte)], { type: 'image/jpeg' }), 'me.jpg');
  const res = await fetch(`${srv.baseUrl}/api/v1/users/${student.id}/face`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${srv.app.tokenService.signAccess(as).token}` },
    body: form,
  });
  const body = (await res.json()) as { outcome?: string; error?: { code?: string } };
  return { status: res.status, outcome: body.outcome, ...(body.error?.code ? { code: body.error.code } : {}) };
}

/**
 * FACE_SELF_ENROLMENT=direct lets a student set their first reference alone; any later one is
 * a proposal for an admin, or a friend's face would check in for them. "First" is first ever:
 * a reference that went away (consent withdrawn and given again, or removed by an admin) does
 * not give the student a fresh first enrolment.
 */
describe('a student sets their face reference alone only once', function () {
  this.timeout(20_000);
  let srv: TestServer;
  let org: Organisation;
  let admin: User;
  let student: User;

  const token = (u: User) => srv.app.tokenService.signAccess(u).token;
  const consent = (as: User) =>
    srv.request('POST', `/api/v1/users/${student.id}/consents`, { token: token(as), body: { textVersion: 'v1', givenBy: 'student' } });
  const putFace = (as: User, byte: number) => uploadFace(srv, as, student, byte);
  const reference = async () => (await srv.store.faces.get(org.id, student.id))?.embeddings ?? null;

  before(async () => {
    const engine = new FakeFaceEngine();
    engine.results.set(OWN, face(0));
    engine.results.set(FRIEND, face(4));
    srv = await startTestServer({ FACE_CONSENT_REQUIRED: 'true', FACE_SELF_ENROLMENT: 'direct' }, { face: engine });
    org = await createOrg(srv.store);
    admin = await createUser(srv.store, org.id, 'admin');
  });
  beforeEach(async () => {
    student = await createUser(srv.store, org.id, 'student');
    const teacher = await createUser(srv.store, org.id, 'teacher');
    await createSubject(srv.store, org.id, [teacher.id], [student.id]);
    expect((await consent(student)).status).to.equal(201);
    expect(await putFace(student, OWN)).to.deep.equal({ status: 201, outcome: 'enrolled' });
  });
  after(() => srv.cleanup());

  it('after withdrawing and giving consent again, a new upload of theirs is a proposal', async () => {
    const withdrawn = await srv.request('DELETE', `/api/v1/users/${student.id}/consents`, { token: token(student) });
    expect(withdrawn.body).to.include({ faceDeleted: true });
    expect((await consent(student)).status).to.equal(201);

    expect(await putFace(student, FRIEND)).to.deep.equal({ status: 202, outcome: 'proposed' });
    expect(await reference(), 'the friend became the reference').to.equal(null);
  });

  it('after an admin removed the reference, a new upload of theirs is a proposal', async () => {
    expect((await srv.request('DELETE', `/api/v1/users/${student.id}/face`, { token: token(admin) })).status).to.equal(204);

    expect(await putFace(student, FRIEND)).to.deep.equal({ status: 202, outcome: 'proposed' });
    expect(await reference(), 'the friend became the reference').to.equal(null);
    // The admin, who sees the proposal's photos, decides.
    expect((await srv.request('POST', `/api/v1/users/${student.id}/face/proposal/approve`, { token: token(admin) })).status).to.equal(200);
    expect(await reference()).to.have.length(1);
  });
});

/**
 * Whether a student's upload is their first enrolment, and whether it has consent, was decided
 * before its photos were analysed, which takes a second and more when the pool is busy, and the
 * reference was then written whatever had happened meanwhile: an upload of a friend's face
 * started before the admin enrolled the student replaced the admin's reference, and one started
 * before the student withdrew consent set a reference after the withdrawal. Both are decided
 * again when written, and a student's first reference is set only if there is still none then.
 */
describe('a face upload is decided again when its analysis is done', function () {
  this.timeout(20_000);
  let srv: TestServer;
  let org: Organisation;
  let admin: User;
  // The friend's photo waits in analysis until `release`; `held` resolves once it waits.
  let release: () => void = () => undefined;
  let held: Promise<void>;
  let gate: Promise<void>;
  const arm = () => {
    gate = new Promise<void>((resolve) => (release = resolve));
    held = new Promise<void>((resolve) => (reached = resolve));
  };
  let reached: () => void = () => undefined;

  const token = (u: User) => srv.app.tokenService.signAccess(u).token;
  const putFace = (as: User, student: User, byte: number) => uploadFace(srv, as, student, byte);
  async function consentingStudent(): Promise<User> {
    const student = await createUser(srv.store, org.id, 'student');
    const given = await srv.request('POST', `/api/v1/users/${student.id}/consents`, {
      token: token(student),
      body: { textVersion: 'v1', givenBy: 'student' },
    });
    expect(given.status).to.equal(201);
    return student;
  }

  before(async () => {
    const engine = new FakeFaceEngine();
    engine.results.set(OWN, face(0));
    engine.results.set(FRIEND, face(4));
    const holding: typeof engine = Object.assign(Object.create(engine) as typeof engine, {
      analyse: async (image: Uint8Array, mode?: Parameters<typeof engine.analyse>[1]) => {
        if (image[0] === FRIEND) {
          reached();
          await gate;
        }
        return engine.analyse(image, mode);
      },
    });
    srv = await startTestServer({ FACE_CONSENT_REQUIRED: 'true', FACE_SELF_ENROLMENT: 'direct' }, { face: holding });
    org = await createOrg(srv.store);
    admin = await createUser(srv.store, org.id, 'admin');
  });
  beforeEach(arm);
  // Released failed or not, so the upload answers and the server can close.
  afterEach(() => release());
  after(() => srv.cleanup());

  it("an upload started before the admin's enrolment ends as a proposal; the admin's reference stays", async () => {
    const student = await consentingStudent();
    const friendUpload = putFace(student, student, FRIEND);
    await held;
    expect(await putFace(admin, student, OWN)).to.deep.include({ status: 201, outcome: 'enrolled' });
    release();

    expect(await friendUpload).to.deep.include({ status: 202, outcome: 'proposed' });
    const own = [1, 0, 0, 0, 0, 0, 0, 0];
    expect((await srv.store.faces.get(org.id, student.id))?.embeddings, "the friend's face replaced the admin's").to.deep.equal([own]);
    expect((await srv.store.faceProposals.get(org.id, student.id))?.proposedBy).to.equal(student.id);
  });

  it('an upload started before the student withdrew consent sets no reference', async () => {
    const student = await consentingStudent();
    const upload = putFace(student, student, FRIEND);
    await held;
    const withdrawn = await srv.request('DELETE', `/api/v1/users/${student.id}/consents`, { token: token(student) });
    expect(withdrawn.status).to.equal(200);
    release();

    expect(await upload).to.deep.include({ status: 409, code: 'FACE_CONSENT_REQUIRED' });
    expect(await srv.store.faces.get(org.id, student.id), 'a reference set after the withdrawal').to.equal(null);
  });
});

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { FacePoolEngine } from '../../src/adapters/face-pool-engine.js';
import { FacePool } from '../../src/face/face-pool.js';
import type { CheckinView, FaceChangeView, RosterUpdate } from '../../src/shared/events.js';
import type { Organisation } from '../../src/domain/ports/organisations.js';
import type { Subject } from '../../src/domain/ports/subjects.js';
import type { User } from '../../src/domain/ports/users.js';
import { blankJpeg, FACES_DIR, SKIP_NO_FACES, truncated } from '../support/face-images.js';
import { createOrg, createUser } from '../support/fixtures.js';
import { startTestServer, testConfig, type Json, type TestServer, refusal } from '../support/http.js';
import { command, connectClient, nextEvent, ok, onRosterUpdate, waitFor, type ClientSocket } from '../support/sockets.js';
import { skipBecause } from '../support/skip.js';

const MAX_IMAGE_BYTES = 2 * 1024 * 1024;
const ENV = { FACE_MAX_IMAGE_BYTES: String(MAX_IMAGE_BYTES), FACE_KEEP_PHOTOS: 'true', CHECKIN_RATE_PER_MINUTE: '100' };
const STATUS_KEYS = ['userId', 'enrolled', 'modelId', 'modelVersion', 'photoCount', 'photosKept', 'updatedAt', 'reenrolNeeded', 'proposal'];

interface Answer {
  status: number;
  headers: Headers;
  body: Json;
}

// One pool, one thread, models loaded once for the whole file: loading takes seconds.
describe('face enrolment over HTTP and selfie check-ins (real models)', function () {
  this.timeout(120_000);
  let pool: FacePool;
  let srv: TestServer;
  let org: Organisation;
  let subject: Subject;
  let teacher: User;
  let admin: User;
  /** Enrolled as Aaron Peirsol. */
  let aaron: User;
  /** Enrolled as Angelina Jolie, checks in as someone else. */
  let angelina: User;
  /** Never enrolled. */
  let unenrolled: User;
  const sockets: ClientSocket[] = [];
  const lfw = (name: string, n: number) =>
    readFileSync(path.join(FACES_DIR!, 'lfw-devtrain', name, `${name}_${String(n).padStart(4, '0')}.jpg`));
  const photo = (name: string) => readFileSync(path.join(FACES_DIR!, 'photos', name));
  const token = (u: User) => srv.app.tokenService.signAccess(u).token;

  async function putFace(as: User, student: User, photos: Uint8Array[]): Promise<Answer> {
    const form = new FormData();
    photos.forEach((p, i) => form.append('photos', new Blob([new Uint8Array(p)], { type: 'image/jpeg' }), `photo-${i}.jpg`));
    const res = await fetch(`${srv.baseUrl}/api/v1/users/${student.id}/face`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token(as)}` },
      body: form,
    });
    return { status: res.status, headers: res.headers, body: await res.json() };
  }
  const getFace = (as: User, student: User) => srv.request('GET', `/api/v1/users/${student.id}/face`, { token: token(as) });
  const deleteFace = (as: User, student: User) => srv.request('DELETE', `/api/v1/users/${student.id}/face`, { token: token(as) });

  before(async function () {
    if (!FACES_DIR) {
      skipBecause(this, SKIP_NO_FACES);
    }
    pool = new FacePool({ config: { ...testConfig(ENV).face, poolSize: 1, maxQueue: 4, taskTimeoutMs: 60_000 } });
    await pool.start();
    srv = await startTestServer(ENV, { face: new FacePoolEngine(pool) });
    org = await createOrg(srv.store);
    teacher = await createUser(srv.store, org.id, 'teacher');
    admin = await createUser(srv.store, org.id, 'admin');
    aaron = await createUser(srv.store, org.id, 'student');
    angelina = await createUser(srv.store, org.id, 'student');
    unenrolled = await createUser(srv.store, org.id, 'student');
    subject = await srv.store.subjects.create(org.id, {
      code: 'FACE1',
      name: 'Selfie subject',
      teacherIds: [teacher.id],
      location: null,
      allowedIpRanges: [],
    });
    await srv.store.subjects.enrol(org.id, subject.id, [aaron.id, angelina.id, unenrolled.id]);
  });

  after(async () => {
    for (const s of sockets) s.disconnect();
    // Closing the application closes the pool too; closing it again is a no-op.
    await srv?.cleanup();
    await pool?.close();
  });

  it('enrols a student from two photos; the status shows the count and never embeddings', async () => {
    const uploads = [lfw('Aaron_Peirsol', 1), lfw('Aaron_Peirsol', 2)];
    const put = await putFace(aaron, aaron, uploads);
    expect(put.status, JSON.stringify(put.body)).to.equal(201);
    expect(put.body.outcome).to.equal('enrolled');
    expect(put.body.status).to.have.all.keys(...STATUS_KEYS);
    expect(put.body.status).to.include({ userId: aaron.id, enrolled: true, photoCount: 2, photosKept: true, modelId: 'faceapi-resnet128' });

    const got = await getFace(aaron, aaron);
    expect(got.status).to.equal(200);
    expect(got.body).to.have.all.keys(...STATUS_KEYS);
    expect(got.body).to.include({ enrolled: true, photoCount: 2 });
    expect(JSON.stringify(got.body)).to.not.match(/embedding|photos"/);

    const stored = await srv.store.faces.get(org.id, aaron.id);
    expect(stored?.embeddings.map((e) => e.length)).to.deep.equal([128, 128]);
    // FACE_KEEP_PHOTOS keeps the very bytes sent, although the pool took the buffers to its worker.
    expect(stored?.photos?.map((p, i) => Buffer.from(p).equals(uploads[i]!))).to.deep.equal([true, true]);
  });

  it('refuses a set with bad photos (422), naming each refused index and reason, and stores nothing', async () => {
    const bad = await putFace(teacher, unenrolled, [
      lfw('Aaron_Peirsol', 1),
      await blankJpeg(),
      photo('couple.jpg'),
      truncated(photo('img1.jpg')),
    ]);
    expect(bad.status, JSON.stringify(bad.body)).to.equal(422);
    expect(bad.body.error.code).to.equal('FACE_ENROLMENT_REFUSED');
    expect(bad.body.error.details.photos.map((p: { index: number; reason: string }) => [p.index, p.reason])).to.deep.equal([
      [1, 'FACE_NOT_FOUND'],
      [2, 'FACE_MULTIPLE'],
      [3, 'IMAGE_INVALID'],
    ]);

    const mixed = await putFace(teacher, unenrolled, [lfw('Aaron_Peirsol', 1), lfw('Aaron_Peirsol', 2), lfw('Paul_Wolfowitz', 2)]);
    expect(mixed.status).to.equal(422);
    expect(mixed.body.error.details.photos).to.deep.equal([
      { index: 2, reason: 'ENROLMENT_INCONSISTENT', message: 'This reference photo does not look like the same person as the others.' },
    ]);
    expect(await srv.store.faces.get(org.id, unenrolled.id)).to.equal(null);
    expect((await getFace(unenrolled, unenrolled)).body).to.include({ enrolled: false, photoCount: 0 });
  });

  it('answers 413 for an oversize photo, 415 without multipart, 400 for six photos, 403 for another student', async () => {
    const huge = Buffer.alloc(MAX_IMAGE_BYTES + 1);
    lfw('Aaron_Peirsol', 3).copy(huge);
    const tooBig = await putFace(unenrolled, unenrolled, [huge]);
    expect(tooBig.status).to.equal(413);
    expect(tooBig.body.error).to.include({ code: 'PAYLOAD_TOO_LARGE' });
    expect(tooBig.body.error.details).to.deep.equal({ maxBytes: MAX_IMAGE_BYTES });

    const json = await srv.request('PUT', `/api/v1/users/${unenrolled.id}/face`, { token: token(unenrolled), body: { photos: ['x'] } });
    expect(json.status).to.equal(415);
    expect(json.body.error.code).to.equal('UNSUPPORTED_MEDIA_TYPE');

    const six = await putFace(
      unenrolled,
      unenrolled,
      Array.from({ length: 6 }, () => lfw('Aaron_Peirsol', 3)),
    );
    expect(six.status).to.equal(400);
    expect(six.body.error).to.include({ code: 'VALIDATION_FAILED' });

    const other = await putFace(unenrolled, aaron, [lfw('Paul_Wolfowitz', 3)]);
    expect(other.status).to.equal(403);
    expect(other.body.error.code).to.equal('FORBIDDEN');
    expect(refusal(await getFace(unenrolled, aaron))).to.deep.equal([403, 'FORBIDDEN']);
    expect(refusal(await deleteFace(unenrolled, aaron))).to.deep.equal([403, 'FORBIDDEN']);

    expect(await srv.store.faces.get(org.id, unenrolled.id)).to.equal(null);
    expect((await srv.store.faces.get(org.id, aaron.id))?.embeddings).to.have.length(2);
  });

  it('answers BUSY (503) with Retry-After when the face workers are saturated; only the upload that fit is stored', async () => {
    const scratch = await createUser(srv.store, org.id, 'student');
    const five = [1, 2, 3, 9, 17].map((n) => lfw('Ricardo_Lagos', n));
    // One worker and a queue of four hold five photos: of two five-photo uploads at once, one is refused.
    const answers = await Promise.all([putFace(admin, scratch, five), putFace(admin, scratch, five)]);
    expect(answers.map((a) => a.status).sort(), JSON.stringify(answers.map((a) => a.body))).to.deep.equal([201, 503]);
    const busy = answers.find((a) => a.status === 503)!;
    expect(busy.body.error.code).to.equal('BUSY');
    expect(busy.body.error.details.retryAfterMs).to.be.a('number').above(0);
    expect(Number(busy.headers.get('retry-after'))).to.be.at.least(1);
    expect(answers.find((a) => a.status === 201)!.body.status).to.include({ enrolled: true, photoCount: 5 });
    expect((await srv.store.faces.get(org.id, scratch.id))?.embeddings).to.have.length(5);
    const actions = (await srv.store.audit.listForEntity(org.id, 'user', scratch.id)).map((e) => e.action);
    expect(actions, 'only the accepted upload is recorded').to.deep.equal(['face.enrol']);
    // The refused upload's photos that were queued still run; let them drain before the selfies.
    await waitFor(() => pool.status().queueSize === 0, 30_000);
  });

  it('verifies selfies in a live session: the decision reaches the student and the roster', async () => {
    // The teacher proposes the reference; an admin approves it.
    const teacherAnswer = await putFace(teacher, angelina, [lfw('Angelina_Jolie', 8), lfw('Angelina_Jolie', 9)]);
    expect(teacherAnswer.status, JSON.stringify(teacherAnswer.body)).to.equal(202);
    expect(teacherAnswer.body.status).to.include({ enrolled: false });
    const approved = await srv.request('POST', `/api/v1/users/${angelina.id}/face/proposal/approve`, { token: token(admin) });
    expect(approved.status, JSON.stringify(approved.body)).to.equal(200);
    expect(approved.body).to.include({ enrolled: true, photoCount: 2, photosKept: true, proposal: null });

    const connect = async (u: User) => {
      const s = await connectClient(srv.baseUrl, token(u));
      sockets.push(s);
      return s;
    };
    const staff = await connect(teacher);
    const updates: RosterUpdate[] = [];
    onRosterUpdate(staff, (u) => updates.push(u));
    const session = ok(
      await command(staff, 'session:open', { subjectId: subject.id, policy: { selfie: true, geofence: false, rotatingCode: false } }),
    );
    expect(session.policy).to.include({ selfie: true, geofence: false, rotatingCode: false });
    ok(await command(staff, 'session:watch', { sessionId: session.id }));
    const latest = (u: User) => [...updates].reverse().find((x) => x.entry.studentId === u.id)?.entry;

    const checkIn = async (u: User, selfie: Buffer): Promise<{ ack: CheckinView; decision: CheckinView }> => {
      const socket = await connect(u);
      ok(await command(socket, 'session:join', { sessionId: session.id }));
      const decided = nextEvent(socket, 'checkin:decision', (v) => !v.verifying, 60_000);
      const ack = ok(
        await command(
          socket,
          'checkin:submit',
          { sessionId: session.id, location: { lat: 45, lon: 9, accuracy: 10, timestamp: Date.now() }, selfie: new Uint8Array(selfie) },
          60_000,
        ),
      );
      const [decision] = await decided;
      return { ack, decision };
    };

    // The same person as the enrolment, on a photo not used to enrol.
    const a = await checkIn(aaron, lfw('Aaron_Peirsol', 3));
    expect(a.ack).to.include({ status: 'pending', reason: 'SELFIE_PENDING', verifying: true });
    expect(a.decision).to.include({ status: 'present', reason: 'FACE_MATCH', verifying: false });
    expect(JSON.stringify(a.decision)).to.not.match(/distance|embedding|probe|verification/i);
    await waitFor(() => latest(aaron)?.status === 'present');
    expect(latest(aaron)!.verification).to.deep.equal({ state: 'done', band: 'confident', flags: ['FACE_MATCH'] });
    expect(JSON.stringify(latest(aaron))).to.not.match(/embedding|probe|"distance"/i);

    // Someone else's face for an enrolled student.
    const b = await checkIn(angelina, lfw('Paul_Wolfowitz', 2));
    expect(b.decision).to.include({ status: 'rejected', reason: 'FACE_MISMATCH' });
    expect(b.decision.attemptsLeft).to.equal(1);
    await waitFor(() => latest(angelina)?.status === 'rejected');
    expect(latest(angelina)!.verification).to.include({ state: 'done', band: 'mismatch' });

    // No enrolment: the teacher decides.
    const c = await checkIn(unenrolled, lfw('Paul_Wolfowitz', 4));
    expect(c.decision).to.include({ status: 'pending', reason: 'FACE_NOT_ENROLLED', verifying: false });
    await waitFor(() => latest(unenrolled)?.verification?.state === 'done');
    expect(latest(unenrolled)).to.include({ status: 'pending', reason: 'FACE_NOT_ENROLLED' });
    expect(latest(unenrolled)!.verification?.band).to.equal('no-enrolment');
  });

  // The takeover once reproduced end to end: a teacher puts the student in a subject of their
  // own and uploads another person's face, which then checked in as the student everywhere.
  it("never lets a teacher replace a student's reference: the upload waits for an admin, who sees it is another person", async () => {
    const outsider = await createUser(srv.store, org.id, 'teacher');
    const created = await srv.request('POST', '/api/v1/subjects', {
      token: token(outsider),
      body: { code: 'THROWAWAY', name: 'Throwaway' },
    });
    expect(created.status).to.equal(201);
    const enrolled = await srv.request('POST', `/api/v1/subjects/${created.body.id}/enrolments`, {
      token: token(outsider),
      body: { studentIds: [aaron.id] },
    });
    expect(enrolled.status).to.equal(200);
    const before = (await srv.store.faces.get(org.id, aaron.id))!;
    const victim = await connectClient(srv.baseUrl, token(aaron));
    sockets.push(victim);
    // Every notice from before the upload on: the upload runs the models, which on a loaded
    // machine takes longer than any fixed wait begun before it.
    const notices: FaceChangeView[] = [];
    victim.on('face:changed', (v) => notices.push(v));

    const put = await putFace(outsider, aaron, [lfw('Paul_Wolfowitz', 2), lfw('Paul_Wolfowitz', 4)]);
    expect(put.status, JSON.stringify(put.body)).to.equal(202);
    expect(put.body.outcome).to.equal('proposed');
    expect(await srv.store.faces.get(org.id, aaron.id), 'the reference in force is untouched').to.deep.equal(before);
    await waitFor(() => notices.some((v) => v.change === 'proposed'));
    expect(notices.find((v) => v.change === 'proposed')).to.include({ userId: aaron.id, change: 'proposed', byRole: 'teacher' });

    const review = await srv.request('GET', `/api/v1/users/${aaron.id}/face/proposal`, { token: token(admin) });
    expect(review.status).to.equal(200);
    expect(review.body).to.include({
      userId: aaron.id,
      proposedBy: outsider.id,
      proposerRole: 'teacher',
      photoCount: 2,
      matchesCurrent: 'mismatch',
    });
    const shown = await fetch(`${srv.baseUrl}/api/v1/users/${aaron.id}/face/proposal/photos/1`, {
      headers: { authorization: `Bearer ${token(admin)}` },
    });
    expect(shown.headers.get('content-type')).to.equal('image/jpeg');
    expect(Buffer.from(await shown.arrayBuffer()).equals(lfw('Paul_Wolfowitz', 4))).to.equal(true);
    const approveAsTeacher = await srv.request('POST', `/api/v1/users/${aaron.id}/face/proposal/approve`, { token: token(outsider) });
    expect([approveAsTeacher.status, approveAsTeacher.body.error.code]).to.deep.equal([403, 'FORBIDDEN']);

    expect((await srv.request('DELETE', `/api/v1/users/${aaron.id}/face/proposal`, { token: token(admin) })).status).to.equal(204);
    await waitFor(() => notices.some((v) => v.change === 'proposal-rejected'));
    expect(notices.find((v) => v.change === 'proposal-rejected')).to.include({ byRole: 'admin' });
    expect(await srv.store.faces.get(org.id, aaron.id)).to.deep.equal(before);
    expect(await srv.store.faceProposals.get(org.id, aaron.id)).to.equal(null);
  });

  it('replaces an enrolment on re-enrolment and removes it on DELETE', async () => {
    const before = (await srv.store.faces.get(org.id, aaron.id))!;
    const again = await putFace(admin, aaron, [lfw('Aaron_Peirsol', 1), lfw('Aaron_Peirsol', 2), lfw('Aaron_Peirsol', 4)]);
    expect(again.status, JSON.stringify(again.body)).to.equal(201);
    expect(again.body.status).to.include({ enrolled: true, photoCount: 3 });
    expect((await getFace(teacher, aaron)).body).to.include({ photoCount: 3 });
    const after = (await srv.store.faces.get(org.id, aaron.id))!;
    expect(after.embeddings).to.have.length(3);
    expect(after.updatedAt.getTime()).to.be.at.least(before.updatedAt.getTime());

    // Only an admin removes a reference: not the student, not their teacher.
    for (const who of [aaron, teacher]) {
      const refused = await deleteFace(who, aaron);
      expect([refused.status, refused.body.error.code], who.role).to.deep.equal([403, 'FORBIDDEN']);
    }
    const removed = await deleteFace(admin, aaron);
    expect(removed.status).to.equal(204);
    expect((await getFace(aaron, aaron)).body).to.include({ enrolled: false, photoCount: 0 });
    expect(await srv.store.faces.get(org.id, aaron.id)).to.equal(null);
    const twice = await deleteFace(admin, aaron);
    expect(twice.status).to.equal(404);
    expect(twice.body.error.code).to.equal('NOT_FOUND');
    const actions = (await srv.store.audit.listForEntity(org.id, 'user', aaron.id)).map((e) => e.action);
    expect(actions).to.deep.equal(['face.enrol', 'face.propose', 'face.proposal.reject', 'face.reenrol', 'face.delete']);
  });
});

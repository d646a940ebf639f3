import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { FacePoolEngine } from '../../src/adapters/face-pool-engine.js';
import { loadFaceConfig } from '../../src/face/face-config.js';
import { FacePool } from '../../src/face/face-pool.js';
import type { CheckinView, RosterUpdate } from '../../src/shared/events.js';
import type { Organisation } from '../../src/domain/ports/organisations.js';
import type { AttendanceSession } from '../../src/domain/ports/sessions.js';
import type { Subject } from '../../src/domain/ports/subjects.js';
import type { User } from '../../src/domain/ports/users.js';
import { blankJpeg, FACES_DIR, SKIP_NO_FACES } from '../support/face-images.js';
import { createCodeSession, createOrg, createSubject, createUser } from '../support/fixtures.js';
import { startTestServer, type Json, type TestServer } from '../support/http.js';
import { connectClient, nextEvent, nextRosterUpdate, type ClientSocket } from '../support/sockets.js';
import { skipBecause } from '../support/skip.js';

/**
 * Class photo attendance end to end with the real models: one pool with one thread for the
 * file (loading the models takes seconds). couple.jpg shows Angelina Jolie (left) and Brad
 * Pitt (right); photos/img1, img2 are Jolie, img13 Mark Zuckerberg, img18 Elon Musk.
 */
describe('class photo (real models, HTTP)', function () {
  this.timeout(120_000);
  let pool: FacePool;
  let srv: TestServer;
  let org: Organisation;
  let teacher: User;
  let subject: Subject;
  let session: AttendanceSession;
  let jolie: User, zuckerberg: User, musk: User, noFace: User;
  const sockets: ClientSocket[] = [];
  const photo = (name: string) => readFileSync(path.join(FACES_DIR!, 'photos', name));
  const token = (u: User) => srv.app.tokenService.signAccess(u).token;

  async function upload(name: string, bytes: Buffer, as: User = teacher) {
    const form = new FormData();
    form.append('photo', new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' }), name);
    const res = await fetch(`${srv.baseUrl}/api/v1/sessions/${session.id}/class-photo`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token(as)}` },
      body: form,
    });
    return { status: res.status, body: (await res.json()) as Json };
  }

  const stored = async () => ({
    records: await srv.store.records.listBySession(org.id, session.id),
    audit: await srv.store.audit.listForSession(org.id, session.id),
  });

  before(async function () {
    if (!FACES_DIR) {
      skipBecause(this, SKIP_NO_FACES);
    }
    pool = new FacePool({ config: { ...loadFaceConfig({}), poolSize: 1, maxQueue: 8, taskTimeoutMs: 60_000 }, allowCrashTask: false });
    await pool.start();
    srv = await startTestServer({}, { face: new FacePoolEngine(pool) });
    org = await createOrg(srv.store);
    teacher = await createUser(srv.store, org.id, 'teacher');
    const admin = await createUser(srv.store, org.id, 'admin');
    const student = () => createUser(srv.store, org.id, 'student');
    [jolie, zuckerberg, musk, noFace] = await Promise.all([student(), student(), student(), student()]);
    subject = await createSubject(srv.store, org.id, [teacher.id], [jolie!.id, zuckerberg!.id, musk!.id, noFace!.id]);
    const adminActor = { id: admin.id, orgId: org.id, role: admin.role };
    await srv.app.services.faces.enrol(adminActor, jolie!.id, [photo('img1.jpg'), photo('img2.jpg')]);
    await srv.app.services.faces.enrol(adminActor, zuckerberg!.id, [photo('img13.jpg')]);
    await srv.app.services.faces.enrol(adminActor, musk!.id, [photo('img18.jpg')]);
    session = await createCodeSession(srv.store, org.id, subject.id, teacher.id);
  });

  after(async () => {
    for (const s of sockets) s.disconnect();
    // Closing the application closes the pool too; closing it again is a no-op.
    await srv?.cleanup();
    await pool?.close();
  });

  it('proposes the enrolled student seen in the photo, and changes no record', async () => {
    const before = await stored();
    const res = await upload('couple.jpg', photo('couple.jpg'));
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    const p = res.body;
    expect(p.faces).to.have.length(2);
    const matched = p.faces.filter((f: Json) => f.studentId !== null);
    expect(matched).to.have.length(1);
    expect(matched[0]).to.deep.include({
      studentId: jolie.id,
      band: 'confident',
      name: jolie.name,
      studentNumber: jolie.studentNumber,
      currentStatus: 'not-yet',
      unmatchedReason: null,
    });
    // Jolie stands on the left of the photo; Pitt, on the right, is nobody enrolled.
    expect(matched[0].box.x + matched[0].box.width / 2).to.be.below(p.image.width / 2);
    const other = p.faces.find((f: Json) => f.studentId === null);
    expect(other).to.deep.include({ band: null, unmatchedReason: 'no-match', name: null });
    expect(other.box.x + other.box.width / 2).to.be.above(p.image.width / 2);
    expect(p.summary).to.deep.equal({
      faces: 2,
      matched: 1,
      confident: 1,
      uncertain: 0,
      unmatched: 1,
      tooSmall: 0,
      students: 4,
      withoutEnrolment: 1,
      alreadyPresent: 0,
      truncated: false,
    });
    expect(JSON.stringify(p)).to.not.match(/distance|embedding/i);
    expect(await stored()).to.deep.equal(before);
  });

  it('refuses a photo without a face with PHOTO_REFUSED', async () => {
    const res = await upload('blank.jpg', await blankJpeg());
    expect(res.status).to.equal(422);
    expect(res.body.error).to.deep.include({ code: 'PHOTO_REFUSED' });
    expect(res.body.error.details).to.include({ reason: 'FACE_NOT_FOUND' });
  });

  it('confirms: the record is marked, the roster and the student are told', async () => {
    const watcher = await connectClient(srv.baseUrl, token(teacher));
    const phone = await connectClient(srv.baseUrl, token(jolie));
    sockets.push(watcher, phone);
    const watched = await watcher.timeout(5_000).emitWithAck('session:watch', { sessionId: session.id });
    expect(watched.ok, JSON.stringify(watched)).to.equal(true);
    const rosterUpdate = nextRosterUpdate(watcher, (u: RosterUpdate) => u.entry.studentId === jolie.id);
    const decision = nextEvent(phone, 'checkin:decision', (v: CheckinView) => v.sessionId === session.id);

    const res = await srv.request('POST', `/api/v1/sessions/${session.id}/class-photo/confirm`, {
      token: token(teacher),
      body: { studentIds: [jolie.id] },
    });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.results).to.deep.equal([{ studentId: jolie.id, result: 'marked', status: 'present', code: null }]);

    const update = await rosterUpdate;
    expect(update.entry).to.include({ status: 'present', reason: 'MARKED_FROM_CLASS_PHOTO', decidedBy: teacher.id });
    const [view] = await decision;
    expect(view).to.include({ status: 'present', reason: 'MARKED_FROM_CLASS_PHOTO' });

    const { records, audit } = await stored();
    expect(records).to.have.length(1);
    expect(records[0]).to.include({ studentId: jolie.id, status: 'present', reason: 'MARKED_FROM_CLASS_PHOTO' });
    expect(audit.map((a) => [a.entityId, a.action, a.actorId])).to.deep.equal([[records[0]!.id, 'record.mark', teacher.id]]);
  });

  it('shows a student already marked as present in the next photo', async () => {
    const res = await upload('selfie-many-people.jpg', photo('selfie-many-people.jpg'));
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    const matched = res.body.faces.filter((f: Json) => f.studentId !== null);
    expect(res.body.faces.length).to.be.above(2);
    expect(matched.map((f: Json) => [f.studentId, f.band, f.currentStatus])).to.deep.equal([[jolie.id, 'confident', 'present']]);
    expect(res.body.summary).to.include({ matched: 1, alreadyPresent: 1 });
  });
});

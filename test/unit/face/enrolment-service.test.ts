import { expect } from 'chai';
import { MemoryRateLimiter } from '../../../src/adapters/memory-rate-limiter.js';
import type { RateLimiter } from '../../../src/domain/rate-limiter.js';
import type { Actor } from '../../../src/domain/actor.js';
import { AppError } from '../../../src/shared/app-error.js';
import { FaceEnrolmentService, type PhotoRefusal } from '../../../src/domain/face/enrolment-service.js';
import type { DomainEvent } from '../../../src/domain/events.js';
import type { SelfEnrolmentMode } from '../../../src/face/face-config.js';
import type { FaceEngine } from '../../../src/domain/face/face-engine.js';
import { createSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import type { Organisation } from '../../../src/domain/ports/organisations.js';
import type { Store } from '../../../src/domain/ports/store.js';
import type { User } from '../../../src/domain/ports/users.js';
import { createOrg, createSubject, createUser } from '../../support/fixtures.js';
import { expectCode } from '../../support/expect-code.js';
import { FakeFaceEngine, fakeAnalysis, fakeFace } from '../../support/fake-face-engine.js';

/** Unit vector along axis i, turned towards axis j by `t` radians (distance 2·sin(t/2) from vec(i, j)). */
function vec(i: number, j = (i + 1) % 8, t = 0): Float32Array {
  const v = new Float32Array(8);
  v[i] = Math.cos(t);
  v[j] = Math.sin(t);
  return v;
}

/** The engine's answer for a photo showing one face with this embedding. */
const oneFace = (embedding: Float32Array) => fakeAnalysis([fakeFace(embedding)]);

/** A photo the fake engine recognises by its first byte. */
const photo = (byte: number) => Uint8Array.of(byte, 0xd8, 0xff, 0xe0, byte);

describe('FaceEnrolmentService (SQLite store, fake face engine)', () => {
  let store: Store;
  let engine: FakeFaceEngine;
  let org: Organisation;
  let student: User;
  let classmate: User;
  let teacher: User;
  let otherTeacher: User;
  let admin: User;
  const at = new Date('2026-03-02T09:00:00.000Z');
  const actor = (u: User): Actor => ({ id: u.id, orgId: u.orgId, role: u.role, ip: '10.0.0.7' });
  let published: DomainEvent[];
  const service = (
    opts: {
      keepPhotos?: boolean;
      engine?: FaceEngine | null;
      limiter?: RateLimiter;
      selfEnrolment?: SelfEnrolmentMode;
      consentRequired?: boolean;
    } = {},
  ) =>
    new FaceEnrolmentService({
      store,
      engine: opts.engine === null ? undefined : (opts.engine ?? engine),
      keepPhotos: opts.keepPhotos ?? false,
      selfEnrolment: opts.selfEnrolment ?? 'direct',
      consentRequired: opts.consentRequired ?? false,
      ...(opts.limiter ? { limiter: opts.limiter } : {}),
      thresholds: { confident: 0.4, uncertain: 0.48 },
      events: { publish: (e) => published.push(e) },
      clock: () => at,
    });
  /** The face changes the student was told about, in order. */
  const toldTo = (u: User) =>
    published.flatMap((e) => (e.type === 'face.changed' && e.view.userId === u.id ? [`${e.view.change} by ${e.view.byRole}`] : []));
  const auditOf = (u: User) => store.audit.listForEntity(org.id, 'user', u.id);

  beforeEach(async () => {
    store = await createSqliteStore({ path: ':memory:' });
    published = [];
    org = await createOrg(store);
    student = await createUser(store, org.id, 'student');
    classmate = await createUser(store, org.id, 'student');
    teacher = await createUser(store, org.id, 'teacher');
    otherTeacher = await createUser(store, org.id, 'teacher');
    admin = await createUser(store, org.id, 'admin');
    await createSubject(store, org.id, [teacher.id], [student.id, classmate.id]);
    await createSubject(store, org.id, [otherTeacher.id], [classmate.id]);
    engine = new FakeFaceEngine();
    // 1..3: the student (within 0.2 of each other); 7: someone else; 9: the classmate.
    engine.results.set(1, oneFace(vec(0)));
    engine.results.set(2, oneFace(vec(0, 1, 0.2)));
    engine.results.set(3, oneFace(vec(0, 2, 0.2)));
    engine.results.set(7, oneFace(vec(4)));
    engine.results.set(9, oneFace(vec(6)));
  });
  afterEach(() => store.close());

  describe('consent (FACE_CONSENT_REQUIRED)', () => {
    const consent = () =>
      store.consents.create({
        orgId: org.id,
        userId: student.id,
        purpose: 'face',
        textVersion: 'v1',
        givenBy: 'guardian',
        guardianName: 'G. Parent',
        recordedBy: admin.id,
        givenAt: at,
      });

    it('refuses every enrolment, proposal and approval of a student without a standing consent, storing nothing', async () => {
      const faces = service({ consentRequired: true });
      await expectCode(faces.enrol(actor(admin), student.id, [photo(1)]), 'FACE_CONSENT_REQUIRED');
      await expectCode(faces.enrol(actor(teacher), student.id, [photo(1)]), 'FACE_CONSENT_REQUIRED');
      await expectCode(faces.enrol(actor(student), student.id, [photo(1)]), 'FACE_CONSENT_REQUIRED');
      await expectCode(faces.admit(actor(admin), student.id), 'FACE_CONSENT_REQUIRED');
      expect(engine.calls).to.equal(0);
      expect(await store.faces.get(org.id, student.id)).to.equal(null);
      expect(await store.faceProposals.get(org.id, student.id)).to.equal(null);

      await consent();
      await faces.enrol(actor(teacher), student.id, [photo(1)]);
      await store.consents.withdraw(org.id, student.id, 'face', admin.id, at);
      await expectCode(faces.approve(actor(admin), student.id), 'FACE_CONSENT_REQUIRED');
      expect(await store.faces.get(org.id, student.id)).to.equal(null);
    });

    it('enrols once a consent is recorded', async () => {
      await consent();
      expect((await service({ consentRequired: true }).enrol(actor(admin), student.id, [photo(1)])).outcome).to.equal('enrolled');
    });
  });

  describe('who may enrol', () => {
    it('lets an admin set and replace a reference at once; the student and their teacher read the status', async () => {
      const faces = service();
      const first = await faces.enrol(actor(admin), student.id, [photo(1), photo(2)]);
      expect(first.outcome).to.equal('enrolled');
      expect(first.status).to.include({ userId: student.id, enrolled: true, photoCount: 2, modelId: 'fake', proposal: null });
      expect((await faces.enrol(actor(admin), student.id, [photo(3)])).status.photoCount).to.equal(1);
      for (const who of [student, teacher, admin]) {
        expect((await faces.status(actor(who), student.id)).photoCount, who.role).to.equal(1);
      }
      const entries = await auditOf(student);
      expect(entries.map((e) => [e.action, e.actorId])).to.deep.equal([
        ['face.enrol', admin.id],
        ['face.reenrol', admin.id],
      ]);
      expect(toldTo(student)).to.deep.equal(['enrolled by admin', 'replaced by admin']);
    });

    // The takeover: a teacher enrols the victim in a subject of their own and uploads another
    // person's face. It must never become the reference without an admin.
    it("takes a teacher's upload as a proposal: the reference in force stays until an admin approves it", async () => {
      const faces = service();
      await faces.enrol(actor(admin), student.id, [photo(1), photo(2)]);
      const throwaway = await createSubject(store, org.id, [otherTeacher.id], [student.id]);
      expect(throwaway.teacherIds).to.deep.equal([otherTeacher.id]);
      const proposed = await faces.enrol(actor(otherTeacher), student.id, [photo(7)]);
      expect(proposed.outcome).to.equal('proposed');
      expect(proposed.status).to.deep.include({ enrolled: true, photoCount: 2 });
      expect(proposed.status.proposal).to.deep.equal({ proposedBy: otherTeacher.id, createdAt: at, photoCount: 1 });
      const inForce = await store.faces.get(org.id, student.id);
      expect(inForce!.embeddings).to.have.length(2);
      expect(inForce!.embeddings[0]![0]).to.be.closeTo(1, 1e-6);

      const [view] = (await faces.listProposals(actor(admin), { limit: 10, offset: 0 })).items;
      expect(view).to.include({ userId: student.id, studentName: student.name, proposerName: otherTeacher.name, proposerRole: 'teacher' });
      expect(view!.matchesCurrent, 'another person than the reference in force').to.equal('mismatch');
      expect((await faces.proposalPhoto(actor(admin), student.id, 0))[0], 'the photo is kept for review').to.equal(7);
      await expectCode(faces.approve(actor(otherTeacher), student.id), 'FORBIDDEN');
      await expectCode(faces.listProposals(actor(teacher), { limit: 10, offset: 0 }), 'FORBIDDEN');
      await expectCode(faces.proposalPhoto(actor(student), student.id, 0), 'FORBIDDEN');

      const approved = await faces.approve(actor(admin), student.id);
      expect(approved).to.include({ enrolled: true, photoCount: 1, proposal: null });
      expect(await store.faceProposals.get(org.id, student.id)).to.equal(null);
      await expectCode(faces.approve(actor(admin), student.id), 'NOT_FOUND');
      const entries = await auditOf(student);
      expect(entries.map((e) => [e.action, e.actorId])).to.deep.equal([
        ['face.enrol', admin.id],
        ['face.propose', otherTeacher.id],
        ['face.proposal.approve', admin.id],
      ]);
      expect(entries[2]!.to).to.deep.include({ proposedBy: otherTeacher.id, photoCount: 1 });
      expect(JSON.stringify(entries), 'no embeddings in the audit log').to.not.match(/0\.9\d{5}/);
      expect(toldTo(student)).to.deep.equal(['enrolled by admin', 'proposed by teacher', 'replaced by admin']);
    });

    it('lets a proposer withdraw and an admin reject a proposal; nobody else discards it', async () => {
      const faces = service();
      await faces.enrol(actor(teacher), student.id, [photo(1)]);
      await expectCode(faces.rejectProposal(actor(otherTeacher), student.id), 'NOT_SUBJECT_TEACHER');
      await expectCode(faces.rejectProposal(actor(classmate), student.id), 'FORBIDDEN');
      await faces.rejectProposal(actor(teacher), student.id);
      await expectCode(faces.rejectProposal(actor(teacher), student.id), 'NOT_FOUND');
      await faces.enrol(actor(teacher), student.id, [photo(2)]);
      await faces.rejectProposal(actor(admin), student.id);
      expect(await store.faces.get(org.id, student.id)).to.equal(null);
      expect((await auditOf(student)).map((e) => e.action)).to.deep.equal([
        'face.propose',
        'face.proposal.withdraw',
        'face.propose',
        'face.proposal.reject',
      ]);
      expect(toldTo(student)).to.deep.equal([
        'proposed by teacher',
        'proposal-rejected by teacher',
        'proposed by teacher',
        'proposal-rejected by admin',
      ]);
    });

    it('lets a student make their first enrolment; later uploads are proposals and only an admin removes', async () => {
      const faces = service();
      expect((await faces.enrol(actor(student), student.id, [photo(1), photo(2)])).outcome).to.equal('enrolled');
      // A student swapping in another face would let that person check in for them.
      expect((await faces.enrol(actor(student), student.id, [photo(9)])).outcome).to.equal('proposed');
      await expectCode(faces.remove(actor(student), student.id), 'FORBIDDEN');
      await expectCode(faces.remove(actor(teacher), student.id), 'FORBIDDEN');
      expect((await store.faces.get(org.id, student.id))?.embeddings).to.have.length(2);
      expect((await auditOf(student)).map((e) => e.action)).to.deep.equal(['face.enrol', 'face.propose']);
      expect(await faces.remove(actor(admin), student.id)).to.equal(true);
      expect(toldTo(student)).to.deep.equal(['enrolled by student', 'proposed by student', 'removed by admin']);
    });

    it('follows FACE_SELF_ENROLMENT: `approval` makes every student upload a proposal, `off` refuses before any face work', async () => {
      expect((await service({ selfEnrolment: 'approval' }).enrol(actor(student), student.id, [photo(1)])).outcome).to.equal('proposed');
      expect(await store.faces.get(org.id, student.id)).to.equal(null);
      const off = service({ selfEnrolment: 'off' });
      await expectCode(off.admit(actor(student), student.id), 'FORBIDDEN');
      await expectCode(off.enrol(actor(student), student.id, [photo(2)]), 'FORBIDDEN');
      expect(engine.calls).to.equal(1);
      expect((await off.enrol(actor(admin), student.id, [photo(2)])).outcome).to.equal('enrolled');
    });

    it('admits an upload (counting it) only for callers who may make it; the refused and the over-budget run no face work', async () => {
      const faces = service({ limiter: new MemoryRateLimiter({ points: 2, windowS: 3600, keyPrefix: 'test' }) });
      await expectCode(faces.admit(actor(classmate), student.id), 'FORBIDDEN');
      await expectCode(faces.admit(actor(otherTeacher), student.id), 'NOT_SUBJECT_TEACHER');
      await expectCode(service({ engine: null }).admit(actor(admin), student.id), 'UNAVAILABLE');
      for (const p of [photo(1), photo(2)]) {
        await faces.admit(actor(teacher), student.id);
        await faces.enrol(actor(teacher), student.id, [p]);
      }
      const err = await faces.admit(actor(teacher), student.id).then(
        () => expect.fail('expected RATE_LIMITED'),
        (e: unknown) => e as AppError,
      );
      expect(err.code).to.equal('RATE_LIMITED');
      expect(err.details?.['retryAfterMs']).to.be.a('number').greaterThan(0);
      expect(engine.calls, 'the limited upload ran no face work').to.equal(2);
      // Refusals before the count spent nothing, and another user has a budget of their own.
      await faces.admit(actor(admin), classmate.id);
      await faces.admit(actor(admin), classmate.id);
      await expectCode(faces.admit(actor(admin), classmate.id), 'RATE_LIMITED');
    });

    it("refuses another student (FORBIDDEN) and a teacher of none of the student's subjects (NOT_SUBJECT_TEACHER)", async () => {
      const faces = service();
      await expectCode(faces.enrol(actor(classmate), student.id, [photo(1)]), 'FORBIDDEN');
      await expectCode(faces.status(actor(classmate), student.id), 'FORBIDDEN');
      await expectCode(faces.remove(actor(classmate), student.id), 'FORBIDDEN');
      await expectCode(faces.enrol(actor(otherTeacher), student.id, [photo(1)]), 'NOT_SUBJECT_TEACHER');
      await expectCode(faces.status(actor(otherTeacher), student.id), 'NOT_SUBJECT_TEACHER');
      await expectCode(faces.remove(actor(otherTeacher), student.id), 'NOT_SUBJECT_TEACHER');
      // The other teacher does teach the classmate, and proposes.
      expect((await faces.enrol(actor(otherTeacher), classmate.id, [photo(9)])).outcome).to.equal('proposed');
      expect(engine.calls).to.equal(1);
      expect(await store.faces.get(org.id, student.id)).to.equal(null);
    });

    it("answers NOT_FOUND for another organisation's student and for a user who is not a student", async () => {
      const faces = service();
      const elsewhere = await createOrg(store);
      const foreignAdmin = await createUser(store, elsewhere.id, 'admin');
      const foreignStudent = await createUser(store, elsewhere.id, 'student');
      await expectCode(faces.enrol(actor(foreignAdmin), student.id, [photo(1)]), 'NOT_FOUND');
      await expectCode(faces.status(actor(foreignAdmin), student.id), 'NOT_FOUND');
      await expectCode(faces.enrol(actor(admin), foreignStudent.id, [photo(1)]), 'NOT_FOUND');
      await expectCode(faces.enrol(actor(admin), teacher.id, [photo(1)]), 'NOT_FOUND');
      await expectCode(faces.status(actor(admin), admin.id), 'NOT_FOUND');
      await expectCode(faces.enrol(actor(teacher), teacher.id, [photo(1)]), 'NOT_FOUND');
      expect(engine.calls).to.equal(0);
      expect(await store.faces.getMany(org.id, [student.id, teacher.id, admin.id])).to.deep.equal([]);
    });
  });

  describe('photos', () => {
    it('refuses 0 and 6 photos before any analysis', async () => {
      const faces = service();
      const none = await expectCode(faces.enrol(actor(student), student.id, []), 'VALIDATION_FAILED');
      expect(none.details).to.deep.equal({ photos: 0 });
      const six = await expectCode(faces.enrol(actor(student), student.id, [1, 2, 3, 1, 2, 3].map(photo)), 'VALIDATION_FAILED');
      expect(six.details).to.deep.equal({ photos: 6 });
      expect(engine.calls).to.equal(0);
      expect(await store.faces.get(org.id, student.id)).to.equal(null);
    });

    it('refuses the whole upload when one photo is refused, naming its index and reason, and stores nothing', async () => {
      const faces = service();
      engine.results.set(5, { ok: false, reason: 'FACE_MULTIPLE', message: 'two faces' });
      engine.results.set(6, { ok: false, reason: 'IMAGE_INVALID', message: 'unreadable' });
      const err = await expectCode(
        faces.enrol(actor(student), student.id, [photo(1), photo(5), photo(2), photo(6)]),
        'FACE_ENROLMENT_REFUSED',
      );
      expect(err.status).to.equal(422);
      expect(err.details?.photos).to.deep.equal([
        { index: 1, reason: 'FACE_MULTIPLE', message: 'two faces' },
        { index: 3, reason: 'IMAGE_INVALID', message: 'unreadable' },
      ] satisfies PhotoRefusal[]);
      expect(await store.faces.get(org.id, student.id)).to.equal(null);
      expect(await auditOf(student)).to.deep.equal([]);
    });

    it('refuses a set that mixes people: the odd photo out, or every photo of an even split', async () => {
      const faces = service();
      const odd = await expectCode(faces.enrol(actor(student), student.id, [photo(1), photo(2), photo(7)]), 'FACE_ENROLMENT_REFUSED');
      expect(odd.details?.photos).to.deep.equal([
        { index: 2, reason: 'ENROLMENT_INCONSISTENT', message: 'This reference photo does not look like the same person as the others.' },
      ]);
      const split = await expectCode(faces.enrol(actor(student), student.id, [photo(1), photo(7)]), 'FACE_ENROLMENT_REFUSED');
      expect((split.details?.photos as PhotoRefusal[]).map((p) => [p.index, p.reason])).to.deep.equal([
        [0, 'ENROLMENT_INCONSISTENT'],
        [1, 'ENROLMENT_INCONSISTENT'],
      ]);
      expect(await store.faces.get(org.id, student.id)).to.equal(null);
      // The same photos without the stranger are one person.
      expect((await faces.enrol(actor(student), student.id, [photo(1), photo(2), photo(3)])).status.photoCount).to.equal(3);
    });

    it('leaves the previous enrolment in place when a re-enrolment is refused', async () => {
      const faces = service();
      await faces.enrol(actor(student), student.id, [photo(1), photo(2)]);
      await expectCode(faces.enrol(actor(teacher), student.id, [photo(3), photo(7)]), 'FACE_ENROLMENT_REFUSED');
      const kept = await store.faces.get(org.id, student.id);
      expect(kept?.embeddings).to.deep.equal([Array.from(vec(0)), Array.from(vec(0, 1, 0.2))]);
    });
  });

  describe('storing', () => {
    it('replaces the previous enrolment on re-enrolment', async () => {
      const faces = service();
      await faces.enrol(actor(student), student.id, [photo(1), photo(2)]);
      const again = await faces.enrol(actor(admin), student.id, [photo(3)]);
      expect(again.status).to.include({ enrolled: true, photoCount: 1 });
      const stored = await store.faces.get(org.id, student.id);
      expect(stored?.embeddings).to.deep.equal([Array.from(vec(0, 2, 0.2))]);
    });

    it('answers a status without embeddings or photos', async () => {
      const faces = service({ keepPhotos: true });
      const before = await faces.status(actor(student), student.id);
      expect(before).to.deep.equal({
        userId: student.id,
        enrolled: false,
        modelId: null,
        modelVersion: null,
        photoCount: 0,
        photosKept: false,
        updatedAt: null,
        reenrolNeeded: false,
        proposal: null,
      });
      await faces.enrol(actor(student), student.id, [photo(1), photo(2)]);
      const after = await faces.status(actor(student), student.id);
      expect(after).to.have.all.keys(
        'userId',
        'enrolled',
        'modelId',
        'modelVersion',
        'photoCount',
        'photosKept',
        'updatedAt',
        'reenrolNeeded',
        'proposal',
      );
      expect(after).to.include({
        enrolled: true,
        modelId: 'fake',
        modelVersion: '1',
        photoCount: 2,
        photosKept: true,
        reenrolNeeded: false,
      });
      expect(after.updatedAt).to.be.instanceOf(Date);
    });

    it('reports an enrolment made with another face model than the running one for re-enrolment', async () => {
      await service().enrol(actor(admin), student.id, [photo(1)]);
      const switched = service({ engine: new FakeFaceEngine({ status: { modelId: 'faceplugin-feature' } }) });
      expect(await switched.status(actor(admin), student.id)).to.include({ modelId: 'fake', reenrolNeeded: true });
      // Before a worker has reported its model nothing is claimed either way.
      const starting = service({ engine: new FakeFaceEngine({ status: { modelId: null } }) });
      expect(await starting.status(actor(admin), student.id)).to.include({ reenrolNeeded: false });
    });

    it('keeps the uploaded photos, byte for byte, only when keepPhotos is on', async () => {
      // The engine detaches the buffers it is given, as the worker pool does.
      const kept = service({ keepPhotos: true });
      const uploads = [photo(1), photo(2)];
      const copies = uploads.map((u) => Buffer.from(u));
      expect((await kept.enrol(actor(student), student.id, uploads)).status.photosKept).to.equal(true);
      expect(uploads[0]!.byteLength, 'the fake engine took the buffer').to.equal(0);
      const stored = await store.faces.get(org.id, student.id);
      expect(stored?.photos?.map((p) => Buffer.from(p).toString('hex'))).to.deep.equal(copies.map((c) => c.toString('hex')));

      const notKept = service({ keepPhotos: false });
      expect((await notKept.enrol(actor(classmate), classmate.id, [photo(9)])).status.photosKept).to.equal(false);
      expect((await store.faces.get(org.id, classmate.id))?.photos ?? null).to.equal(null);
    });

    it('writes audit entries with the model and photo count, never the embeddings', async () => {
      const faces = service({ keepPhotos: true });
      await faces.enrol(actor(student), student.id, [photo(1), photo(2)]);
      await faces.enrol(actor(admin), student.id, [photo(3)]);
      await faces.remove(actor(admin), student.id);
      const entries = await auditOf(student);
      expect(entries.map((e) => ({ action: e.action, actorId: e.actorId, from: e.from, to: e.to, ip: e.ip, at: e.at }))).to.deep.equal([
        {
          action: 'face.enrol',
          actorId: student.id,
          from: null,
          to: { modelId: 'fake', modelVersion: '1', photoCount: 2 },
          ip: '10.0.0.7',
          at,
        },
        {
          action: 'face.reenrol',
          actorId: admin.id,
          from: { modelId: 'fake', modelVersion: '1', photoCount: 2 },
          to: { modelId: 'fake', modelVersion: '1', photoCount: 1 },
          ip: '10.0.0.7',
          at,
        },
        {
          action: 'face.delete',
          actorId: admin.id,
          from: { modelId: 'fake', modelVersion: '1', photoCount: 1 },
          to: null,
          ip: '10.0.0.7',
          at,
        },
      ]);
      const text = JSON.stringify(entries);
      expect(text).to.not.match(/embedding|photos"/);
      expect(text).to.not.include(String(Math.sin(0.2)).slice(0, 8));
    });
  });

  describe('removal and engine failures', () => {
    it('removes an enrolment once; a second removal reports there was none', async () => {
      const faces = service();
      await faces.enrol(actor(student), student.id, [photo(1)]);
      expect(await faces.remove(actor(admin), student.id)).to.equal(true);
      expect(await store.faces.get(org.id, student.id)).to.equal(null);
      expect((await faces.status(actor(admin), student.id)).enrolled).to.equal(false);
      expect(await faces.remove(actor(admin), student.id)).to.equal(false);
      expect((await auditOf(student)).map((e) => e.action)).to.deep.equal(['face.enrol', 'face.delete']);
    });

    it('answers UNAVAILABLE without a face engine, after the access and count checks', async () => {
      const faces = service({ engine: null });
      await expectCode(faces.enrol(actor(classmate), student.id, [photo(1)]), 'FORBIDDEN');
      await expectCode(faces.enrol(actor(student), student.id, []), 'VALIDATION_FAILED');
      await expectCode(faces.enrol(actor(student), student.id, [photo(1)]), 'UNAVAILABLE');
      expect((await faces.status(actor(student), student.id)).enrolled).to.equal(false);
    });

    it('passes BUSY with its retry hint through and stores nothing', async () => {
      const faces = service();
      engine.results.set(4, new AppError('BUSY', undefined, { retryAfterMs: 1_200 }));
      const err = await expectCode(faces.enrol(actor(student), student.id, [photo(1), photo(4)]), 'BUSY');
      expect(err.details).to.include({ retryAfterMs: 1_200 });
      expect(await store.faces.get(org.id, student.id)).to.equal(null);
      expect(await auditOf(student)).to.deep.equal([]);
    });
  });
});

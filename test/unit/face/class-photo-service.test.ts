import { expect } from 'chai';
import { AppError } from '../../../src/shared/app-error.js';
import { MAX_CONFIRM_STUDENTS } from '../../../src/domain/face/class-photo-service.js';
import type { AnalysedFace } from '../../../src/domain/face/face-types.js';
import type { SessionView } from '../../../src/shared/events.js';
import { createLiveFixture, pendingCheckin, type LiveFixture } from '../../support/live-fixture.js';
import { expectCode } from '../../support/expect-code.js';
import { FakeFaceEngine, fakeAnalysis } from '../../support/fake-face-engine.js';

/** Unit vector along axis i, rotated towards axis j by `t` radians (distance 2·sin(t/2) from vec(i)). */
function vec(i: number, j = (i + 1) % 8, t = 0): Float32Array {
  const v = new Float32Array(8);
  v[i] = Math.cos(t);
  v[j] = Math.sin(t);
  return v;
}

function face(embedding: Float32Array, x: number, faceSizePx = 120): AnalysedFace {
  return {
    box: { x, y: 10, width: faceSizePx, height: faceSizePx },
    score: 0.9,
    embedding,
    quality: { eyeDistancePx: faceSizePx / 3, faceSizePx, sharpness: 50, brightness: 120 },
    real: null,
    live: null,
  };
}

/** The class photo as the worker sees it: a 1280×720 image with these faces. */
const photo = (...faces: AnalysedFace[]) => fakeAnalysis(faces, { width: 1280, height: 720 });

const PHOTO = Uint8Array.of(0xff, 0xd8, 0xff);

const FACE_SETTINGS = { confident: 0.3, uncertain: 0.8, minReal: 0.3, minLive: 0.3 };

describe('class photo (domain, fake face engine, embedded store)', () => {
  let f: LiveFixture;
  let engine: FakeFaceEngine;
  let session: SessionView;
  const sid = (i: number) => f.students[i]!.id;

  beforeEach(async () => {
    engine = new FakeFaceEngine({ status: { retryAfterMs: 250 } });
    engine.fallback = { ok: false, reason: 'FACE_NOT_FOUND', message: 'no face was found' };
    f = await createLiveFixture({ students: 6, face: engine, faceSettings: FACE_SETTINGS });
    session = await f.live.sessions.open(f.actor(f.teacher), { subjectId: f.subject.id });
    // Students 0..2 enrolled along axes 0..2; student 3 with another model's embeddings
    // (not comparable, so as good as none); students 4 and 5 not enrolled at all.
    for (let i = 0; i < 3; i++) {
      await f.store.faces.put({
        orgId: f.org.id,
        userId: sid(i),
        modelId: 'fake',
        modelVersion: '1',
        embeddings: [Array.from(vec(i))],
        photos: null,
      });
    }
    await f.store.faces.put({
      orgId: f.org.id,
      userId: sid(3),
      modelId: 'other',
      modelVersion: '1',
      embeddings: [Array.from(vec(3))],
      photos: null,
    });
  });
  afterEach(() => f.close());

  const propose = (actor = f.actor(f.teacher), sessionId = session.id) => f.live.classPhoto.propose(actor, sessionId, PHOTO);
  const confirm = (ids: string[], actor = f.actor(f.teacher), sessionId = session.id) => f.live.classPhoto.confirm(actor, sessionId, ids);
  const snapshot = async () => ({
    records: await f.store.records.listBySession(f.org.id, session.id),
    audit: await f.store.audit.listForSession(f.org.id, session.id),
    events: f.events.length,
  });

  describe('propose', () => {
    it('assigns faces one-to-one by the globally smallest distance, with bands', async () => {
      // Face 0 lies between students 0 and 1, nearer to 0 (0.747; 0.784 from student 1: both
      // uncertain); face 1 is 0.1 from student 0 (confident). The closest pair wins: student 0
      // goes to face 1, so face 0 falls to student 1 rather than taking student 0 first.
      engine.fallback = photo(face(vec(0, 1, Math.PI / 4 - 0.02), 0, 200), face(vec(0, 2, 0.1), 300));
      const p = await propose();
      expect(engine.modes).to.deep.equal(['all']);
      expect(p.faces.map((x) => [x.studentId, x.band])).to.deep.equal([
        [sid(1), 'uncertain'],
        [sid(0), 'confident'],
      ]);
      expect(p.faces[1]).to.deep.include({ name: 'Student 01', studentNumber: 'S1', currentStatus: 'not-yet', unmatchedReason: null });
      expect(p.summary).to.deep.equal({
        faces: 2,
        matched: 2,
        confident: 1,
        uncertain: 1,
        unmatched: 0,
        tooSmall: 0,
        students: 6,
        withoutEnrolment: 3,
        alreadyPresent: 0,
        truncated: false,
      });
    });

    it('reports the photo as truncated when the engine returned as many faces as it may', async () => {
      const limited = f.build({ face: engine, faceSettings: FACE_SETTINGS, classPhoto: { minFacePx: 48, maxFaces: 2 } }).attendance
        .classPhoto;
      engine.fallback = photo(face(vec(0), 0), face(vec(1), 200));
      const full = await limited.propose(f.actor(f.teacher), session.id, PHOTO);
      expect(full.summary).to.include({ faces: 2, matched: 2, truncated: true });
      engine.fallback = photo(face(vec(0), 0));
      expect((await limited.propose(f.actor(f.teacher), session.id, PHOTO)).summary).to.include({ faces: 1, truncated: false });
    });

    it('proposes a student at most once when two faces look like them', async () => {
      engine.fallback = photo(face(vec(0, 1, 0.2), 0), face(vec(0, 2, 0.1), 200));
      const p = await propose();
      expect(p.faces.map((x) => x.studentId)).to.deep.equal([null, sid(0)]);
      expect(p.faces[0]).to.deep.include({ band: null, unmatchedReason: 'no-match', currentStatus: null, name: null });
    });

    it("leaves unmatched: strangers, another model's enrolment, and faces too small to match", async () => {
      engine.fallback = photo(
        face(vec(5), 0), // student 5 has no enrolment
        face(vec(3), 200), // student 3's enrolment is of another model
        face(vec(2), 400, 30), // exactly student 2, but below the 48 px minimum
        face(vec(1, 4, 0.05), 600),
      );
      const p = await propose();
      expect(p.faces.map((x) => [x.studentId, x.unmatchedReason])).to.deep.equal([
        [null, 'no-match'],
        [null, 'no-match'],
        [null, 'too-small'],
        [sid(1), null],
      ]);
      expect(p.summary).to.include({ faces: 4, matched: 1, unmatched: 3, tooSmall: 1, withoutEnrolment: 3 });
      expect(p.faces.map((x) => x.box.x)).to.deep.equal([0, 200, 400, 600]);
      expect(p.image).to.deep.equal({ width: 1280, height: 720 });
    });

    it('reports current statuses, sends no distance or embedding, and changes no record', async () => {
      await f.live.checkins.mark(f.actor(f.teacher), { sessionId: session.id, studentId: sid(1), status: 'late', ip: null });
      await f.live.checkins.mark(f.actor(f.teacher), { sessionId: session.id, studentId: sid(2), status: 'absent', ip: null });
      engine.fallback = photo(face(vec(0), 0), face(vec(1), 200), face(vec(2), 400));
      const before = await snapshot();
      const p = await propose();
      expect(p.faces.map((x) => x.currentStatus)).to.deep.equal(['not-yet', 'late', 'absent']);
      expect(p.summary.alreadyPresent).to.equal(1);
      expect(await snapshot()).to.deep.equal(before);
      const wire = JSON.stringify(p);
      expect(wire).to.not.match(/distance|embedding/i);
      expect(Object.keys(p.faces[0]!).sort()).to.deep.equal([
        'band',
        'box',
        'currentStatus',
        'name',
        'studentId',
        'studentNumber',
        'unmatchedReason',
      ]);
    });

    it('answers PHOTO_REFUSED with the engine reason, and passes BUSY on', async () => {
      engine.fallback = { ok: false, reason: 'FACE_NOT_FOUND', message: 'no face was found' };
      const refused = await expectCode(propose(), 'PHOTO_REFUSED');
      expect(refused.details).to.deep.equal({ reason: 'FACE_NOT_FOUND' });
      engine.fallback = { ok: false, reason: 'IMAGE_TOO_MANY_PIXELS', message: 'too many pixels', details: { pixels: 5e8 } };
      expect((await expectCode(propose(), 'PHOTO_REFUSED')).details).to.deep.equal({ reason: 'IMAGE_TOO_MANY_PIXELS', pixels: 5e8 });
      engine.fallback = new AppError('BUSY', undefined, { retryAfterMs: 900 });
      expect((await expectCode(propose(), 'BUSY')).details).to.deep.equal({ retryAfterMs: 900 });
    });

    it('answers UNAVAILABLE without a face engine', async () => {
      const faceless = f.build({}).attendance.classPhoto;
      await expectCode(faceless.propose(f.actor(f.teacher), session.id, PHOTO), 'UNAVAILABLE');
    });

    it('is for the staff of the subject only, on a session not closed', async () => {
      engine.fallback = photo(face(vec(0), 0));
      await expectCode(propose(f.actor(f.otherTeacher)), 'NOT_SUBJECT_TEACHER');
      await expectCode(propose(f.actor(f.students[0]!)), 'FORBIDDEN');
      await expectCode(propose(f.actor(f.teacher), 'no-such-session'), 'SESSION_NOT_FOUND');
      expect(engine.modes).to.have.length(0);
      expect((await propose(f.actor(f.admin))).summary.matched).to.equal(1);
      await f.live.closer.close(f.org.id, session.id, f.teacher.id);
      await expectCode(propose(), 'SESSION_CLOSED');
      expect(engine.modes).to.have.length(1);
    });
  });

  describe('confirm', () => {
    it('marks chosen students present, skips present and late ones, refuses outsiders on their own line', async () => {
      const teacher = f.actor(f.teacher);
      await f.live.checkins.mark(teacher, { sessionId: session.id, studentId: sid(1), status: 'present', ip: null });
      await f.live.checkins.mark(teacher, { sessionId: session.id, studentId: sid(2), status: 'late', ip: null });
      await f.live.checkins.mark(teacher, { sessionId: session.id, studentId: sid(3), status: 'absent', ip: null });
      const events = f.events.length;
      // Confirming needs no face engine: it is a batch of marks.
      const faceless = f.build({}).attendance.classPhoto;

      const r = await faceless.confirm({ ...teacher, ip: '10.0.0.7' }, session.id, [sid(0), sid(1), sid(2), sid(3), f.outsider.id, sid(0)]);
      expect(r.results).to.deep.equal([
        { studentId: sid(0), result: 'marked', status: 'present', code: null },
        { studentId: sid(1), result: 'unchanged', status: 'present', code: null },
        { studentId: sid(2), result: 'unchanged', status: 'late', code: null },
        { studentId: sid(3), result: 'marked', status: 'present', code: null },
        { studentId: f.outsider.id, result: 'refused', status: null, code: 'NOT_ENROLLED' },
      ]);
      expect(r.summary).to.deep.equal({ marked: 2, unchanged: 2, refused: 1 });

      const byStudent = new Map((await f.store.records.listBySession(f.org.id, session.id)).map((x) => [x.studentId, x]));
      for (const i of [0, 3]) {
        expect(byStudent.get(sid(i))).to.include({ status: 'present', reason: 'MARKED_FROM_CLASS_PHOTO', decidedBy: f.teacher.id });
      }
      expect(byStudent.get(sid(1))).to.include({ status: 'present', reason: 'MARKED_BY_TEACHER' });
      expect(byStudent.get(sid(2))).to.include({ status: 'late', reason: 'MARKED_BY_TEACHER' });
      expect(byStudent.has(f.outsider.id)).to.equal(false);

      // The roster and each student are told, once per marked student.
      const told = f.events
        .slice(events)
        .map((e) => (e.type === 'roster.changed' ? [e.studentId, e.update.entry.status, e.checkin.reason] : e.type));
      expect(told).to.deep.equal([
        [sid(0), 'present', 'MARKED_FROM_CLASS_PHOTO'],
        [sid(3), 'present', 'MARKED_FROM_CLASS_PHOTO'],
      ]);
      const audit = (await f.store.audit.listForSession(f.org.id, session.id)).filter((a) => a.reason === 'class photo');
      expect(audit.map((a) => [a.entityId, a.action, a.actorId, a.ip])).to.have.deep.members([
        [byStudent.get(sid(0))!.id, 'record.mark', f.teacher.id, '10.0.0.7'],
        [byStudent.get(sid(3))!.id, 'record.mark', f.teacher.id, '10.0.0.7'],
      ]);
      expect(audit.find((a) => a.entityId === byStudent.get(sid(3))!.id)?.from).to.include({ status: 'absent' });

      // Confirming again changes nothing.
      const again = await confirm([sid(0), sid(3)]);
      expect(again.summary).to.deep.equal({ marked: 0, unchanged: 2, refused: 0 });
      expect(f.events).to.have.length(events + 2);
    });

    it("writes the photo's marks as one group commit, in the order asked, and writes again only those that lost a race", async () => {
      const teacher = f.actor(f.teacher);
      await f.live.checkins.mark(teacher, { sessionId: session.id, studentId: sid(4), status: 'absent', ip: null });
      const original = f.store.records.writeBatch;
      const batches: string[][] = [];
      let raced = false;
      f.store.records.writeBatch = async (writes) => {
        batches.push(writes.map((w) => (w.kind === 'insert' ? w.input.studentId : w.id)));
        if (!raced) {
          // Another teacher changes student 4's record just before the photo's batch lands.
          raced = true;
          const r = (await f.store.records.getForStudent(f.org.id, session.id, sid(4)))!;
          await original([
            {
              kind: 'update',
              orgId: f.org.id,
              id: r.id,
              expectedVersion: r.version,
              patch: { note: 'seen' },
              audit: { actorId: f.otherTeacher.id, action: 'record.mark', reason: null, ip: null },
            },
          ]);
        }
        return original(writes);
      };
      const r = await confirm([sid(2), sid(0), sid(4), sid(1)]);
      f.store.records.writeBatch = original;
      expect(r.summary).to.deep.equal({ marked: 4, unchanged: 0, refused: 0 });
      const record4 = (await f.store.records.getForStudent(f.org.id, session.id, sid(4)))!;
      // The photo's four, then student 4's again after reading it anew.
      expect(batches).to.deep.equal([[sid(2), sid(0), record4.id, sid(1)], [record4.id]]);
      expect(record4).to.include({ status: 'present', note: 'seen', reason: 'MARKED_FROM_CLASS_PHOTO' });
      const records = await f.store.records.listBySession(f.org.id, session.id);
      const versions = new Map(records.map((x) => [x.studentId, x.rosterVersion]));
      expect(versions.get(sid(2))! < versions.get(sid(0))! && versions.get(sid(0))! < versions.get(sid(1))!).to.equal(true);
    });

    it('marks late once lateAfter has passed, unless the teacher says present, and late when the teacher says so', async () => {
      const teacher = f.actor(f.teacher);
      const early = await f.live.classPhoto.confirm(teacher, session.id, [sid(0)], 'late');
      expect(early.results).to.deep.equal([{ studentId: sid(0), result: 'marked', status: 'late', code: null }]);

      // The default lateAfter is ten minutes after the start; on the boundary a student is still on time.
      f.clock.advance(10 * 60_000);
      expect((await confirm([sid(1)])).results[0]).to.include({ result: 'marked', status: 'present' });
      f.clock.advance(1);
      const events = f.events.length;
      const late = await confirm([sid(2), sid(1)]);
      expect(late.results).to.deep.equal([
        { studentId: sid(2), result: 'marked', status: 'late', code: null },
        { studentId: sid(1), result: 'unchanged', status: 'present', code: null },
      ]);
      expect((await f.live.classPhoto.confirm(teacher, session.id, [sid(3)], 'present')).results[0]).to.include({
        result: 'marked',
        status: 'present',
      });

      const byStudent = new Map((await f.store.records.listBySession(f.org.id, session.id)).map((x) => [x.studentId, x]));
      expect([0, 1, 2, 3].map((i) => byStudent.get(sid(i))!.status)).to.deep.equal(['late', 'present', 'late', 'present']);
      expect(byStudent.get(sid(2))).to.include({ reason: 'MARKED_FROM_CLASS_PHOTO', decidedBy: f.teacher.id });
      const told = f.events.slice(events).map((e) => (e.type === 'roster.changed' ? [e.studentId, e.update.entry.status] : e.type));
      expect(told).to.deep.equal([
        [sid(2), 'late'],
        [sid(3), 'present'],
      ]);
    });

    it('marks a pending check-in present, keeping its flags and attempts', async () => {
      const inserted = await f.store.records.insertIfAbsent(
        f.org.id,
        pendingCheckin(f, session, sid(4), { flags: ['GEOFENCE_IMPRECISE'] }),
      );
      const r = await confirm([sid(4)]);
      expect(r.results[0]).to.include({ result: 'marked', status: 'present' });
      const after = await f.store.records.get(f.org.id, inserted.record.id);
      expect(after).to.include({ status: 'present', reason: 'MARKED_FROM_CLASS_PHOTO', attempts: 1, version: inserted.record.version + 1 });
      expect(after!.flags).to.deep.equal(['GEOFENCE_IMPRECISE']);
    });

    it('is for the staff of the subject only, on a session not closed, and bounded', async () => {
      await expectCode(confirm([sid(0)], f.actor(f.otherTeacher)), 'NOT_SUBJECT_TEACHER');
      await expectCode(confirm([sid(0)], f.actor(f.students[0]!)), 'FORBIDDEN');
      const tooMany = Array.from({ length: MAX_CONFIRM_STUDENTS + 1 }, (_, i) => `id-${i}`);
      await expectCode(confirm(tooMany), 'VALIDATION_FAILED');
      expect(await f.store.records.listBySession(f.org.id, session.id)).to.have.length(0);
      expect((await confirm([sid(0)], f.actor(f.admin))).summary.marked).to.equal(1);

      await f.live.closer.close(f.org.id, session.id, f.teacher.id);
      const closed = await snapshot();
      await expectCode(confirm([sid(1)]), 'SESSION_CLOSED');
      expect(await snapshot()).to.deep.equal(closed);
    });
  });
});

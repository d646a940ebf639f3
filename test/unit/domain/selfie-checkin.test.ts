import { expect } from 'chai';
import { AppError } from '../../../src/shared/app-error.js';
import { codeAt } from '../../../src/domain/checks/rotating-code.js';
import type { SessionView } from '../../../src/shared/events.js';
import { createLiveFixture, northOf, type LiveFixture } from '../../support/live-fixture.js';
import { expectCode } from '../../support/expect-code.js';
import { waitFor } from '../../support/sockets.js';
import { FakeFaceEngine, fakeAnalysis, fakeFace } from '../../support/fake-face-engine.js';

/** Unit vector along axis i, slightly rotated towards axis j by `t` (distance grows with t). */
function vec(i: number, j = (i + 1) % 8, t = 0): Float32Array {
  const v = new Float32Array(8);
  v[i] = Math.cos(t);
  v[j] = Math.sin(t);
  return v;
}

/** The engine's answer for a selfie showing one face (antispoof scores `real` and `live`). */
const selfieOf = (embedding: Float32Array, real = 0.7, live = 0.7) => fakeAnalysis([fakeFace(embedding, { real, live })]);

describe('selfie check-ins (domain, fake face engine)', () => {
  let f: LiveFixture;
  let engine: FakeFaceEngine;
  let session: SessionView;
  let secret = '';
  /** FACE_CONSENT_REQUIRED of the domain each test gets; the suite that needs it turns it on. */
  let consentRequired = false;

  beforeEach(async () => {
    engine = new FakeFaceEngine();
    f = await createLiveFixture({
      face: engine,
      faceSettings: { confident: 0.5, uncertain: 0.8, minReal: 0.3, minLive: 0.3 },
      faceConsentRequired: consentRequired,
    });
    session = await f.live.sessions.open(f.actor(f.teacher), { subjectId: f.subject.id, policy: { selfie: true } });
    secret = (await f.store.sessions.get(f.org.id, session.id))!.codeSecret;
    // Students 0..3 enrolled with distinct faces along axes 0..3.
    for (let i = 0; i < 4; i++) {
      await f.store.faces.put({
        orgId: f.org.id,
        userId: f.students[i]!.id,
        modelId: 'fake',
        modelVersion: '1',
        embeddings: [Array.from(vec(i))],
        photos: null,
      });
    }
  });
  afterEach(() => f.close());

  const submit = (i: number, selfie: number | null, metres = 5) =>
    f.live.checkins.submit(f.actor(f.students[i]!), {
      sessionId: session.id,
      location: { ...northOf(metres), accuracyM: 10, timestamp: new Date(f.clock.now().getTime() - 1_000) },
      code: codeAt(secret, 15, f.clock.now()),
      ...(selfie === null ? {} : { selfie: Uint8Array.of(selfie, 1, 2, 3) }),
      ip: '10.1.2.3',
    });
  const settled = async (i: number) => {
    await waitFor(
      async () => (await f.store.records.getForStudent(f.org.id, session.id, f.students[i]!.id))?.verification?.state !== 'queued',
    );
    return (await f.store.records.getForStudent(f.org.id, session.id, f.students[i]!.id))!;
  };

  it('acknowledges pending + verifying at once, then accepts a confident match and pushes it', async () => {
    engine.results.set(10, selfieOf(vec(0, 1, 0.1)));
    const ack = await submit(0, 10);
    expect(ack).to.include({ status: 'pending', reason: 'SELFIE_PENDING', verifying: true });
    const record = await settled(0);
    expect(record).to.include({ status: 'present', reason: 'FACE_MATCH' });
    expect(record.verification).to.include({ state: 'done', band: 'confident' });
    const last = f.events.at(-1)!;
    expect(last.type).to.equal('roster.changed');
    if (last.type !== 'roster.changed') return;
    expect(last.checkin).to.include({ status: 'present', verifying: false });
    expect(Object.keys(last.checkin)).to.not.include.members(['verification', 'distance', 'probe']);
    expect(last.update.entry.verification).to.deep.equal({ state: 'done', band: 'confident', flags: ['FACE_MATCH'] });
  });

  it('rejects another person (FACE_MISMATCH), leaves an uncertain match to the teacher', async () => {
    engine.results.set(11, selfieOf(vec(6)));
    engine.results.set(12, selfieOf(vec(1, 7, 0.7)));
    await submit(0, 11);
    expect(await settled(0)).to.include({ status: 'rejected', reason: 'FACE_MISMATCH' });
    await submit(1, 12);
    const r = await settled(1);
    expect(r).to.include({ status: 'pending', reason: 'FACE_UNCERTAIN' });
    expect(r.verification?.band).to.equal('uncertain');
  });

  it('rejects with the engine reason, and needs a selfie when the policy asks for one', async () => {
    engine.results.set(13, { ok: false, reason: 'FACE_NOT_FOUND', message: 'no face' });
    await submit(0, 13);
    expect(await settled(0)).to.include({ status: 'rejected', reason: 'FACE_NOT_FOUND' });
    const none = await submit(1, null);
    expect(none).to.include({ status: 'rejected', reason: 'SELFIE_REQUIRED', verifying: false });
  });

  it('runs no face work when another check fails', async () => {
    engine.results.set(10, selfieOf(vec(0)));
    const ack = await submit(0, 10, 5_000);
    expect(ack).to.include({ status: 'rejected', reason: 'GEOFENCE_OUTSIDE', verifying: false });
    expect(engine.calls).to.equal(0);
  });

  it('answers BUSY and writes nothing when the queue is full', async () => {
    engine.queueSize = 4;
    const err = await expectCode(submit(0, 10), 'BUSY');
    expect(err.details).to.deep.equal({ retryAfterMs: 900 });
    expect(await f.store.records.getForStudent(f.org.id, session.id, f.students[0]!.id)).to.equal(null);
  });

  it('waits for room when the pool turns BUSY after the check-in was acknowledged', async () => {
    // The submit-time queue check passed, then a burst filled the queue before this selfie got in.
    engine.results.set(10, selfieOf(vec(0, 1, 0.1)));
    engine.busyFor = 2;
    const ack = await submit(0, 10);
    expect(ack).to.include({ status: 'pending', verifying: true });
    const record = await settled(0);
    expect(record).to.include({ status: 'present', reason: 'FACE_MATCH' });
    expect(record.verification?.state).to.equal('done');
    expect(engine.calls).to.equal(3);
  });

  it('gives up waiting for room after the retry budget, counted on the domain clock', async () => {
    engine.results.set(10, selfieOf(vec(0, 1, 0.1)));
    engine.busyFor = 100_000;
    const from = f.clock.now().getTime();
    await submit(0, 10);
    const record = await settled(0);
    expect(record).to.include({ status: 'pending', reason: 'FACE_CHECK_FAILED' });
    expect(record.verification?.state).to.equal('failed');
    expect(engine.calls).to.be.above(1);
    // The fixture's timer moves the clock: the retries spent about the minute's budget, and no real time.
    const spent = f.clock.now().getTime() - from;
    expect(spent).to.be.within(50_000, 60_000);
  });

  it('does not retry a timed-out analysis: the record goes to the teacher', async () => {
    engine.results.set(10, selfieOf(vec(0, 1, 0.1)));
    engine.busyFor = 1;
    const original = engine.analyse.bind(engine);
    engine.analyse = async (image) => {
      if (engine.busyFor > 0) {
        engine.busyFor--;
        engine.calls++;
        throw new AppError('BUSY', undefined, { retryAfterMs: 20, cause: 'timeout' });
      }
      return original(image);
    };
    await submit(0, 10);
    const record = await settled(0);
    expect(record).to.include({ status: 'pending', reason: 'FACE_CHECK_FAILED' });
    expect(record.flags).to.include('FACE_CHECK_FAILED');
    expect(record.verification?.state).to.equal('failed');
    expect(engine.calls).to.equal(1);
  });

  it('sends a student without enrolment to the teacher, and a worker failure too', async () => {
    engine.results.set(14, selfieOf(vec(5)));
    engine.results.set(15, new Error('worker died'));
    await submit(4, 14);
    expect(await settled(4)).to.include({ status: 'pending', reason: 'FACE_NOT_ENROLLED' });
    await submit(5, 15);
    const failed = await settled(5);
    expect(failed).to.include({ status: 'pending', reason: 'FACE_CHECK_FAILED' });
    expect(failed.verification?.state).to.equal('failed');
    // The student's page hears that the check is over, and why.
    const pushed = f.events.filter((e) => e.type === 'roster.changed' && e.studentId === f.students[5]!.id).at(-1);
    expect(pushed?.type === 'roster.changed' && pushed.checkin).to.include({
      status: 'pending',
      reason: 'FACE_CHECK_FAILED',
      verifying: false,
    });
  });

  it('reports an enrolment made with another face model for re-enrolment, never comparing it', async () => {
    // Student 0's reference was made by an earlier embedder; the selfie is their own face, and
    // student 1's current reference is the closest: neither a match nor a mismatch must come of it.
    await f.store.faces.put({
      orgId: f.org.id,
      userId: f.students[0]!.id,
      modelId: 'earlier-model',
      modelVersion: '1',
      embeddings: [Array.from(vec(0))],
      photos: null,
    });
    engine.results.set(17, selfieOf(vec(0, 1, 0.1)));
    await submit(0, 17);
    const r = await settled(0);
    expect(r).to.include({ status: 'pending', reason: 'FACE_REENROL_NEEDED' });
    expect(r.verification).to.include({ band: 'no-enrolment', reason: 'FACE_REENROL_NEEDED' });
    expect(r.flags).to.include('FACE_REENROL_NEEDED');
  });

  it('flags a possible proxy (another enrolled student matches better) and low antispoof scores', async () => {
    // Claims to be student 0 (a mismatch) with a face close to student 2's enrolment.
    engine.results.set(16, selfieOf(vec(2, 0, 0.3)));
    await submit(0, 16);
    const r = await settled(0);
    expect(r).to.include({ status: 'pending', reason: 'POSSIBLE_PROXY' });
    expect(r.flags).to.include('POSSIBLE_PROXY');
    engine.results.set(17, selfieOf(vec(1), 0.1, 0.9));
    await submit(1, 17);
    const s = await settled(1);
    expect(s).to.include({ status: 'pending', reason: 'SPOOF_SUSPECTED' });
  });

  it('flags a face already checked in as another student in this session', async () => {
    // Student 5 has no enrolment; their selfie (along axis 6) waits for the teacher, its probe kept.
    engine.results.set(18, selfieOf(vec(6)));
    await submit(5, 18);
    await settled(5);
    // Student 3 claims with the same face; their own enrolment is far (mismatch), student 5's probe is identical.
    engine.results.set(19, selfieOf(vec(6, 3, 0.05)));
    await submit(3, 19);
    const r = await settled(3);
    expect(r).to.include({ status: 'pending', reason: 'POSSIBLE_PROXY' });
  });

  describe('with FACE_CONSENT_REQUIRED', () => {
    const consent = (i: number) =>
      f.store.consents.create({
        orgId: f.org.id,
        userId: f.students[i]!.id,
        purpose: 'face',
        textVersion: 'v1',
        givenBy: 'student',
        guardianName: null,
        recordedBy: f.students[i]!.id,
        givenAt: f.clock.now(),
      });
    // Runs before the outer beforeEach of each test here, so their fixture is built with it.
    before(() => {
      consentRequired = true;
    });
    after(() => {
      consentRequired = false;
    });

    it('sends a student without consent to the teacher as FACE_NO_CONSENT and never analyses the selfie', async () => {
      engine.results.set(10, selfieOf(vec(0, 1, 0.1)));
      const ack = await submit(0, 10);
      expect(ack).to.include({ status: 'pending', reason: 'FACE_NO_CONSENT', verifying: false });
      const record = (await f.store.records.getForStudent(f.org.id, session.id, f.students[0]!.id))!;
      expect(record).to.include({ status: 'pending', reason: 'FACE_NO_CONSENT' });
      expect(record.flags).to.include('FACE_NO_CONSENT');
      expect(record.verification).to.equal(null);
      // No selfie is needed either: the teacher decides.
      expect(await submit(2, null)).to.include({ status: 'pending', reason: 'FACE_NO_CONSENT' });
      expect(engine.calls).to.equal(0);
    });

    it('matches a student with a standing consent, and not after it is withdrawn', async () => {
      await consent(1);
      engine.results.set(11, selfieOf(vec(1, 2, 0.1)));
      await submit(1, 11);
      expect(await settled(1)).to.include({ status: 'present', reason: 'FACE_MATCH' });
      await f.store.consents.withdraw(f.org.id, f.students[1]!.id, 'face', f.students[1]!.id, f.clock.now());
      await consent(3);
      await f.store.consents.withdraw(f.org.id, f.students[3]!.id, 'face', f.students[3]!.id, f.clock.now());
      engine.results.set(13, selfieOf(vec(3, 4, 0.1)));
      expect(await submit(3, 13)).to.include({ status: 'pending', reason: 'FACE_NO_CONSENT' });
      expect(engine.calls).to.equal(1);
    });
  });
});

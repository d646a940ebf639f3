import { expect } from 'chai';
import { codeAt } from '../../../src/domain/checks/rotating-code.js';
import type { AnalyseResult, FramePose } from '../../../src/domain/face/face-types.js';
import type { ChallengeView, SessionView } from '../../../src/shared/events.js';
import { createLiveFixture, northOf, type LiveFixture } from '../../support/live-fixture.js';
import { expectCode } from '../../support/expect-code.js';
import { waitFor } from '../../support/sockets.js';
import { FakeFaceEngine, fakeAnalysis, fakeFace } from '../../support/fake-face-engine.js';
import { decideSelfie } from '../../../src/domain/face/selfie-decision.js';
import type { LivenessVerdict } from '../../../src/domain/face/liveness.js';

const axis = (i: number): Float32Array => Float32Array.from({ length: 8 }, (_, k) => (k === i ? 1 : 0));

describe('liveness step of selfie check-ins (domain, fake face engine)', () => {
  let f: LiveFixture;
  let engine: FakeFaceEngine;
  /** The turn each frame shows, by the frame's first byte; every frame is student 0's face. */
  let turns: number[];
  let session: SessionView;
  let secret = '';

  beforeEach(async () => {
    turns = [0, 0, 0, 0];
    // The selfie is always student 0's face; each frame shows the turn its first byte indexes.
    engine = new FakeFaceEngine({ frames: (frame): FramePose => ({ ok: true, turn: turns[frame[0]!]!, ear: 0.3, embedding: axis(0) }) });
    engine.fallback = fakeAnalysis([fakeFace(axis(0))]);
    f = await createLiveFixture({ face: engine, faceSettings: { confident: 0.5, uncertain: 0.8, minReal: 0.3, minLive: 0.3 } });
    session = await f.live.sessions.open(f.actor(f.teacher), { subjectId: f.subject.id, policy: { selfie: true, liveness: true } });
    secret = (await f.store.sessions.get(f.org.id, session.id))!.codeSecret;
    await f.store.faces.put({
      orgId: f.org.id,
      userId: f.students[0]!.id,
      modelId: 'fake',
      modelVersion: '1',
      embeddings: [Array.from(axis(0))],
      photos: null,
    });
  });
  afterEach(() => f.close());

  const student = () => f.actor(f.students[0]!);
  const frames = (n: number) => Array.from({ length: n }, (_, i) => Uint8Array.of(i, 9, 9));
  const submit = (liveness?: { token: string; frames: Uint8Array[] }) =>
    f.live.checkins.submit(student(), {
      sessionId: session.id,
      location: { ...northOf(5), accuracyM: 10, timestamp: new Date(f.clock.now().getTime() - 1_000) },
      code: codeAt(secret, 15, f.clock.now()),
      selfie: Uint8Array.of(1, 2, 3),
      ...(liveness ? { liveness } : {}),
      ip: '10.1.2.3',
    });
  const settled = async () => {
    await waitFor(
      async () => (await f.store.records.getForStudent(f.org.id, session.id, f.students[0]!.id))?.verification?.state !== 'queued',
    );
    return (await f.store.records.getForStudent(f.org.id, session.id, f.students[0]!.id))!;
  };
  /** A challenge of the kind wanted (they are random: ask until one comes). */
  async function challenge(kind: ChallengeView['challenge']): Promise<ChallengeView> {
    for (;;) {
      const c = await f.live.checkins.challenge(student(), session.id);
      if (c.challenge === kind) return c;
    }
  }

  it('shows liveness in the session policy, and refuses it without the selfie or the engine for it', async () => {
    expect(session.policy).to.include({ selfie: true, liveness: true });
    const open = (policy: object, domain = f.domain) =>
      domain.attendance.sessions.open(f.actor(f.teacher), { subjectId: f.subject.id, policy, parallel: true });
    await expectCode(open({ selfie: false, liveness: true }), 'VALIDATION_FAILED');
    // An engine that compares selfies but cannot analyse frames.
    const selfieOnly = f.build({ face: new FakeFaceEngine() });
    await expectCode(open({ selfie: true, liveness: true }, selfieOnly), 'POLICY_UNSUPPORTED');
    expect((await open({ selfie: true })).policy.liveness).to.equal(false);
  });

  it('issues a signed challenge with its prompt and frame counts; refuses it where the policy has none', async () => {
    const c = await f.live.checkins.challenge(student(), session.id);
    expect(['turn-left', 'turn-right', 'blink']).to.include(c.challenge);
    expect(c).to.include({ minFrames: 3, maxFrames: 6, captureMs: 3_000 });
    expect(new Date(c.expiresAt).getTime() - f.clock.now().getTime()).to.equal(30_000);
    const plain = await f.live.sessions.open(f.actor(f.teacher), { subjectId: f.subject.id, policy: { selfie: true }, parallel: true });
    await expectCode(f.live.checkins.challenge(student(), plain.id), 'LIVENESS_NOT_REQUIRED');
  });

  it('refuses a selfie without its challenge, or with an expired or edited one, storing nothing', async () => {
    await expectCode(submit(), 'LIVENESS_REQUIRED');
    const c = await challenge('turn-left');
    const edited = c.token.replace('turn-left', 'turn-right');
    await expectCode(submit({ token: edited, frames: frames(4) }), 'LIVENESS_CHALLENGE_INVALID');
    f.clock.advance(30_001);
    await expectCode(submit({ token: c.token, frames: frames(4) }), 'LIVENESS_CHALLENGE_INVALID');
    expect(await f.store.records.getForStudent(f.org.id, session.id, f.students[0]!.id)).to.equal(null);
    expect(engine.frameCalls).to.equal(0);
  });

  it('accepts a matching selfie whose frames turn as asked, with LIVENESS_OK for the teacher', async () => {
    const c = await challenge('turn-left');
    turns = [0, 0.1, 0.3, 0.4];
    await submit({ token: c.token, frames: frames(4) });
    const r = await settled();
    expect(r).to.include({ status: 'present', reason: 'FACE_MATCH' });
    expect(r.verification?.flags).to.include('LIVENESS_OK');
    expect(engine.framesSeen).to.equal(4);
  });

  it('sends a matching selfie with still frames to the teacher as LIVENESS_FAILED', async () => {
    const c = await challenge('turn-right');
    turns = [0.05, 0.05, 0.05, 0.05];
    const ack = await submit({ token: c.token, frames: frames(4) });
    expect(ack).to.include({ status: 'pending', verifying: true });
    const r = await settled();
    expect(r).to.include({ status: 'pending', reason: 'LIVENESS_FAILED' });
    expect(r.flags).to.include('LIVENESS_FAILED');
    expect(r.verification).to.include({ band: 'confident' });
    expect(r.verification?.flags).to.include('LIVENESS_FAILED');
  });

  it('fails a turn the other way than asked', async () => {
    const c = await challenge('turn-right');
    turns = [0, 0.2, 0.4];
    await submit({ token: c.token, frames: frames(3) });
    expect(await settled()).to.include({ status: 'pending', reason: 'LIVENESS_FAILED' });
  });

  it('ranks a failed liveness under a mismatch and an uncertain match, above the spoof flag', () => {
    const base = { status: 'present' as const, reason: null, flags: [] };
    const settings = { confident: 0.5, uncertain: 0.8, minReal: 0.3, minLive: 0.3 };
    const failed: LivenessVerdict = { passed: false, failure: 'no-movement', motion: 0, maxDistance: 0.1 };
    const analysis = (embedding: Float32Array, real = 0.7): AnalyseResult => ({
      ok: true,
      faces: [
        {
          box: { x: 0, y: 0, width: 9, height: 9 },
          score: 1,
          embedding,
          quality: { eyeDistancePx: 60, faceSizePx: 200, sharpness: 50, brightness: 120 },
          real,
          live: 0.7,
        },
      ],
      image: { width: 9, height: 9 },
      modelId: 'fake',
      modelVersion: '1',
      timings: { decode: 0, detect: 0, embed: 0, total: 0 },
    });
    const enrolled = [Array.from(axis(0))];
    const at = new Date(0);
    expect(decideSelfie(base, analysis(axis(3)), enrolled, [], settings, at, failed)).to.include({
      status: 'rejected',
      reason: 'FACE_MISMATCH',
    });
    const tilted = Float32Array.from([Math.cos(0.6), Math.sin(0.6), 0, 0, 0, 0, 0, 0]);
    const uncertain = decideSelfie(base, analysis(tilted), enrolled, [], settings, at, failed);
    expect(uncertain).to.include({ status: 'pending', reason: 'FACE_UNCERTAIN' });
    expect(uncertain.flags).to.include('LIVENESS_FAILED');
    const spoofed = decideSelfie(base, analysis(axis(0), 0.1), enrolled, [], settings, at, failed);
    expect(spoofed).to.include({ status: 'pending', reason: 'LIVENESS_FAILED' });
    expect(spoofed.flags).to.include.members(['LIVENESS_FAILED', 'SPOOF_SUSPECTED']);
    // No liveness step: the verdict is as before, with no liveness flag.
    const plain = decideSelfie(base, analysis(axis(0)), enrolled, [], settings, at);
    expect(plain).to.include({ status: 'present', reason: 'FACE_MATCH' });
    expect(plain.verification.flags).to.deep.equal(['FACE_MATCH']);
  });
});

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { AppError } from '../../src/shared/app-error.js';
import { loadFaceConfig, type FaceConfig } from '../../src/face/face-config.js';
import { FacePool } from '../../src/face/face-pool.js';
import { FacePoolEngine, faceReadinessCheck } from '../../src/adapters/face-pool-engine.js';
import type { AnalyseResult, AnalyseSuccess } from '../../src/domain/face/face-types.js';
import { bandOf, distance } from '../../src/domain/face/matching.js';
import { blankJpeg, FACES_DIR, hugePngHeader, SKIP_NO_FACES, tinyFaceJpeg, truncated, withFaceBehind } from '../support/face-images.js';
import { skipBecause } from '../support/skip.js';

// One pool, one thread, models loaded once for the whole file: loading takes seconds.
describe('face pool (real models)', function () {
  this.timeout(120_000);
  const config: FaceConfig = { ...loadFaceConfig({}), poolSize: 1, maxQueue: 4, taskTimeoutMs: 60_000 };
  let pool: FacePool;
  const photo = (name: string) => readFileSync(path.join(FACES_DIR!, 'photos', name));
  const lfw = (name: string, n: number) => path.join(FACES_DIR!, 'lfw-devtrain', name, `${name}_${String(n).padStart(4, '0')}.jpg`);

  async function single(bytes: Uint8Array): Promise<AnalyseResult> {
    return pool.analyse(new Uint8Array(bytes), 'single');
  }
  async function face(bytes: Uint8Array): Promise<AnalyseSuccess> {
    const r = await single(bytes);
    if (!r.ok) throw new Error(`expected a face, got ${r.reason}: ${r.message}`);
    return r;
  }
  async function expectReason(bytes: Uint8Array, reason: string): Promise<void> {
    const r = await single(bytes);
    expect(r.ok ? 'ok' : r.reason).to.equal(reason);
  }

  /** Every refusal, cancellation or crash must leave the pool able to serve the next selfie. */
  async function expectStillServing(): Promise<void> {
    const r = await face(photo('img1.jpg'));
    expect(r.faces).to.have.length(1);
    expect(pool.status()).to.include({ ready: true, threads: 1 });
  }

  before(async function () {
    if (!FACES_DIR) {
      skipBecause(this, SKIP_NO_FACES);
    }
    pool = new FacePool({ config, allowCrashTask: true });
    await pool.start();
  });

  after(async () => {
    await pool?.close();
  });

  it('reports its engine once the models are loaded', () => {
    const s = pool.status();
    expect(s).to.include({ backend: 'wasm', modelId: 'faceapi-resnet128', ready: true, threads: 1, maxQueue: 4 });
    expect(s.modelVersion).to.match(/^face-api@[\d.]+;human@[\d.]+;/);
    // The /readyz line names the backend that ran and the embedder.
    expect(faceReadinessCheck(new FacePoolEngine(pool)).facts).to.include({ backend: 'wasm', embedder: 'faceapi-resnet128' });
  });

  it('accepts two photos of the same person in the confident band', async () => {
    const a = await face(photo('img1.jpg'));
    const b = await face(photo('img2.jpg'));
    const f = a.faces[0]!;
    expect(f.embedding).to.be.instanceOf(Float32Array).with.length(128);
    expect(Math.hypot(...f.embedding)).to.be.closeTo(1, 1e-4);
    expect(f.quality.faceSizePx).to.be.above(config.gates.minFacePx);
    expect(bandOf(distance(f.embedding, b.faces[0]!.embedding), config.thresholds)).to.equal('confident');
  });

  it('accepts two LFW photos of the same person in the confident band', async () => {
    const a = await face(readFileSync(lfw('Aaron_Peirsol', 1)));
    const b = await face(readFileSync(lfw('Aaron_Peirsol', 2)));
    expect(bandOf(distance(a.faces[0]!.embedding, b.faces[0]!.embedding), config.thresholds)).to.equal('confident');
  });

  // socket.io hands binary attachments over as Node Buffers, often views into one read of the
  // connection (a selfie and its liveness frames side by side). Buffer#slice is a view, not a
  // copy: the pool used to transfer the whole shared ArrayBuffer to its worker, detaching the
  // frames, and a docs-following client's liveness check-in ended as FACE_CHECK_FAILED.
  it('copies a Buffer view before handing it to a worker, leaving the bytes beside it usable', async () => {
    const selfie = readFileSync(lfw('Aaron_Peirsol', 1));
    const frame = readFileSync(lfw('Aaron_Peirsol', 2));
    const chunk = Buffer.concat([selfie, frame, frame]);
    const selfieView = chunk.subarray(0, selfie.length);
    const frameViews = [chunk.subarray(selfie.length, selfie.length + frame.length), chunk.subarray(selfie.length + frame.length)];
    const r = await pool.analyse(selfieView, 'single');
    expect(r.ok ? 'ok' : r.reason).to.equal('ok');
    expect(
      frameViews.map((f) => f.byteLength),
      'the shared buffer was detached',
    ).to.deep.equal([frame.length, frame.length]);
    const measured = await pool.analyseFrames(frameViews);
    expect(measured.frames.map((f) => (f.ok ? true : f.reason))).to.deep.equal([true, true]);
    expect(selfieView[0]).to.equal(0xff);
  });

  it('puts another person in the mismatch band', async () => {
    const a = await face(photo('img1.jpg'));
    const b = await face(photo('img20.jpg'));
    expect(bandOf(distance(a.faces[0]!.embedding, b.faces[0]!.embedding), config.thresholds)).to.equal('mismatch');
  });

  it('refuses an image with no face', async () => {
    await expectReason(await blankJpeg(), 'FACE_NOT_FOUND');
    await expectStillServing();
  });

  it('refuses two faces in single mode and returns both in all mode', async () => {
    await expectReason(photo('couple.jpg'), 'FACE_MULTIPLE');
    const all = await pool.analyse(new Uint8Array(photo('couple.jpg')), 'all');
    expect(all.ok && all.faces.length).to.equal(2);
    await expectStillServing();
  });

  it('keeps the main face of a selfie with a far smaller face behind it; single mode (enrolment) still refuses it', async () => {
    const behind = await withFaceBehind(photo('img1.jpg'), lfw('Aaron_Peirsol', 1), 0.3);
    const all = await pool.analyse(new Uint8Array(behind), 'all');
    if (!all.ok) throw new Error(`expected faces, got ${all.reason}`);
    const [main, other] = all.faces;
    expect(all.faces, 'both faces are found').to.have.length(2);
    expect(other!.box.width / main!.box.width, 'the face behind is under the ratio').to.be.below(config.secondFaceRatio);

    const selfie = await pool.analyse(new Uint8Array(behind), 'selfie');
    if (!selfie.ok) throw new Error(`expected the main face, got ${selfie.reason}`);
    expect(selfie.faces).to.have.length(1);
    expect(selfie.faces[0]!.box).to.deep.equal(main!.box);
    expect(distance(selfie.faces[0]!.embedding, main!.embedding)).to.be.below(1e-6);
    await expectReason(behind, 'FACE_MULTIPLE');
  });

  it('refuses a selfie with a comparable second face: two people side by side, a group selfie', async () => {
    const verdict = async (name: string) => {
      const r = await pool.analyse(new Uint8Array(photo(name)), 'selfie');
      return r.ok ? 'ok' : `${r.reason} ${String(r.details?.['faces'])}`;
    };
    // Face widths 678 and 668 px (0.99); the group selfie's 207, 165 (0.80), 143 (0.69) and 90 px.
    expect(await verdict('couple.jpg')).to.equal('FACE_MULTIPLE 2');
    expect(await verdict('selfie-many-people.jpg')).to.equal('FACE_MULTIPLE 2');
    await expectStillServing();
  });

  it('refuses a tiny face', async () => {
    const r = await single(await tinyFaceJpeg(lfw('Aaron_Peirsol', 1), 90, 1000));
    expect(r.ok ? 'ok' : r.reason).to.equal('FACE_TOO_SMALL');
    expect(!r.ok && r.details?.['faceSizePx']).to.be.below(config.gates.minFacePx);
    await expectStillServing();
  });

  it('refuses a corrupt file', async () => {
    await expectReason(truncated(photo('img1.jpg')), 'IMAGE_INVALID');
    await expectReason(Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(5000, 7)]), 'IMAGE_INVALID');
    await expectStillServing();
  });

  it('refuses a 60 MB upload', async () => {
    const big = Buffer.alloc(60 * 1024 * 1024);
    big.set(photo('img1.jpg').subarray(0, 3));
    await expectReason(big, 'IMAGE_TOO_LARGE');
    await expectStillServing();
  });

  it('refuses a 20000 x 20000 PNG', async () => {
    await expectReason(hugePngHeader(), 'IMAGE_TOO_MANY_PIXELS');
    await expectStillServing();
  });

  it('scores genuine and spoofed captures with antispoof and liveness', async () => {
    for (const name of ['image_T1.jpg', 'image_F1.jpg', 'image_F2.jpg']) {
      const r = await face(readFileSync(path.join(FACES_DIR!, 'spoof', name)));
      const f = r.faces[0]!;
      expect(f.real, name).to.be.a('number').within(0, 1);
      expect(f.live, name).to.be.a('number').within(0, 1);
    }
  });

  it('answers BUSY with a retry hint when the queue is full, and serves the rest', async () => {
    const img = photo('img1.jpg');
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, () =>
        pool.analyse(new Uint8Array(img), 'single').then(
          (r) => (r.ok ? 'ok' : r.reason),
          (err: unknown) => err,
        ),
      ),
    );
    const busy = outcomes.filter((o): o is AppError => o instanceof AppError);
    // One running and four queued fit; the other three are refused at once.
    expect(outcomes.filter((o) => o === 'ok')).to.have.length(5);
    expect(busy).to.have.length(3);
    for (const e of busy) {
      expect(e.code).to.equal('BUSY');
      expect(e.details?.['retryAfterMs']).to.be.a('number').above(0);
    }
    expect(pool.status().queueSize).to.equal(0);
    await expectStillServing();
  });

  it('cancels a task through its AbortSignal', async () => {
    const controller = new AbortController();
    const pending = pool.analyse(new Uint8Array(photo('img1.jpg')), 'single', { signal: controller.signal });
    controller.abort(new Error('client went away'));
    let caught: unknown = null;
    await pending.catch((err: unknown) => (caught = err));
    expect((caught as Error | null)?.message).to.equal('client went away');
    await expectStillServing();
  });

  it('replaces a crashed worker without losing the queued tasks', async () => {
    const img = photo('img1.jpg');
    const crash = pool.crashWorkerForTest().then(
      () => 'resolved',
      (err: unknown) => err,
    );
    const queued = [1, 2, 3].map(() => pool.analyse(new Uint8Array(img), 'single'));
    const crashed = await crash;
    expect(crashed).to.be.instanceOf(AppError);
    expect((crashed as AppError).code).to.equal('UNAVAILABLE');
    const results = await Promise.all(queued);
    expect(results.map((r) => r.ok)).to.deep.equal([true, true, true]);
    expect(pool.status().threads).to.equal(1);
    await expectStillServing();
  });
});

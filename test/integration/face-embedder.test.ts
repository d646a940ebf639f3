import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { expect } from 'chai';
import { EMBEDDER_BANDS, loadFaceConfig, type FaceConfig } from '../../src/face/face-config.js';
import { FacePool } from '../../src/face/face-pool.js';
import { FacePoolEngine, faceReadinessCheck } from '../../src/adapters/face-pool-engine.js';
import type { AnalyseSuccess } from '../../src/domain/face/face-types.js';
import { bandOf, distance } from '../../src/domain/face/matching.js';
import { FACES_DIR, SKIP_NO_FACES } from '../support/face-images.js';
import { skipBecause } from '../support/skip.js';

// FACE_EMBEDDER=faceplugin-feature: the net and onnxruntime-node load from their npm packages
// inside a real worker, and its calibrated bands decide same and different people. The two
// packages are an operator's opt-in, not dependencies (docs/face.md "Embedders"): without them
// the suite is skipped and says so.
const OPT_IN_PACKAGES = ['faceplugin-face-recognition-js', 'onnxruntime-node'];
const missing = OPT_IN_PACKAGES.filter((name) => {
  try {
    createRequire(import.meta.url).resolve(`${name}/package.json`);
    return false;
  } catch {
    return true;
  }
});

describe('face pool with FACE_EMBEDDER=faceplugin-feature (real models)', function () {
  this.timeout(120_000);
  const config: FaceConfig = {
    ...loadFaceConfig({ FACE_EMBEDDER: 'faceplugin-feature' }),
    poolSize: 1,
    maxQueue: 4,
    taskTimeoutMs: 60_000,
  };
  let pool: FacePool;
  const photo = (name: string) => readFileSync(path.join(FACES_DIR!, 'photos', name));
  const lfw = (name: string, n: number) => path.join(FACES_DIR!, 'lfw-devtrain', name, `${name}_${String(n).padStart(4, '0')}.jpg`);
  async function face(bytes: Uint8Array): Promise<AnalyseSuccess> {
    const r = await pool.analyse(new Uint8Array(bytes), 'single');
    if (!r.ok) throw new Error(`expected a face, got ${r.reason}: ${r.message}`);
    return r;
  }
  const band = (a: AnalyseSuccess, b: AnalyseSuccess) => bandOf(distance(a.faces[0]!.embedding, b.faces[0]!.embedding), config.thresholds);

  before(async function () {
    if (!FACES_DIR) skipBecause(this, SKIP_NO_FACES);
    if (missing.length > 0) skipBecause(this, `FACE_EMBEDDER=faceplugin-feature needs ${missing.join(' and ')} (not installed)`);
    pool = new FacePool({ config });
    await pool.start();
  });
  after(async () => {
    await pool?.close();
  });

  it("takes the embedder's own bands and names it, with the backend, in the engine line", () => {
    expect(config.thresholds).to.deep.equal(EMBEDDER_BANDS['faceplugin-feature']);
    const s = pool.status();
    expect(s).to.include({ modelId: 'faceplugin-feature', ready: true });
    expect(s.backend).to.be.oneOf(['wasm', 'tensorflow']);
    expect(s.modelVersion).to.match(/^faceplugin@[\d.]+;human@[\d.]+;align=mesh-/);
    const facts = faceReadinessCheck(new FacePoolEngine(pool)).facts;
    expect(facts).to.include({ backend: s.backend, embedder: 'faceplugin-feature' });
  });

  it('embeds a face as a 512-d unit vector', async () => {
    const f = (await face(photo('img1.jpg'))).faces[0]!;
    expect(f.embedding).to.be.instanceOf(Float32Array).with.length(512);
    expect(Math.hypot(...f.embedding)).to.be.closeTo(1, 1e-4);
  });

  it('accepts photos of the same person in the confident band', async () => {
    expect(band(await face(photo('img1.jpg')), await face(photo('img2.jpg')))).to.equal('confident');
    expect(band(await face(photo('img13.jpg')), await face(photo('img14.jpg')))).to.equal('confident');
    expect(band(await face(readFileSync(lfw('Aaron_Peirsol', 1))), await face(readFileSync(lfw('Aaron_Peirsol', 2))))).to.equal(
      'confident',
    );
  });

  it('puts different people in the mismatch band', async () => {
    expect(band(await face(photo('img1.jpg')), await face(photo('img20.jpg')))).to.equal('mismatch');
    expect(band(await face(photo('img13.jpg')), await face(photo('img18.jpg')))).to.equal('mismatch');
  });
});

// The chip net aligned on blazeface's keypoints instead of the mesh (face-eval's `--landmarks
// keypoints`, the landmark-source comparison of docs/face.md): it runs in the pool and still
// tells the same person from another at the net's bands.
describe('face pool with faceplugin-feature on detector keypoints (real models)', function () {
  this.timeout(120_000);
  const config: FaceConfig = {
    ...loadFaceConfig({ FACE_EMBEDDER: 'faceplugin-feature' }),
    poolSize: 1,
    maxQueue: 4,
    taskTimeoutMs: 60_000,
  };
  let pool: FacePool;
  const photo = (name: string) => readFileSync(path.join(FACES_DIR!, 'photos', name));
  const embed = async (name: string) => {
    const r = await pool.analyse(new Uint8Array(photo(name)), 'single');
    if (!r.ok) throw new Error(`expected a face in ${name}, got ${r.reason}`);
    return r.faces[0]!.embedding;
  };

  before(async function () {
    if (!FACES_DIR) skipBecause(this, SKIP_NO_FACES);
    if (missing.length > 0) skipBecause(this, `faceplugin-feature needs ${missing.join(' and ')} (not installed)`);
    pool = new FacePool({ config, embedder: { landmarks: 'keypoints' } });
    await pool.start();
  });
  after(async () => {
    await pool?.close();
  });

  it('names the keypoint alignment and decides same and different people', async () => {
    expect(pool.status().modelVersion).to.match(/align=keypoints-/);
    const img1 = await embed('img1.jpg');
    expect(img1).to.have.length(512);
    expect(bandOf(distance(img1, await embed('img2.jpg')), config.thresholds)).to.equal('confident');
    expect(bandOf(distance(img1, await embed('img20.jpg')), config.thresholds)).to.equal('mismatch');
  });
});

import { expect } from 'chai';
import { analyserSettings, EMBEDDER_BANDS, FaceConfigError, loadFaceConfig } from '../../../src/face/face-config.js';

describe('face config', () => {
  it('has documented defaults', () => {
    const c = loadFaceConfig({});
    expect(c.poolSize).to.be.within(1, 4);
    expect(c.image).to.deep.equal({ maxBytes: 8 * 1024 * 1024, maxPixels: 40_000_000, maxSide: 1280 });
    expect(c.keepPhotos).to.equal(false);
    expect(c.thresholds.confident).to.be.below(c.thresholds.uncertain);
  });

  it('reads FACE_* variables and ignores empty ones', () => {
    const c = loadFaceConfig({
      FACE_POOL_SIZE: '2',
      FACE_MAX_QUEUE: '7',
      FACE_TASK_TIMEOUT_MS: '5000',
      FACE_MIN_FACE_PX: '',
      FACE_CONFIDENT_DISTANCE: '0.3',
      FACE_UNCERTAIN_DISTANCE: '0.5',
      FACE_KEEP_PHOTOS: 'true',
    });
    expect(c).to.deep.include({ poolSize: 2, maxQueue: 7, taskTimeoutMs: 5000, keepPhotos: true });
    expect(c.thresholds).to.deep.equal({ confident: 0.3, uncertain: 0.5 });
    expect(c.gates.minFacePx).to.equal(loadFaceConfig({}).gates.minFacePx);
    expect(analyserSettings(c)).to.deep.include({ maxImageBytes: 8 * 1024 * 1024, minFacePx: c.gates.minFacePx });
  });

  it('rejects bad values with every problem named', () => {
    let thrown: unknown = null;
    try {
      loadFaceConfig({ FACE_POOL_SIZE: '0', FACE_KEEP_PHOTOS: 'maybe' });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).to.be.instanceOf(FaceConfigError);
    const problems = (thrown as FaceConfigError).problems.join('\n');
    expect(problems).to.include('FACE_POOL_SIZE').and.include('FACE_KEEP_PHOTOS');
  });

  it('limits the faces of a class photo to FACE_MAX_FACES (60 by default) and hands it to the worker', () => {
    expect(loadFaceConfig({}).maxFaces).to.equal(60);
    const c = loadFaceConfig({ FACE_MAX_FACES: '120' });
    expect(c.maxFaces).to.equal(120);
    expect(analyserSettings(c).maxFaces).to.equal(120);
    expect(() => loadFaceConfig({ FACE_MAX_FACES: '0' })).to.throw(FaceConfigError, /FACE_MAX_FACES/);
  });

  it('hands FACE_SECOND_FACE_RATIO (0.7 by default, 0 to 1) to the worker', () => {
    expect(analyserSettings(loadFaceConfig({})).secondFaceRatio).to.equal(0.7);
    expect(analyserSettings(loadFaceConfig({ FACE_SECOND_FACE_RATIO: '0.5' })).secondFaceRatio).to.equal(0.5);
    expect(analyserSettings(loadFaceConfig({ FACE_SECOND_FACE_RATIO: '0' })).secondFaceRatio).to.equal(0);
    expect(() => loadFaceConfig({ FACE_SECOND_FACE_RATIO: '1.2' })).to.throw(FaceConfigError, /FACE_SECOND_FACE_RATIO/);
  });

  it('rejects a confident threshold above the uncertain one', () => {
    expect(() => loadFaceConfig({ FACE_CONFIDENT_DISTANCE: '0.6', FACE_UNCERTAIN_DISTANCE: '0.5' })).to.throw(
      FaceConfigError,
      /FACE_CONFIDENT_DISTANCE/,
    );
  });

  it('selects the embedder with FACE_EMBEDDER, and the bands follow it unless set', () => {
    expect(loadFaceConfig({})).to.deep.include({ embedder: 'faceapi-resnet128', thresholds: { confident: 0.4, uncertain: 0.48 } });
    const plugin = loadFaceConfig({ FACE_EMBEDDER: 'faceplugin-feature' });
    expect(plugin.embedder).to.equal('faceplugin-feature');
    expect(plugin.thresholds).to.deep.equal(EMBEDDER_BANDS['faceplugin-feature']);
    expect(plugin.thresholds.confident).to.be.above(1);
    expect(loadFaceConfig({ FACE_EMBEDDER: 'faceplugin-feature', FACE_UNCERTAIN_DISTANCE: '1.3' }).thresholds).to.deep.equal({
      confident: EMBEDDER_BANDS['faceplugin-feature'].confident,
      uncertain: 1.3,
    });
    // A band set for one net that contradicts the other's default is caught, whichever is explicit.
    expect(() => loadFaceConfig({ FACE_EMBEDDER: 'faceplugin-feature', FACE_UNCERTAIN_DISTANCE: '0.5' })).to.throw(
      FaceConfigError,
      /FACE_CONFIDENT_DISTANCE/,
    );
    expect(() => loadFaceConfig({ FACE_EMBEDDER: 'mobilefacenet' })).to.throw(FaceConfigError, /FACE_EMBEDDER/);
  });
});

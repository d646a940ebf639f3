import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { AppError } from '../../src/shared/app-error.js';
import { loadFaceConfig, type FaceConfig } from '../../src/face/face-config.js';
import { FacePool } from '../../src/face/face-pool.js';
import { FacePoolEngine, faceReadinessCheck } from '../../src/adapters/face-pool-engine.js';
import { blankJpeg, FACES_DIR, SKIP_NO_FACES } from '../support/face-images.js';
import { HeldDeadlines } from '../support/held-deadlines.js';
import { skipBecause } from '../support/skip.js';

/** The rejection of `p`, or 'resolved'. */
async function rejectionOf(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => 'resolved',
    (err: unknown) => err,
  );
}

// Face workers failing in the ways a school meets: models that do not load at boot, and a worker
// that never answers. Each selfie must be answered within the documented time, and the pool must
// say why it cannot serve (status, /readyz) or serve again.
describe('face pool faults', function () {
  this.timeout(120_000);

  describe('models that fail to load', () => {
    // The opt-in embedder without its packages installed: the workers fail while loading.
    const config: FaceConfig = {
      ...loadFaceConfig({ FACE_EMBEDDER: 'faceplugin-feature' }),
      poolSize: 1,
      maxQueue: 4,
      taskTimeoutMs: 20_000,
    };
    const deadlines = new HeldDeadlines();
    let pool: FacePool;

    before(function () {
      try {
        import.meta.resolve('faceplugin-face-recognition-js');
        skipBecause(this, 'faceplugin-face-recognition-js is installed here, so its models load');
      } catch {
        // Not installed: the case under test.
      }
      pool = new FacePool({ config, deadline: deadlines.make });
    });
    after(() => pool?.close());

    it('refuses selfies at once with UNAVAILABLE, and says why in its status and on /readyz', async () => {
      const started = await rejectionOf(pool.start());
      expect((started as Error).message).to.match(/faceplugin-face-recognition-js/);

      const image = await blankJpeg();
      // No deadline here ever passes: a refusal that waited for one would never come (the test
      // would time out), so answering at all shows nothing waited for a worker that cannot load.
      const refused = await rejectionOf(pool.analyse(new Uint8Array(image), 'single'));
      expect(refused).to.be.instanceOf(AppError);
      expect((refused as AppError).code).to.equal('UNAVAILABLE');
      expect((refused as AppError).details).to.include({ cause: 'models_failed' });

      expect(pool.status()).to.include({ ready: false });
      expect(pool.status().loadError).to.match(/faceplugin-face-recognition-js/);
      const check = faceReadinessCheck(new FacePoolEngine(pool));
      // The public probe says the models failed; the package (and the paths around it) is operator detail.
      expect(check.facts?.['loadError']).to.equal('models_failed');
      expect(check.detail?.['loadError']).to.match(/faceplugin-face-recognition-js/);
      const down = await rejectionOf(check.run());
      expect((down as Error).message).to.match(/^face models failed to load: .*faceplugin-face-recognition-js/);
    });
  });

  describe('a worker that never answers', () => {
    const config: FaceConfig = { ...loadFaceConfig({}), poolSize: 1, maxQueue: 4, taskTimeoutMs: 3_000 };
    // The test passes each deadline itself: the spinning worker's when it means to, the next
    // selfie's never, so that selfie waits for the new worker however long a loaded machine takes.
    const deadlines = new HeldDeadlines();
    let pool: FacePool;

    before(async function () {
      if (!FACES_DIR) skipBecause(this, SKIP_NO_FACES);
      pool = new FacePool({ config, allowCrashTask: true, deadline: deadlines.make });
      await pool.start();
    });
    after(() => pool?.close());

    it('answers BUSY at the task deadline, replaces the worker, and serves the next selfie', async () => {
      const photo = readFileSync(path.join(FACES_DIR!, 'photos', 'img1.jpg'));
      // The started pool's worker is idle, so the task is handed to it at once (Piscina), and
      // expiring its deadline cancels a running task: the thread is terminated.
      const hanging = rejectionOf(pool.hangWorkerForTest());
      const deadline = deadlines.last();
      expect(deadline.ms, 'the task deadline is FACE_TASK_TIMEOUT_MS').to.equal(config.taskTimeoutMs);
      deadline.expire();
      const hung = await hanging;
      expect(hung).to.be.instanceOf(AppError);
      expect((hung as AppError).code).to.equal('BUSY');
      expect((hung as AppError).details).to.include({ cause: 'timeout' });

      // The spinning thread can answer nothing: a served selfie comes from the new worker, once
      // it has loaded the models.
      const answer = await pool.analyse(new Uint8Array(photo), 'single');
      expect(deadlines.last().ms).to.equal(config.taskTimeoutMs);
      expect(answer).to.include({ ok: true });
      expect(pool.status()).to.include({ ready: true, threads: 1, loadError: null });
    });
  });
});

import { expect } from 'chai';
import { FacePoolEngine } from '../../../src/adapters/face-pool-engine.js';
import type { FacePool, FacePoolStatus } from '../../../src/face/face-pool.js';

describe('FacePoolEngine status', () => {
  it("gives the pool's own BUSY hint, so a refusal at submit and one from the pool agree", () => {
    const status: FacePoolStatus = {
      backend: 'wasm',
      modelId: 'm',
      modelVersion: '1',
      ready: true,
      threads: 2,
      queueSize: 8,
      maxQueue: 8,
      retryAfterMs: 4_321,
      loadError: null,
    };
    const engine = new FacePoolEngine({ status: () => status } as unknown as FacePool);
    expect(engine.status()).to.include({ queueSize: 8, maxQueue: 8, retryAfterMs: 4_321 });
  });
});

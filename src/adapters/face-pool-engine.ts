import type { FaceEngine, FaceEngineStatus } from '../domain/face/face-engine.js';
import type { FacePool } from '../face/face-pool.js';
import type { AnalyseMode, AnalyseResult, FramesResult } from '../domain/face/face-types.js';
import type { ReadinessCheck } from '../shared/readiness.js';

/** FaceEngine over the Piscina-backed FacePool. */
export class FacePoolEngine implements FaceEngine {
  constructor(private readonly pool: FacePool) {}

  analyse(image: Uint8Array, mode: AnalyseMode): Promise<AnalyseResult> {
    return this.pool.analyse(image, mode);
  }

  analyseFrames(frames: readonly Uint8Array[]): Promise<FramesResult> {
    return this.pool.analyseFrames(frames);
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  status(): FaceEngineStatus {
    const s = this.pool.status();
    return {
      backend: s.backend,
      modelId: s.modelId,
      ready: s.ready,
      queueSize: s.queueSize,
      maxQueue: s.maxQueue,
      // The pool's own estimate: a BUSY at submit time and one from the pool give the same hint.
      retryAfterMs: s.retryAfterMs,
      loadError: s.loadError,
    };
  }
}

/** The public /readyz says the models failed with this cause (as UNAVAILABLE's `details.cause` does). */
export const MODELS_FAILED = 'models_failed';

/**
 * /readyz entry: the backend, the embedder and whether a worker has its models loaded. Why they
 * did not load (a module resolution error naming the server's install paths) is operator
 * detail: the log, the metrics port and a bearer of the metrics token see it, the public probe
 * only that they failed.
 */
export function faceReadinessCheck(engine: FaceEngine): ReadinessCheck {
  return {
    name: 'face',
    get facts() {
      const s = engine.status();
      return {
        backend: s.backend,
        embedder: s.modelId,
        queueSize: s.queueSize,
        maxQueue: s.maxQueue,
        ...(s.loadError ? { loadError: MODELS_FAILED } : {}),
      };
    },
    get detail() {
      const { loadError } = engine.status();
      return loadError ? { loadError } : {};
    },
    run: async () => {
      const s = engine.status();
      if (s.loadError) throw new Error(`face models failed to load: ${s.loadError}`);
      if (!s.ready) throw new Error('face engine not ready');
    },
  };
}

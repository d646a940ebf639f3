import type { FaceEngine, FaceEngineStatus } from '../domain/face/face-engine.js';
import type { FacePool } from '../face/face-pool.js';
import type { AnalyseMode, AnalyseResult } from '../domain/face/face-types.js';
import type { ReadinessCheck } from '../shared/readiness.js';

/** Rough per-task time used for the retry hint when the queue is full. */
const RETRY_PER_TASK_MS = 150;

/** FaceEngine over the Piscina-backed FacePool. */
export class FacePoolEngine implements FaceEngine {
  constructor(private readonly pool: FacePool) {}

  analyse(image: Uint8Array, mode: AnalyseMode): Promise<AnalyseResult> {
    return this.pool.analyse(image, mode);
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  status(): FaceEngineStatus {
    const s = this.pool.status();
    const threads = Math.max(1, s.threads);
    return {
      backend: s.backend,
      ready: s.ready,
      queueSize: s.queueSize,
      maxQueue: s.maxQueue,
      retryAfterMs: Math.max(250, Math.ceil((s.queueSize / threads) * RETRY_PER_TASK_MS)),
    };
  }
}

/** /readyz entry: the backend and whether a worker has its models loaded. */
export function faceReadinessCheck(engine: FaceEngine): ReadinessCheck {
  return {
    name: 'face',
    get facts() {
      const s = engine.status();
      return { backend: s.backend, queueSize: s.queueSize, maxQueue: s.maxQueue };
    },
    run: async () => {
      if (!engine.status().ready) throw new Error('face engine not ready');
    },
  };
}

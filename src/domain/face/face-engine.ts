import type { AnalyseMode, AnalyseResult, BackendName, FramesResult } from './face-types.js';
import type { Thresholds } from './matching.js';

/**
 * The domain's port to face analysis. The domain never sees the worker pool: an adapter
 * (src/adapters/face-pool-engine.ts) implements this around FacePool, tests use a fake.
 */
export interface FaceEngine {
  /** Resolves with faces or a coded refusal; rejects (AppError BUSY/UNAVAILABLE) when it cannot run. */
  analyse(image: Uint8Array, mode: AnalyseMode): Promise<AnalyseResult>;
  /**
   * Measures the frames of a liveness challenge (pose and embedding of each frame's face), in
   * order. Absent on an engine without a face mesh: sessions cannot then ask for liveness.
   */
  analyseFrames?(frames: readonly Uint8Array[]): Promise<FramesResult>;
  status(): FaceEngineStatus;
  /** Stops the workers; the application calls it after socket.io and before the store. */
  close?(): Promise<void>;
}

export interface FaceEngineStatus {
  backend: BackendName | null;
  /** The recognition net's model id (FACE_EMBEDDER) once a worker has loaded it; enrolments of another are outdated. */
  modelId: string | null;
  ready: boolean;
  queueSize: number;
  maxQueue: number;
  /** Suggested wait when the queue is full. */
  retryAfterMs: number;
  /** Why the engine could not load its models, while it cannot; absent or null otherwise. */
  loadError?: string | null;
}

/** Decision thresholds: distance bands, and the antispoof/liveness scores under which a selfie is flagged. */
export interface FaceDecisionSettings extends Thresholds {
  minReal: number;
  minLive: number;
}

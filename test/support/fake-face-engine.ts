import type { FaceEngine, FaceEngineStatus } from '../../src/domain/face/face-engine.js';
import type {
  AnalyseFailure,
  AnalyseMode,
  AnalyseResult,
  AnalysedFace,
  FaceFailureReason,
  FramePose,
  FramesResult,
} from '../../src/domain/face/face-types.js';
import { AppError } from '../../src/shared/app-error.js';

const QUALITY = { eyeDistancePx: 60, faceSizePx: 200, sharpness: 50, brightness: 120 };

/** One face as the worker reports it, with good quality and antispoof scores unless given. */
export function fakeFace(embedding: Float32Array, opts: Partial<Omit<AnalysedFace, 'embedding'>> = {}): AnalysedFace {
  return { box: { x: 0, y: 0, width: 200, height: 200 }, score: 0.99, embedding, quality: QUALITY, real: 0.7, live: 0.7, ...opts };
}

/** A successful analysis finding these faces. */
export function fakeAnalysis(faces: AnalysedFace[], image = { width: 640, height: 480 }): AnalyseResult {
  return { ok: true, faces, image, modelId: 'fake', modelVersion: '1', timings: { decode: 1, detect: 1, embed: 1, total: 3 } };
}

/** The coded refusal the workers give an image they will not analyse. */
export function fakeRefusal(reason: FaceFailureReason, message = 'refused by the fake engine'): AnalyseFailure {
  return { ok: false, reason, message };
}

/** What the engine answers an image: a fixed result, an error to throw, or one computed from the image. */
export type FakeAnswer = AnalyseResult | Error | ((image: Uint8Array, mode: AnalyseMode) => AnalyseResult);

export interface FakeFaceEngineOptions {
  /** The answer to an image without a scripted result (`results`); none means the analysis throws. */
  answer?: FakeAnswer;
  /** Refuses every image without a scripted result with this reason (shorthand for a refusal `answer`). */
  refuse?: FaceFailureReason;
  /** Measures liveness frames; without it the engine has no `analyseFrames`, like one without a face mesh. */
  frames?: (frame: Uint8Array) => FramePose;
  /** Overrides of what `status()` reports (default: a ready WASM engine, empty queue of 4, 900 ms hint). */
  status?: Partial<FaceEngineStatus>;
}

/**
 * The one fake face engine of the tests: scripted answers by the image's first byte (`results`),
 * else `fallback` (the `answer` or `refuse` option); a full queue for the next `busyFor` calls;
 * liveness frames measured by `frames`, with the sizes of the last frames kept in `frameSizes`.
 * Like the real pool it takes the image's buffer (detaches it) when the view covers the whole
 * buffer, so a caller that reads an image after handing it over fails here as it would there.
 */
export class FakeFaceEngine implements FaceEngine {
  readonly results = new Map<number, AnalyseResult | Error>();
  fallback: FakeAnswer | null;
  calls = 0;
  readonly modes: AnalyseMode[] = [];
  queueSize: number;
  /** The next this-many analyses answer BUSY (queue full), as a saturated pool does. */
  busyFor = 0;
  framesSeen = 0;
  frameCalls = 0;
  /** Byte sizes of the frames of the last liveness measurement, in order. */
  frameSizes: number[] = [];
  analyseFrames?: (frames: readonly Uint8Array[]) => Promise<FramesResult>;
  private readonly statusOverrides: Partial<FaceEngineStatus>;

  constructor(opts: FakeFaceEngineOptions = {}) {
    this.fallback = opts.answer ?? (opts.refuse ? fakeRefusal(opts.refuse) : null);
    this.statusOverrides = opts.status ?? {};
    this.queueSize = opts.status?.queueSize ?? 0;
    const measure = opts.frames;
    if (measure) {
      this.analyseFrames = async (frames) => {
        this.frameCalls++;
        this.framesSeen += frames.length;
        this.frameSizes = frames.map((f) => f.byteLength);
        return { frames: frames.map(measure), modelId: 'fake', totalMs: 1 };
      };
    }
  }

  async analyse(image: Uint8Array, mode: AnalyseMode = 'single'): Promise<AnalyseResult> {
    this.calls++;
    this.modes.push(mode);
    if (this.busyFor > 0) {
      this.busyFor--;
      throw new AppError('BUSY', undefined, { retryAfterMs: 20, cause: 'queue_full' });
    }
    const scripted = image.length > 0 ? this.results.get(image[0]!) : undefined;
    const r = scripted ?? (typeof this.fallback === 'function' ? this.fallback(image, mode) : this.fallback);
    if (image.byteOffset === 0 && image.byteLength === image.buffer.byteLength) {
      structuredClone(image.buffer, { transfer: [image.buffer as ArrayBuffer] });
    }
    if (!r) throw new Error('no scripted result');
    if (r instanceof Error) throw r;
    return r;
  }

  status(): FaceEngineStatus {
    return {
      backend: 'wasm',
      modelId: 'fake',
      ready: true,
      maxQueue: 4,
      retryAfterMs: 900,
      ...this.statusOverrides,
      queueSize: this.queueSize,
    };
  }
}

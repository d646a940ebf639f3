import type { FaceEngine, FaceEngineStatus } from '../../src/domain/face/face-engine.js';
import type { AnalyseMode, AnalyseResult, AnalysedFace, FramePose, FramesResult } from '../../src/domain/face/face-types.js';
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

/**
 * The one face engine of the domain tests: scripted answers by the image's first byte (else
 * `fallback`), a full queue for the next `busyFor` calls, and, when `frames` is set, liveness
 * frames measured by it. Like the real pool it takes the image's buffer (detaches it) when the
 * view covers the whole buffer.
 */
export class FakeFaceEngine implements FaceEngine {
  readonly results = new Map<number, AnalyseResult | Error>();
  fallback: AnalyseResult | Error | null = null;
  calls = 0;
  readonly modes: AnalyseMode[] = [];
  queueSize = 0;
  /** The next this-many analyses answer BUSY (queue full), as a saturated pool does. */
  busyFor = 0;
  framesSeen = 0;
  frameCalls = 0;
  analyseFrames?: (frames: readonly Uint8Array[]) => Promise<FramesResult>;

  constructor(private readonly opts: { retryAfterMs?: number; frames?: (frame: Uint8Array) => FramePose } = {}) {
    const measure = opts.frames;
    if (measure) {
      this.analyseFrames = async (frames) => {
        this.frameCalls++;
        this.framesSeen += frames.length;
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
    const r = this.results.get(image[0]!) ?? this.fallback;
    if (image.byteOffset === 0 && image.byteLength === image.buffer.byteLength) {
      structuredClone(image.buffer, { transfer: [image.buffer as ArrayBuffer] });
    }
    if (!r) throw new Error('no scripted result');
    if (r instanceof Error) throw r;
    return r;
  }

  status(): FaceEngineStatus {
    return { backend: 'wasm', ready: true, queueSize: this.queueSize, maxQueue: 4, retryAfterMs: this.opts.retryAfterMs ?? 900 };
  }
}

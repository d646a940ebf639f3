import { threadId } from 'node:worker_threads';
import { CHIP_SIZE, CHIP_TEMPLATE, fitSimilarity, mirrorChip, warpChip, type Point, type RgbImage } from './align.js';
import type {
  AnalysedFace,
  AnalyseFailure,
  AnalyseMode,
  AnalyserSettings,
  AnalyseResult,
  BackendName,
  EmbedderOptions,
  EngineInfo,
} from './face-types.js';
import { decodeImage } from './image-input.js';
import { normalise } from './matching.js';
import { laplacianVariance, meanBrightness, toGrey } from './quality.js';
import { loadTfRuntime, type HumanFace, type HumanInstance, type TfRuntime } from './tf-runtime.js';

type FaceApiNet = TfRuntime['faceApi']['nets']['faceRecognitionNet'];

/** The calibrated pipeline (see scripts/face-eval.ts and the closing report of issue 4). */
export const DEFAULT_EMBEDDER: EmbedderOptions = { landmarks: 'mesh', flip: true, faceresWeight: 0 };

interface Candidate {
  face: HumanFace;
  landmarks: { leftEye: Point; rightEye: Point; nose: Point; mouth: Point };
}

/**
 * The face pipeline of one worker thread: decode, detect with human's blazeface (it finds
 * faces that fill the frame, where face-api's SSD misses about one in five), landmarks from
 * the face mesh, a similarity-aligned 150 px chip, face-api's 128-d recognition net on the
 * chip and its mirror, and human's antispoof and liveness scores as review flags.
 */
export class FaceAnalyser {
  readonly backend: BackendName;
  readonly modelId: string;
  readonly modelVersion: string;

  private constructor(
    private readonly rt: TfRuntime,
    private readonly human: HumanInstance,
    private readonly settings: AnalyserSettings,
    private readonly options: EmbedderOptions,
  ) {
    this.backend = rt.backend;
    const fused = options.faceresWeight > 0;
    this.modelId = options.faceresWeight >= 1 ? 'human-faceres' : fused ? 'faceapi-resnet128+human-faceres' : 'faceapi-resnet128';
    this.modelVersion = [
      `face-api@${rt.versions.faceApi}`,
      `human@${rt.versions.human}`,
      `align=${options.landmarks}`,
      `flip=${options.flip ? 1 : 0}`,
      ...(fused ? [`faceres=${options.faceresWeight}`] : []),
    ].join(';');
  }

  /** Loads every model once and runs one dummy inference so the first task is not slow. */
  static async create(settings: AnalyserSettings, options: Partial<EmbedderOptions> = {}): Promise<FaceAnalyser> {
    const opts = { ...DEFAULT_EMBEDDER, ...options };
    const rt = await loadTfRuntime();
    const human = new rt.humanModule.Human({
      backend: rt.backend,
      wasmPath: rt.wasmDir,
      modelBasePath: rt.humanModelBase,
      debug: false,
      warmup: 'none',
      cacheSensitivity: 0,
      skipAllowed: false,
      filter: { enabled: false },
      face: {
        enabled: true,
        detector: { rotation: true, maxDetected: 20, minConfidence: settings.minDetectionScore, iouThreshold: 0.3, return: false },
        mesh: { enabled: opts.landmarks === 'mesh' },
        iris: { enabled: false },
        attention: { enabled: false },
        emotion: { enabled: false },
        gear: { enabled: false },
        description: { enabled: opts.faceresWeight > 0 },
        antispoof: { enabled: true },
        liveness: { enabled: true },
      },
      body: { enabled: false },
      hand: { enabled: false },
      object: { enabled: false },
      gesture: { enabled: false },
      segmentation: { enabled: false },
    });
    await human.load();
    if (opts.faceresWeight < 1) await rt.faceApi.nets.faceRecognitionNet.loadFromDisk(rt.faceApiModelDir);
    const analyser = new FaceAnalyser(rt, human, settings, opts);
    await analyser.warmUp();
    return analyser;
  }

  info(): EngineInfo {
    const mem = this.rt.tf.memory();
    return {
      backend: this.backend,
      modelId: this.modelId,
      modelVersion: this.modelVersion,
      memory: { rss: process.memoryUsage.rss(), tfBytes: mem.numBytes, tfTensors: mem.numTensors },
      threadId,
    };
  }

  /** Analyses one encoded image. Bad input and unusable faces come back as coded failures. */
  async analyse(bytes: Uint8Array, mode: AnalyseMode): Promise<AnalyseResult> {
    const started = performance.now();
    const s = this.settings;
    const decoded = await decodeImage(bytes, { maxBytes: s.maxImageBytes, maxPixels: s.maxPixels, maxSide: s.maxSide });
    if (!decoded.ok) return decoded;
    const image = decoded.image;
    const decodedAt = performance.now();

    const candidates = await this.detect(image);
    if (candidates.length === 0) return fail('FACE_NOT_FOUND', 'no face was found');
    if (mode === 'single' && candidates.length > 1) {
      return fail('FACE_MULTIPLE', 'more than one face was found', { faces: candidates.length });
    }
    const detectedAt = performance.now();

    const faces: AnalysedFace[] = [];
    for (const c of candidates) {
      const { face, chip } = this.measure(image, c);
      if (mode === 'single') {
        const refusal = this.gate(face);
        if (refusal) return refusal;
      }
      faces.push({ ...face, embedding: await this.embed(chip, c.face) });
    }
    const done = performance.now();
    return {
      ok: true,
      faces,
      image: { width: image.width, height: image.height },
      modelId: this.modelId,
      modelVersion: this.modelVersion,
      timings: {
        decode: round(decodedAt - started),
        detect: round(detectedAt - decodedAt),
        embed: round(done - detectedAt),
        total: round(done - started),
      },
    };
  }

  private async detect(image: RgbImage): Promise<Candidate[]> {
    const { tf } = this.rt;
    const input = tf.tensor4d(image.data, [1, image.height, image.width, 3], 'int32');
    let faces: HumanFace[];
    try {
      const result = await this.human.detect(input);
      if (result.error) throw new Error(`face detection failed: ${result.error}`);
      faces = result.face;
    } finally {
      input.dispose();
    }
    const out: Candidate[] = [];
    for (const face of faces) {
      if (face.score < this.settings.minDetectionScore) continue;
      const landmarks = this.landmarksOf(face);
      if (landmarks) out.push({ face, landmarks });
    }
    // Largest first: in 'all' mode the order is stable and the main face leads.
    return out.sort((a, b) => b.face.box[2] * b.face.box[3] - a.face.box[2] * a.face.box[3]);
  }

  /** Eye centres, nose tip and mouth centre, from the mesh when it ran, else the detector. */
  private landmarksOf(face: HumanFace): Candidate['landmarks'] | null {
    const a = face.annotations;
    const meshed = this.options.landmarks === 'mesh' && face.mesh.length >= 468;
    const eyeA = meshed ? mean(a['leftEyeUpper0'], a['leftEyeLower0']) : mean(a['leftEye']);
    const eyeB = meshed ? mean(a['rightEyeUpper0'], a['rightEyeLower0']) : mean(a['rightEye']);
    const nose = meshed ? mean(a['noseTip']) : mean(a['nose']);
    const mouth = meshed ? mean(a['lipsUpperOuter'], a['lipsLowerOuter']) : mean(a['mouth']);
    if (!eyeA || !eyeB || !nose || !mouth) return null;
    // human names eyes from the subject's side; the template is in image order.
    const [leftEye, rightEye] = eyeA[0] <= eyeB[0] ? [eyeA, eyeB] : [eyeB, eyeA];
    return { leftEye, rightEye, nose, mouth };
  }

  private measure(image: RgbImage, c: Candidate): { face: Omit<AnalysedFace, 'embedding'>; chip: Float32Array } {
    const l = c.landmarks;
    const t = fitSimilarity(
      [CHIP_TEMPLATE.leftEye, CHIP_TEMPLATE.rightEye, CHIP_TEMPLATE.nose, CHIP_TEMPLATE.mouth],
      [l.leftEye, l.rightEye, l.nose, l.mouth],
    );
    const chip = warpChip(image, t, CHIP_SIZE);
    const grey = toGrey(chip, CHIP_SIZE);
    const [x, y, width, height] = c.face.box;
    const face: Omit<AnalysedFace, 'embedding'> = {
      box: { x: Math.round(x), y: Math.round(y), width: Math.round(width), height: Math.round(height) },
      score: round(c.face.score, 3),
      quality: {
        eyeDistancePx: round(Math.hypot(l.rightEye[0] - l.leftEye[0], l.rightEye[1] - l.leftEye[1]), 1),
        faceSizePx: Math.round(Math.min(width, height)),
        sharpness: round(laplacianVariance(grey, CHIP_SIZE), 1),
        brightness: round(meanBrightness(grey, CHIP_SIZE), 1),
      },
      real: typeof c.face.real === 'number' ? round(c.face.real, 3) : null,
      live: typeof c.face.live === 'number' ? round(c.face.live, 3) : null,
    };
    return { face, chip };
  }

  private gate(face: Omit<AnalysedFace, 'embedding'>): AnalyseFailure | null {
    const s = this.settings;
    const q = face.quality;
    if (q.faceSizePx < s.minFacePx) {
      return fail('FACE_TOO_SMALL', 'the face is too small', { faceSizePx: q.faceSizePx, minFacePx: s.minFacePx });
    }
    if (q.sharpness < s.minSharpness) {
      return fail('FACE_LOW_QUALITY', 'the face is too blurred', { sharpness: q.sharpness, minSharpness: s.minSharpness });
    }
    if (q.brightness < s.minBrightness || q.brightness > s.maxBrightness) {
      return fail('FACE_LOW_QUALITY', q.brightness < s.minBrightness ? 'the face is too dark' : 'the face is overexposed', {
        brightness: q.brightness,
      });
    }
    return null;
  }

  private async embed(chip: Float32Array, face: HumanFace): Promise<Float32Array> {
    const w = this.options.faceresWeight;
    const parts: Array<{ vector: Float32Array; weight: number }> = [];
    if (w < 1) parts.push({ vector: await this.faceApiEmbedding(chip), weight: 1 - w });
    if (w > 0) {
      if (!face.embedding || face.embedding.length === 0) throw new Error('faceres produced no embedding');
      parts.push({ vector: normalise(Float32Array.from(face.embedding)), weight: w });
    }
    if (parts.length === 1) return parts[0]!.vector;
    // Concatenating sqrt-weighted unit vectors makes the squared distance a weighted sum.
    const out = new Float32Array(parts.reduce((n, p) => n + p.vector.length, 0));
    let offset = 0;
    for (const p of parts) {
      const k = Math.sqrt(p.weight);
      for (let i = 0; i < p.vector.length; i++) out[offset + i] = p.vector[i]! * k;
      offset += p.vector.length;
    }
    return normalise(out);
  }

  private async faceApiEmbedding(chip: Float32Array): Promise<Float32Array> {
    const { tf } = this.rt;
    const chips = this.options.flip ? [chip, mirrorChip(chip, CHIP_SIZE)] : [chip];
    // face-api takes a batch as an array of 3-D tensors, not as one 4-D tensor.
    const inputs = chips.map((c) => tf.tensor3d(c, [CHIP_SIZE, CHIP_SIZE, 3], 'float32'));
    let output: Awaited<ReturnType<FaceApiNet['forward']>> | null = null;
    try {
      output = await this.rt.faceApi.nets.faceRecognitionNet.forward(inputs);
      const data = (await output.data()) as Float32Array;
      const dim = data.length / chips.length;
      const sum = new Float32Array(dim);
      for (let k = 0; k < chips.length; k++) {
        const one = normalise(data.subarray(k * dim, (k + 1) * dim));
        for (let i = 0; i < dim; i++) sum[i]! += one[i]!;
      }
      return normalise(sum);
    } finally {
      for (const t of inputs) t.dispose();
      output?.dispose();
    }
  }

  private async warmUp(): Promise<void> {
    const { tf } = this.rt;
    const blank = tf.zeros([1, 256, 256, 3], 'int32');
    try {
      await this.human.detect(blank);
    } finally {
      blank.dispose();
    }
    if (this.options.faceresWeight < 1) await this.faceApiEmbedding(new Float32Array(CHIP_SIZE * CHIP_SIZE * 3));
  }
}

function fail(reason: AnalyseFailure['reason'], message: string, details?: Record<string, number | string>): AnalyseFailure {
  return details ? { ok: false, reason, message, details } : { ok: false, reason, message };
}

function mean(...groups: Array<number[][] | undefined>): Point | null {
  let x = 0, y = 0, n = 0;
  for (const g of groups) {
    if (!g) continue;
    for (const p of g) {
      x += p[0]!;
      y += p[1]!;
      n++;
    }
  }
  return n === 0 ? null : [x / n, y / n];
}

function round(v: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

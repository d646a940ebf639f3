import { threadId } from 'node:worker_threads';
import sharp from 'sharp';
import {
  ALIGNMENT_VERSION,
  CHIP_SIZE,
  fitSimilarity,
  KEYPOINT_TEMPLATE,
  MESH_TEMPLATE,
  MESH_TEMPLATE_INDICES,
  mirrorChip,
  padImage,
  similarityScale,
  warpChip,
  type Point,
  type RgbImage,
} from './align.js';
import type {
  AnalysedFace,
  AnalyseFailure,
  AnalyseMode,
  AnalyserSettings,
  AnalyseResult,
  BackendName,
  EmbedderOptions,
  EngineInfo,
  FramePose,
  FramesResult,
} from '../domain/face/face-types.js';
import { decodeImage } from './image-input.js';
import { normalise } from '../domain/face/matching.js';
import { poseOf } from '../domain/face/liveness.js';
import { mainFace, type MainFaceVerdict } from '../domain/face/main-face.js';
import { laplacianVariance, meanBrightness, toGrey } from './quality.js';
import { loadTfRuntime, type HumanFace, type HumanInstance, type TfRuntime } from './tf-runtime.js';
import { ARCFACE_KEYPOINT_TEMPLATE, ARCFACE_TEMPLATE, loadChipEmbedder, type ChipEmbedder, type ChipLandmarks } from './embedders.js';

type FaceApiNet = TfRuntime['faceApi']['nets']['faceRecognitionNet'];

/**
 * Detection and the face mesh run on a copy at most this large: their networks see 256 and
 * 192 px inputs anyway, and a smaller tensor saves time and wasm memory. The chip for the
 * recognition net is still cut from the full-resolution image.
 */
const DETECT_MAX_SIDE = 640;

/** Maps detector coordinates back to the decoded image: remove the border, then scale up. */
interface Frame {
  pad: number;
  scale: [number, number];
}

/**
 * Faces the detector returns in modes 'single' and 'selfie' and for liveness frames, where a
 * second face (comparable to the largest, for a selfie) means FACE_MULTIPLE. More than two,
 * since the mesh or the score bar may still drop a box; few, since every face costs a mesh, antispoof and liveness run.
 * Mode 'all' returns up to FACE_MAX_FACES.
 */
const SINGLE_MODE_MAX_FACES = 5;

/** Detector score accepted on the bordered retry, after a first pass found no face. */
const RETRY_MIN_SCORE = 0.3;
const RETRY_DETECTOR_SCORE = 0.2;

/** The calibrated pipeline (see scripts/face-eval.ts and the closing report of issue 4). */
export const DEFAULT_EMBEDDER: EmbedderOptions = { model: 'faceapi-resnet128', landmarks: 'mesh', flip: true, faceresWeight: 0 };

interface Candidate {
  face: HumanFace;
  /** Detection box in decoded-image pixels. */
  box: [number, number, number, number];
  /** Landmarks matching `template`, in decoded-image pixels. */
  points: Point[];
  template: readonly Point[];
  /** The same face's landmarks for the 112 px chip nets. */
  chip: ChipLandmarks;
  eyeDistance: number;
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
    private readonly chipNet: ChipEmbedder | null,
  ) {
    this.backend = rt.backend;
    const fused = options.faceresWeight > 0;
    this.modelId = options.faceresWeight >= 1 ? 'human-faceres' : fused ? `${options.model}+human-faceres` : options.model;
    this.modelVersion = [
      chipNet ? chipNet.source : `face-api@${rt.versions.faceApi}`,
      `human@${rt.versions.human}`,
      `align=${options.landmarks}-${ALIGNMENT_VERSION}`,
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
        detector: {
          rotation: true,
          maxDetected: settings.maxFaces,
          minConfidence: settings.minDetectionScore,
          iouThreshold: 0.3,
          return: false,
        },
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
    const usesFaceApi = opts.model === 'faceapi-resnet128' && opts.faceresWeight < 1;
    if (usesFaceApi) await rt.faceApi.nets.faceRecognitionNet.loadFromDisk(rt.faceApiModelDir);
    const chipNet = opts.model === 'faceapi-resnet128' || opts.faceresWeight >= 1 ? null : await loadChipEmbedder(opts.model);
    const analyser = new FaceAnalyser(rt, human, settings, opts, chipNet);
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

    const detected = await this.detect(image, mode === 'all' ? s.maxFaces : SINGLE_MODE_MAX_FACES);
    if (detected.length === 0) return fail('FACE_NOT_FOUND', 'no face was found');
    let candidates = detected;
    if (mode !== 'all') {
      const main = this.mainFace(detected, mode);
      if (!main.ok) return fail('FACE_MULTIPLE', 'another face as large as the main one was found', { faces: main.comparable });
      candidates = [detected[main.index]!];
    }
    const detectedAt = performance.now();

    const faces: AnalysedFace[] = [];
    for (const c of candidates) {
      const { face, chip } = this.measure(image, c);
      if (mode !== 'all') {
        const refusal = this.gate(face);
        if (refusal) return refusal;
      }
      faces.push({ ...face, embedding: await this.embed(image, c, chip) });
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

  /**
   * Measures the frames of a liveness challenge, in order: for each, its one face's pose from
   * the mesh (turn, eye-aspect ratio) and its embedding, or why it has none. No quality gate:
   * a small, soft frame still shows a head turning. The decoded pixels are dropped as each
   * frame is done; nothing is kept.
   */
  async frames(frames: readonly Uint8Array[]): Promise<FramesResult> {
    const started = performance.now();
    const s = this.settings;
    const out: FramePose[] = [];
    for (const bytes of frames) {
      const decoded = await decodeImage(bytes, { maxBytes: s.maxImageBytes, maxPixels: s.maxPixels, maxSide: s.maxSide });
      if (!decoded.ok) {
        out.push({ ok: false, reason: decoded.reason });
        continue;
      }
      const candidates = await this.detect(decoded.image, SINGLE_MODE_MAX_FACES);
      const main = candidates.length === 0 ? null : this.mainFace(candidates, 'selfie');
      if (!main?.ok) {
        out.push({ ok: false, reason: main ? 'FACE_MULTIPLE' : 'FACE_NOT_FOUND' });
        continue;
      }
      const c = candidates[main.index]!;
      // The pose needs the mesh; the 'keypoints' pipeline variant has none, so no pose.
      const pose = c.face.mesh.length >= 468 ? poseOf(c.face.mesh) : null;
      if (!pose) {
        out.push({ ok: false, reason: 'FACE_NOT_FOUND' });
        continue;
      }
      const { chip } = this.measure(decoded.image, c);
      out.push({ ok: true, turn: pose.turn, ear: pose.ear, embedding: await this.embed(decoded.image, c, chip) });
    }
    return { frames: out, modelId: this.modelId, totalMs: round(performance.now() - started) };
  }

  /**
   * Detects at most `maxFaces` faces; when none is found, tries once more with a grey border around the image
   * and a lower score bar. blazeface scores faces that fill the frame, touch its edge or turn
   * away low, and a border lifts them (on LFW it recovers 4 of the 6 images missed by the first pass).
   * Coordinates are mapped back to the image.
   */
  private async detect(image: RgbImage, maxFaces: number): Promise<Candidate[]> {
    const { small, scale } = await detectionImage(image);
    const min = this.settings.minDetectionScore;
    const found = await this.detectOn(small, { pad: 0, scale }, min, min, maxFaces);
    if (found.length > 0) return found;
    const pad = Math.round(Math.max(small.width, small.height) * 0.4);
    return this.detectOn(
      padImage(small, pad),
      { pad, scale },
      Math.min(min, RETRY_MIN_SCORE),
      Math.min(min, RETRY_DETECTOR_SCORE),
      maxFaces,
    );
  }

  /** `detectorScore` is human's own bar (box and mesh confidence); `minScore` the final one. */
  private async detectOn(image: RgbImage, frame: Frame, minScore: number, detectorScore: number, maxFaces: number): Promise<Candidate[]> {
    const { tf } = this.rt;
    const input = tf.tensor4d(image.data, [1, image.height, image.width, 3], 'int32');
    let faces: HumanFace[];
    try {
      // human merges per-call options into its config for good, so every call sets the bar and the limit.
      const result = await this.human.detect(input, { face: { detector: { minConfidence: detectorScore, maxDetected: maxFaces } } });
      if (result.error) throw new Error(`face detection failed: ${result.error}`);
      faces = result.face;
    } finally {
      input.dispose();
    }
    const out: Candidate[] = [];
    for (const face of faces) {
      if (face.score < minScore) continue;
      const c = this.candidateOf(face, frame);
      if (c) out.push(c);
    }
    // Largest first: in 'all' mode the order is stable and the main face leads.
    return out.sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3]);
  }

  /**
   * The face a selfie or an enrolment photo is about. A selfie (and its liveness frames, taken in
   * the same crowded room a moment later) ignores faces far smaller than the largest; an enrolment
   * photo, taken once and at leisure, and the reference every later selfie is matched against,
   * stays strict: any second face is refused.
   */
  private mainFace(candidates: readonly Candidate[], mode: Exclude<AnalyseMode, 'all'>): MainFaceVerdict {
    const ratio = mode === 'selfie' ? this.settings.secondFaceRatio : 0;
    return mainFace(
      candidates.map((c) => ({ width: c.box[2] })),
      ratio,
    );
  }

  /** The alignment landmarks: nine mesh vertices when the mesh ran, else the detector's keypoints. */
  private candidateOf(face: HumanFace, { pad, scale }: Frame): Candidate | null {
    const shift = (p: number[] | undefined): Point | null =>
      p && p.length >= 2 ? [(p[0]! - pad) * scale[0], (p[1]! - pad) * scale[1]] : null;
    const [bx, by, bw, bh] = face.box;
    const box: Candidate['box'] = [(bx - pad) * scale[0], (by - pad) * scale[1], bw * scale[0], bh * scale[1]];
    if (this.options.landmarks === 'mesh' && face.mesh.length >= 468) {
      const points = MESH_TEMPLATE_INDICES.map((i) => shift(face.mesh[i]));
      if (points.some((p) => p === null)) return null;
      const pts = points as Point[];
      const eyes = [midpoint(pts[0]!, pts[1]!), midpoint(pts[2]!, pts[3]!)];
      const five = [eyes[0]!, eyes[1]!, pts[4]!, pts[5]!, pts[6]!];
      const chip = { points: five, template: ARCFACE_TEMPLATE };
      return { face, box, points: pts, template: MESH_TEMPLATE, chip, eyeDistance: dist(eyes[0]!, eyes[1]!) };
    }
    const a = face.annotations;
    const eyeA = shift(a['leftEye']?.[0]),
      eyeB = shift(a['rightEye']?.[0]);
    const nose = shift(a['nose']?.[0]),
      mouth = shift(a['mouth']?.[0]);
    if (!eyeA || !eyeB || !nose || !mouth) return null;
    // human names eyes from the subject's side; the template is in image order.
    const [left, right] = eyeA[0] <= eyeB[0] ? [eyeA, eyeB] : [eyeB, eyeA];
    const points = [left, right, nose, mouth];
    const chip = { points, template: ARCFACE_KEYPOINT_TEMPLATE };
    return { face, box, points, template: KEYPOINT_TEMPLATE, chip, eyeDistance: dist(left, right) };
  }

  private measure(image: RgbImage, c: Candidate): { face: Omit<AnalysedFace, 'embedding'>; chip: Float32Array } {
    const t = fitSimilarity(c.template, c.points);
    const chip = warpChip(image, t, CHIP_SIZE);
    const grey = toGrey(chip, CHIP_SIZE);
    const [x, y, width, height] = c.box;
    const face: Omit<AnalysedFace, 'embedding'> = {
      box: { x: Math.round(x), y: Math.round(y), width: Math.round(width), height: Math.round(height) },
      score: round(c.face.score, 3),
      quality: {
        eyeDistancePx: round(c.eyeDistance, 1),
        faceSizePx: Math.round(CHIP_SIZE * similarityScale(t)),
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

  /** `chip` is the dlib chip already cut for the quality measures; the 112 px nets cut their own. */
  private async embed(image: RgbImage, c: Candidate, chip: Float32Array): Promise<Float32Array> {
    const face = c.face;
    const w = this.options.faceresWeight;
    const parts: Array<{ vector: Float32Array; weight: number }> = [];
    if (w < 1) parts.push({ vector: await this.primaryEmbedding(image, c, chip), weight: 1 - w });
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

  private async primaryEmbedding(image: RgbImage, c: Candidate, chip: Float32Array): Promise<Float32Array> {
    if (!this.chipNet) return this.faceApiEmbedding(chip);
    return this.chipNet.embed(image, c.chip, this.options.flip);
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
    if (this.options.faceresWeight >= 1) return;
    if (this.chipNet) {
      const grey: RgbImage = { data: new Uint8Array(160 * 160 * 3).fill(128), width: 160, height: 160 };
      const five: Point[] = [
        [55, 65],
        [105, 65],
        [80, 90],
        [60, 115],
        [100, 115],
      ];
      await this.chipNet.embed(grey, { points: five, template: ARCFACE_TEMPLATE }, this.options.flip);
    } else {
      await this.faceApiEmbedding(new Float32Array(CHIP_SIZE * CHIP_SIZE * 3));
    }
  }
}

function fail(reason: AnalyseFailure['reason'], message: string, details?: Record<string, number | string>): AnalyseFailure {
  return details ? { ok: false, reason, message, details } : { ok: false, reason, message };
}

async function detectionImage(image: RgbImage): Promise<{ small: RgbImage; scale: [number, number] }> {
  if (Math.max(image.width, image.height) <= DETECT_MAX_SIDE) return { small: image, scale: [1, 1] };
  const { data, info } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize({ width: DETECT_MAX_SIDE, height: DETECT_MAX_SIDE, fit: 'inside' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return {
    small: { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height },
    scale: [image.width / info.width, image.height / info.height],
  };
}

function midpoint(a: Point, b: Point): Point {
  return [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
}

function dist(a: Point, b: Point): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1]);
}

function round(v: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

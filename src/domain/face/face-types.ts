import type { ReasonCode } from '../../shared/reasons.js';

/**
 * Types shared by the face worker and the main thread. Plain data only: everything here
 * crosses a worker boundary by structured clone.
 */

/** Why an image or a face was refused: a subset of the shared ReasonCodes. */
export type FaceFailureReason = Extract<
  ReasonCode,
  | 'IMAGE_TOO_LARGE'
  | 'IMAGE_TOO_MANY_PIXELS'
  | 'IMAGE_UNSUPPORTED_TYPE'
  | 'IMAGE_INVALID'
  | 'FACE_NOT_FOUND'
  | 'FACE_MULTIPLE'
  | 'FACE_TOO_SMALL'
  | 'FACE_LOW_QUALITY'
>;

/**
 * 'single': exactly one face (an enrolment photo); 'selfie': the largest face, other faces far
 * smaller ignored (domain/face/main-face.ts); 'all': every face (a class photo).
 */
export type AnalyseMode = 'single' | 'selfie' | 'all';

export interface FaceBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface FaceQuality {
  /** Distance between the eye centres, in pixels of the decoded image. */
  eyeDistancePx: number;
  /**
   * Side, in pixels of the decoded image, of the aligned face crop (the face from brows to chin
   * with a quarter margin), from the landmarks. Steadier than the detector box on small faces.
   */
  faceSizePx: number;
  /** Variance of the Laplacian over the aligned grey face; low means blurred. */
  sharpness: number;
  /** Mean luma (0..255) over the aligned face. */
  brightness: number;
}

export interface AnalysedFace {
  box: FaceBox;
  /** Detector confidence, 0..1. */
  score: number;
  /** L2-normalised embedding; compare with `matching.ts`. */
  embedding: Float32Array;
  quality: FaceQuality;
  /** human's antispoof score (1 = looks like a real face, not a print or screen); null if not run. */
  real: number | null;
  /** human's liveness score (1 = live); null if not run. */
  live: number | null;
}

export interface AnalyseSuccess {
  ok: true;
  faces: AnalysedFace[];
  /** Size of the decoded image after orientation and downscaling. */
  image: { width: number; height: number };
  modelId: string;
  modelVersion: string;
  /** Milliseconds spent in the worker, by stage. */
  timings: { decode: number; detect: number; embed: number; total: number };
}

export interface AnalyseFailure {
  ok: false;
  reason: FaceFailureReason;
  /** Short, safe explanation for logs and teachers; never contains image data. */
  message: string;
  /** Measurements behind the refusal, e.g. the face size for FACE_TOO_SMALL. */
  details?: Record<string, number | string>;
}

export type AnalyseResult = AnalyseSuccess | AnalyseFailure;

/** One liveness frame: its face's pose measures (domain/face/liveness.ts) and embedding, or why it has none. */
export type FramePose = { ok: true; turn: number; ear: number; embedding: Float32Array } | { ok: false; reason: FaceFailureReason };

/** The frames of a liveness challenge, measured in order; the frames themselves are not kept. */
export interface FramesResult {
  frames: FramePose[];
  modelId: string;
  /** Milliseconds spent in the worker on all frames. */
  totalMs: number;
}

export interface AnalyseTask {
  kind: 'analyse';
  /** Encoded JPEG, PNG or WebP bytes; transferred, not copied. */
  image: Uint8Array;
  mode: AnalyseMode;
}

/** Measures the frames of a liveness challenge; each is an encoded image, transferred. */
export interface FramesTask {
  kind: 'frames';
  frames: Uint8Array[];
}

/** Reports the worker's engine once its models are loaded. */
export interface InfoTask {
  kind: 'info';
}

/**
 * Test-only: kills the worker thread ('crash') or keeps it busy for ever without answering
 * ('hang', a stuck native call). Refused unless the pool was built with allowCrashTask.
 */
export interface CrashTask {
  kind: 'crash' | 'hang';
}

export type FaceTask = AnalyseTask | FramesTask | InfoTask | CrashTask;

export type BackendName = 'tensorflow' | 'wasm';

export interface EngineInfo {
  backend: BackendName;
  modelId: string;
  modelVersion: string;
  /** Resident set size of the worker's process (shared by all threads) and the tfjs heap. */
  memory: { rss: number; tfBytes: number; tfTensors: number };
  threadId: number;
}

/** Limits and gates the worker applies; a subset of FaceConfig passed as workerData. */
export interface AnalyserSettings {
  maxImageBytes: number;
  maxPixels: number;
  /** Longest side after downscaling. */
  maxSide: number;
  minFacePx: number;
  minSharpness: number;
  minBrightness: number;
  maxBrightness: number;
  /** Detector confidence below which a candidate is not a face. */
  minDetectionScore: number;
  /** Most faces the detector returns in mode 'all' (FACE_MAX_FACES). */
  maxFaces: number;
  /** In a selfie, a face at least this share of the largest one's width is comparable: FACE_MULTIPLE. */
  secondFaceRatio: number;
}

export interface FaceWorkerData {
  settings: AnalyserSettings;
  allowCrashTask: boolean;
  /** Embedding pipeline variant; see EmbedderOptions. Defaults to the calibrated choice. */
  embedder?: Partial<EmbedderOptions>;
}

/** The recognition nets the worker can run (FACE_EMBEDDER); each names the embeddings' model id. */
export const EMBEDDER_NAMES = ['faceapi-resnet128', 'faceplugin-feature'] as const;
export type EmbedderName = (typeof EMBEDDER_NAMES)[number];

/** Pipeline choices compared in scripts/face-eval.ts; the defaults are the calibrated ones. */
export interface EmbedderOptions {
  /** The recognition net. */
  model: EmbedderName;
  /** Landmarks used to align the face chip: the 468-point mesh or blazeface's 6 keypoints. */
  landmarks: 'mesh' | 'keypoints';
  /** Also embed the mirrored chip and average the two embeddings. */
  flip: boolean;
  /** Weight of human's faceres embedding fused with face-api's (0 = face-api only, 1 = faceres only). */
  faceresWeight: number;
}

import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { EMBEDDER_NAMES, type AnalyserSettings, type EmbedderName } from '../domain/face/face-types.js';
import { DEFAULT_CONFIDENT_DISTANCE, DEFAULT_UNCERTAIN_DISTANCE } from '../domain/face/matching.js';
import { bool, int, num, problemLine } from '../env-values.js';

/**
 * Face verification options, read from the environment. Defaults:
 * - FACE_POOL_SIZE: worker threads; every core up to 2, then one less than the cores, at most 4.
 * - FACE_MAX_QUEUE (200): selfies waiting for a worker; beyond it, BUSY with a retry hint.
 * - FACE_TASK_TIMEOUT_MS (30_000): queue wait plus analysis; a running task past it costs its worker.
 * - FACE_MAX_IMAGE_BYTES (8 MiB), FACE_MAX_PIXELS (40 MP, read from the header before decoding),
 *   FACE_MAX_SIDE (1280): images are downscaled to this longest side.
 * - FACE_MIN_FACE_PX (48): side of the aligned face crop (face plus a quarter margin, from the
 *   landmarks) in the downscaled image; about 17 px between the eyes. LFW's smallest faces are ~60.
 * - FACE_MIN_SHARPNESS (8), FACE_MIN_BRIGHTNESS (40), FACE_MAX_BRIGHTNESS (235): quality gates on
 *   the aligned face (Laplacian variance; mean luma 0..255).
 * - FACE_MIN_DETECTION_SCORE (0.5): detector confidence for a face to count.
 * - FACE_MAX_FACES (60): most faces found in a class photo; a photo with that many is reported
 *   as possibly truncated. For a selfie or an enrolment photo the detector returns at most five.
 * - FACE_SECOND_FACE_RATIO (0.7): a selfie keeps its largest face and ignores faces narrower than
 *   this share of its width (classmates behind the student); a wider one is FACE_MULTIPLE. 0 refuses
 *   any second face. Enrolment photos and liveness frames: see docs/face.md.
 * - FACE_CONFIDENT_DISTANCE, FACE_UNCERTAIN_DISTANCE: decision bands on the distance between unit
 *   embeddings; their defaults follow FACE_EMBEDDER (EMBEDDER_BANDS). For faceapi-resnet128, 0.40
 *   and 0.48, calibrated with scripts/face-eval.ts on all 2,200 LFW development
 *   pairs (face-api 128-d, mesh alignment to the dlib chip, flip-averaged). Best single threshold
 *   0.415 (99.1%); the 1%-FAR point 0.416. At 0.40, 6 of 1,100 different-person pairs (0.5%) and
 *   98% of same-person pairs are 'confident'; beyond 0.48 fall 1 of 1,096 same-person pairs and
 *   92.5% of different-person ones; the rest goes to the teacher.
 * - FACE_EMBEDDER (faceapi-resnet128): the recognition net (docs/face.md "Embedders"). Its name
 *   is the model id stored with every enrolment; after a change, enrolments made with the old
 *   one are reported for re-enrolment (FACE_REENROL_NEEDED) and never compared.
 * - FACE_KEEP_PHOTOS (false): store enrolment photos besides their embeddings.
 * - FACE_SELF_ENROLMENT (direct): what a student's own upload does. `direct`: their first
 *   enrolment ever applies at once, a later one is a proposal for an admin; `approval`: every upload
 *   is a proposal; `off`: students cannot upload. Staff other than admins always propose.
 * - FACE_CONSENT_REQUIRED (true): a student's face reference and selfie matching need a recorded
 *   consent (docs/privacy.md); without it a selfie check-in goes to the teacher as FACE_NO_CONSENT.
 */

export const SELF_ENROLMENT_MODES = ['direct', 'approval', 'off'] as const;
export type SelfEnrolmentMode = (typeof SELF_ENROLMENT_MODES)[number];

/** Every FACE_* variable with its default; exported so a test keeps README's table in step. */
export const FaceEnvSchema = z
  .object({
    // Unset: from the machine's cores when the config is loaded (defaultPoolSize).
    FACE_POOL_SIZE: int(1, 64).optional(),
    FACE_MAX_QUEUE: int(0, 100_000).default(200),
    FACE_TASK_TIMEOUT_MS: int(100, 600_000).default(30_000),
    FACE_MAX_IMAGE_BYTES: int(1_024, 100 * 1024 * 1024).default(8 * 1024 * 1024),
    FACE_MAX_PIXELS: int(10_000, 1_000_000_000).default(40_000_000),
    FACE_MAX_SIDE: int(160, 4_096).default(1_280),
    FACE_MIN_FACE_PX: int(16, 4_096).default(48),
    FACE_MIN_SHARPNESS: num(0, 10_000).default(8),
    FACE_MIN_BRIGHTNESS: num(0, 255).default(40),
    FACE_MAX_BRIGHTNESS: num(0, 255).default(235),
    FACE_MIN_DETECTION_SCORE: num(0, 1).default(0.5),
    FACE_MAX_FACES: int(1, 500).default(60),
    FACE_SECOND_FACE_RATIO: num(0, 1).default(0.7),
    FACE_CONFIDENT_DISTANCE: num(0, 2).optional(),
    FACE_UNCERTAIN_DISTANCE: num(0, 2).optional(),
    FACE_EMBEDDER: z.enum(EMBEDDER_NAMES).default('faceapi-resnet128'),
    FACE_KEEP_PHOTOS: bool.default(false),
    FACE_SELF_ENROLMENT: z.enum(SELF_ENROLMENT_MODES).default('direct'),
    FACE_CONSENT_REQUIRED: bool.default(true),
  })
  .refine((e) => bandsOf(e).confident <= bandsOf(e).uncertain, {
    message: 'FACE_CONFIDENT_DISTANCE must not exceed FACE_UNCERTAIN_DISTANCE',
    path: ['FACE_CONFIDENT_DISTANCE'],
  })
  .refine((e) => e.FACE_MIN_BRIGHTNESS < e.FACE_MAX_BRIGHTNESS, {
    message: 'FACE_MIN_BRIGHTNESS must be below FACE_MAX_BRIGHTNESS',
    path: ['FACE_MIN_BRIGHTNESS'],
  });

export interface FaceConfig {
  poolSize: number;
  maxQueue: number;
  taskTimeoutMs: number;
  image: { maxBytes: number; maxPixels: number; maxSide: number };
  gates: { minFacePx: number; minSharpness: number; minBrightness: number; maxBrightness: number; minDetectionScore: number };
  /** Most faces analysed in one class photo (mode 'all'). */
  maxFaces: number;
  /** A selfie's other face at least this share of the largest face's width: FACE_MULTIPLE. */
  secondFaceRatio: number;
  thresholds: { confident: number; uncertain: number };
  /** The recognition net (FACE_EMBEDDER). */
  embedder: EmbedderName;
  keepPhotos: boolean;
  selfEnrolment: SelfEnrolmentMode;
  /** Face references and selfie matching need a recorded consent (FACE_CONSENT_REQUIRED). */
  consentRequired: boolean;
}

export class FaceConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid face configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'FaceConfigError';
    this.problems = problems;
  }
}

/** Reads and validates the FACE_* options; empty variables count as unset. */
export function loadFaceConfig(env: NodeJS.ProcessEnv = process.env): FaceConfig {
  const present: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (k.startsWith('FACE_') && v !== undefined && v !== '') present[k] = v;
  const parsed = FaceEnvSchema.safeParse(present);
  if (!parsed.success) {
    throw new FaceConfigError(parsed.error.issues.map((i) => problemLine(i, present, FaceEnvSchema.shape)));
  }
  const e = parsed.data;
  return {
    poolSize: e.FACE_POOL_SIZE ?? defaultPoolSize(),
    maxQueue: e.FACE_MAX_QUEUE,
    taskTimeoutMs: e.FACE_TASK_TIMEOUT_MS,
    image: { maxBytes: e.FACE_MAX_IMAGE_BYTES, maxPixels: e.FACE_MAX_PIXELS, maxSide: e.FACE_MAX_SIDE },
    gates: {
      minFacePx: e.FACE_MIN_FACE_PX,
      minSharpness: e.FACE_MIN_SHARPNESS,
      minBrightness: e.FACE_MIN_BRIGHTNESS,
      maxBrightness: e.FACE_MAX_BRIGHTNESS,
      minDetectionScore: e.FACE_MIN_DETECTION_SCORE,
    },
    maxFaces: e.FACE_MAX_FACES,
    secondFaceRatio: e.FACE_SECOND_FACE_RATIO,
    thresholds: bandsOf(e),
    embedder: e.FACE_EMBEDDER,
    keepPhotos: e.FACE_KEEP_PHOTOS,
    selfEnrolment: e.FACE_SELF_ENROLMENT,
    consentRequired: e.FACE_CONSENT_REQUIRED,
  };
}

/**
 * Decision bands by embedder, each calibrated with scripts/face-eval.ts on the LFW development
 * pairs (docs/face.md): distances of different nets are on different scales.
 */
export const EMBEDDER_BANDS: Readonly<Record<EmbedderName, { confident: number; uncertain: number }>> = {
  'faceapi-resnet128': { confident: DEFAULT_CONFIDENT_DISTANCE, uncertain: DEFAULT_UNCERTAIN_DISTANCE },
  'faceplugin-feature': { confident: 1.1, uncertain: 1.25 },
};

function bandsOf(e: {
  FACE_EMBEDDER: EmbedderName;
  FACE_CONFIDENT_DISTANCE?: number | undefined;
  FACE_UNCERTAIN_DISTANCE?: number | undefined;
}): { confident: number; uncertain: number } {
  const d = EMBEDDER_BANDS[e.FACE_EMBEDDER];
  return { confident: e.FACE_CONFIDENT_DISTANCE ?? d.confident, uncertain: e.FACE_UNCERTAIN_DISTANCE ?? d.uncertain };
}

/** The part of the config a worker needs. */
export function analyserSettings(c: FaceConfig): AnalyserSettings {
  return {
    maxImageBytes: c.image.maxBytes,
    maxPixels: c.image.maxPixels,
    maxSide: c.image.maxSide,
    maxFaces: c.maxFaces,
    secondFaceRatio: c.secondFaceRatio,
    ...c.gates,
  };
}

/**
 * Each worker keeps one core busy while it has work; the event loop needs little. On one or
 * two cores use them all (the 300-selfie burst needs both); beyond, leave one for the event loop.
 */
function defaultPoolSize(): number {
  const cores = availableParallelism();
  return cores <= 2 ? cores : Math.min(4, cores - 1);
}

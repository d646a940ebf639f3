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

/**
 * Canonical positions, in a 150x150 chip, of the eye centres, nose tip and mouth centre.
 * They follow the layout of the dlib face chips face-api's recognition net was trained on
 * (mean face shape with 25% padding), refined on the LFW development pairs.
 */
export const CHIP_SIZE = 150;
export const CHIP_TEMPLATE = {
  leftEye: [47.6, 46.6] as Point,
  rightEye: [100.5, 46.6] as Point,
  nose: [74.0, 76.6] as Point,
  mouth: [74.0, 105.8] as Point,
};

/**
 * Least-squares similarity taking template points `to` (chip) onto image points `from`.
 * Returns the chip-to-image map, which is what resampling needs.
 */
export function fitSimilarity(chipPoints: readonly Point[], imagePoints: readonly Point[]): Similarity {
  const n = chipPoints.length;
  if (n < 2 || n !== imagePoints.length) throw new Error('fitSimilarity needs at least two matching points');
  let cu = 0, cv = 0, cx = 0, cy = 0;
  for (let i = 0; i < n; i++) {
    cu += chipPoints[i]![0]; cv += chipPoints[i]![1];
    cx += imagePoints[i]![0]; cy += imagePoints[i]![1];
  }
  cu /= n; cv /= n; cx /= n; cy /= n;
  let num1 = 0, num2 = 0, den = 0;
  for (let i = 0; i < n; i++) {
    const u = chipPoints[i]![0] - cu, v = chipPoints[i]![1] - cv;
    const x = imagePoints[i]![0] - cx, y = imagePoints[i]![1] - cy;
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
  const maxX = width - 1, maxY = height - 1;
  const scale = similarityScale(t);
  const taps = scale > 1.5 ? Math.min(4, Math.ceil(scale)) : 1;
  const weight = 1 / (taps * taps);
  const rgb = [0, 0, 0];
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++) {
      rgb[0] = 0; rgb[1] = 0; rgb[2] = 0;
      for (let j = 0; j < taps; j++) {
        const sv = v + (taps === 1 ? 0 : (j + 0.5) / taps - 0.5);
        for (let i = 0; i < taps; i++) {
          const su = u + (taps === 1 ? 0 : (i + 0.5) / taps - 0.5);
          const x = clamp(t.a * su - t.b * sv + t.tx, 0, maxX);
          const y = clamp(t.b * su + t.a * sv + t.ty, 0, maxY);
          const x0 = Math.floor(x), y0 = Math.floor(y);
          const x1 = Math.min(x0 + 1, maxX), y1 = Math.min(y0 + 1, maxY);
          const fx = x - x0, fy = y - y0;
          const i00 = (y0 * width + x0) * 3, i01 = (y0 * width + x1) * 3;
          const i10 = (y1 * width + x0) * 3, i11 = (y1 * width + x1) * 3;
          for (let c = 0; c < 3; c++) {
            const top = data[i00 + c]! + (data[i01 + c]! - data[i00 + c]!) * fx;
            const bottom = data[i10 + c]! + (data[i11 + c]! - data[i10 + c]!) * fx;
            rgb[c]! += top + (bottom - top) * fy;
          }
        }
      }
      const o = (v * size + u) * 3;
      out[o] = rgb[0]! * weight; out[o + 1] = rgb[1]! * weight; out[o + 2] = rgb[2]! * weight;
    }
  }
  return out;
}

/** Mirrors a packed RGB float chip left-right. */
export function mirrorChip(chip: Float32Array, size: number): Float32Array {
  const out = new Float32Array(chip.length);
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++) {
      const src = (v * size + u) * 3, dst = (v * size + (size - 1 - u)) * 3;
      out[dst] = chip[src]!; out[dst + 1] = chip[src + 1]!; out[dst + 2] = chip[src + 2]!;
    }
  }
  return out;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

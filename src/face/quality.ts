/**
 * Image quality measures on an aligned face chip: sharpness (variance of the Laplacian, the
 * usual cheap blur score) and brightness (mean luma). Pure functions over packed RGB floats.
 */

/** Rec. 601 luma of a packed RGB chip. */
export function toGrey(chip: Float32Array, size: number): Float32Array {
  const grey = new Float32Array(size * size);
  for (let i = 0; i < grey.length; i++) {
    grey[i] = 0.299 * chip[i * 3]! + 0.587 * chip[i * 3 + 1]! + 0.114 * chip[i * 3 + 2]!;
  }
  return grey;
}

/**
 * Variance of the 4-neighbour Laplacian over the inner region of a grey chip. The border
 * is skipped because edge-clamped resampling leaves flat bands there.
 */
export function laplacianVariance(grey: Float32Array, size: number, margin = Math.round(size * 0.15)): number {
  let sum = 0,
    sumSq = 0,
    n = 0;
  for (let y = Math.max(1, margin); y < size - Math.max(1, margin); y++) {
    for (let x = Math.max(1, margin); x < size - Math.max(1, margin); x++) {
      const i = y * size + x;
      const lap = grey[i - 1]! + grey[i + 1]! + grey[i - size]! + grey[i + size]! - 4 * grey[i]!;
      sum += lap;
      sumSq += lap * lap;
      n++;
    }
  }
  if (n === 0) return 0;
  const mean = sum / n;
  return sumSq / n - mean * mean;
}

/** Mean of the inner region, where the face is, rather than background and hair. */
export function meanBrightness(grey: Float32Array, size: number, margin = Math.round(size * 0.2)): number {
  let sum = 0,
    n = 0;
  for (let y = margin; y < size - margin; y++) {
    for (let x = margin; x < size - margin; x++) {
      sum += grey[y * size + x]!;
      n++;
    }
  }
  return n === 0 ? 0 : sum / n;
}

/**
 * Verification metrics over labelled pairs, for scripts/face-eval.ts. A pair whose distance
 * is null (a face was not found) is always a "different" answer: wrong for a same-person
 * pair, right for a different-person pair.
 */

export interface ScoredPair {
  same: boolean;
  /** Distance between the two embeddings; null when either image yielded no face. */
  distance: number | null;
}

/** Accuracy when pairs at or below `threshold` are called the same person. */
export function accuracyAt(pairs: readonly ScoredPair[], threshold: number): number {
  if (pairs.length === 0) return 0;
  let right = 0;
  for (const p of pairs) {
    const saysSame = p.distance !== null && p.distance <= threshold;
    if (saysSame === p.same) right++;
  }
  return right / pairs.length;
}

/** The threshold with the best accuracy, scanning midpoints between observed distances. */
export function bestThreshold(pairs: readonly ScoredPair[]): { threshold: number; accuracy: number } {
  const ds = [...new Set(pairs.flatMap((p) => (p.distance === null ? [] : [p.distance])))].sort((a, b) => a - b);
  let best = { threshold: 0, accuracy: accuracyAt(pairs, -1) };
  for (let i = 0; i < ds.length; i++) {
    const t = i + 1 < ds.length ? (ds[i]! + ds[i + 1]!) / 2 : ds[i]! + 1e-6;
    const acc = accuracyAt(pairs, t);
    if (acc > best.accuracy) best = { threshold: t, accuracy: acc };
  }
  return best;
}

/**
 * True-accept rate at a false-accept rate: the largest threshold whose false accepts among
 * different-person pairs stay within `far`, and the share of same-person pairs it accepts.
 */
export function tarAtFar(pairs: readonly ScoredPair[], far: number): { tar: number; threshold: number; falseAccepts: number } {
  const genuine = pairs.filter((p) => p.same);
  const impostor = pairs.filter((p) => !p.same);
  const allowed = Math.floor(far * impostor.length);
  const impostorDs = impostor.flatMap((p) => (p.distance === null ? [] : [p.distance])).sort((a, b) => a - b);
  // Accept strictly below the (allowed+1)-th closest impostor distance.
  const threshold = allowed < impostorDs.length ? prevFloat(impostorDs[allowed]!) : Number.POSITIVE_INFINITY;
  const accepted = genuine.filter((p) => p.distance !== null && p.distance <= threshold).length;
  const falseAccepts = impostorDs.filter((d) => d <= threshold).length;
  return { tar: genuine.length === 0 ? 0 : accepted / genuine.length, threshold, falseAccepts };
}

/**
 * k-fold accuracy: the threshold is chosen on k-1 folds and scored on the held-out fold, as in
 * the LFW protocol, so the figure is not tuned on the pairs it reports. Folds interleave the
 * pairs so each holds same- and different-person pairs in proportion.
 */
export function crossValidatedAccuracy(pairs: readonly ScoredPair[], k = 10): { mean: number; std: number } {
  const folds: ScoredPair[][] = Array.from({ length: k }, () => []);
  pairs.forEach((p, i) => folds[i % k]!.push(p));
  const scores: number[] = [];
  for (let i = 0; i < k; i++) {
    const test = folds[i]!;
    if (test.length === 0) continue;
    const train = folds.filter((_, j) => j !== i).flat();
    scores.push(accuracyAt(test, bestThreshold(train).threshold));
  }
  const mean = scores.reduce((a, b) => a + b, 0) / Math.max(1, scores.length);
  const std = Math.sqrt(scores.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, scores.length));
  return { mean, std };
}

/** Value at quantile q (0..1) of a list, by nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[idx]!;
}

function prevFloat(x: number): number {
  return x - Math.max(Math.abs(x) * 1e-9, 1e-12);
}

/**
 * Verification metrics over labelled pairs, for scripts/face-eval.ts. A pair whose distance
 * is null (a face was not found in either image) is a wrong answer for accuracy, whatever the
 * pair, as the standard protocol counts it; for TAR and FAR it is never accepted (a service
 * that finds no face accepts nobody).
 */

export interface ScoredPair {
  same: boolean;
  /** Distance between the two embeddings; null when either image yielded no face. */
  distance: number | null;
  /** The pair's fold for k-fold cross-validation; when absent, pair i goes to fold i mod k. */
  fold?: number;
}

/** Accuracy when pairs at or below `threshold` are called the same person; a lost pair is wrong. */
export function accuracyAt(pairs: readonly ScoredPair[], threshold: number): number {
  if (pairs.length === 0) return 0;
  let right = 0;
  for (const p of pairs) {
    if (p.distance === null) continue;
    if (p.distance <= threshold === p.same) right++;
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

/** What a selfie's bands decide without the teacher, counted over labelled pairs. */
export interface BandRates {
  same: number;
  different: number;
  /** Different-person pairs within the confident band: checked in at once. */
  falseAccepts: number;
  /** Same-person pairs beyond the uncertain band, or with a face lost: rejected. */
  falseRejects: number;
  /** Pairs between the bands: sent to the teacher. */
  sameToTeacher: number;
  differentToTeacher: number;
}

export function bandRates(pairs: readonly ScoredPair[], bands: { confident: number; uncertain: number }): BandRates {
  const same = pairs.filter((p) => p.same);
  const different = pairs.filter((p) => !p.same);
  const between = (p: ScoredPair) => p.distance !== null && p.distance > bands.confident && p.distance <= bands.uncertain;
  return {
    same: same.length,
    different: different.length,
    falseAccepts: different.filter((p) => p.distance !== null && p.distance <= bands.confident).length,
    falseRejects: same.filter((p) => p.distance === null || p.distance > bands.uncertain).length,
    sameToTeacher: same.filter(between).length,
    differentToTeacher: different.filter(between).length,
  };
}

/**
 * k-fold accuracy: the threshold is chosen on k-1 folds and scored on the held-out fold, as in
 * the LFW protocol, so the figure is not tuned on the pairs it reports. Pairs carry their
 * official fold when the pairs file has folds; otherwise pair i goes to fold i mod k, so each
 * fold holds same- and different-person pairs in proportion and the folds never change between
 * runs. The standard deviation is the population one over the k fold accuracies.
 */
export function crossValidatedAccuracy(pairs: readonly ScoredPair[], k = 10): { mean: number; std: number; folds: number[] } {
  const folds: ScoredPair[][] = Array.from({ length: k }, () => []);
  pairs.forEach((p, i) => folds[(p.fold ?? i) % k]!.push(p));
  const scores: number[] = [];
  for (let i = 0; i < k; i++) {
    const test = folds[i]!;
    if (test.length === 0) continue;
    const train = folds.filter((_, j) => j !== i).flat();
    scores.push(accuracyAt(test, bestThreshold(train).threshold));
  }
  const mean = scores.reduce((a, b) => a + b, 0) / Math.max(1, scores.length);
  const std = Math.sqrt(scores.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, scores.length));
  return { mean, std, folds: scores };
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

export interface LabelledPair {
  /** Image identifiers: `NAME/NAME_0001.jpg` paths relative to the pairs file's folder. */
  a: string;
  b: string;
  same: boolean;
  /** Set when the pairs file defines folds (`10 300`: ten folds of 300 same then 300 different). */
  fold?: number;
}

/**
 * Parses an LFW pairs file. The first line is either one count N (pairsDevTrain.txt: N
 * same-person lines then N different-person lines, no folds) or `FOLDS N` (pairs.txt: FOLDS
 * sets, each N same-person lines then N different-person lines, one fold each).
 */
export function parseLfwPairs(text: string): LabelledPair[] {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const head = (lines[0] ?? '').split(/\s+/).map(Number);
  const perFold = head.length === 2 ? 2 * head[1]! : null;
  const img = (name: string, n: string) => `${name}/${name}_${n.padStart(4, '0')}.jpg`;
  return lines.slice(1).flatMap((line, i): LabelledPair[] => {
    const f = line.split(/\s+/);
    const fold = perFold ? { fold: Math.floor(i / perFold) } : {};
    if (f.length === 3) return [{ a: img(f[0]!, f[1]!), b: img(f[0]!, f[2]!), same: true, ...fold }];
    if (f.length === 4) return [{ a: img(f[0]!, f[1]!), b: img(f[2]!, f[3]!), same: false, ...fold }];
    return [];
  });
}

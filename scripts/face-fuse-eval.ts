/**
 * Score fusion of two embedders, from the per-pair distances face-eval wrote for each
 * (`--distances`), on the same pairs file: d² = w·(d_a/s_a)² + (1 − w)·(d_b/s_b)², where s is
 * each net's best single threshold, so both scales meet at 1. Reports the standard figures
 * for each weight, so a fusion is chosen by cross-validation like a single net.
 *
 *   node --import tsx scripts/face-fuse-eval.ts A.csv B.csv [--weights 0.25,0.5,0.75]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse as parseCsv } from 'csv-parse/sync';
import { bestThreshold, crossValidatedAccuracy, tarAtFar, type ScoredPair } from '../src/face/eval-metrics.js';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: { weights: { type: 'string', default: '0.25,0.4,0.5,0.6,0.75' } },
});
if (positionals.length !== 2) throw new Error('usage: face-fuse-eval.ts A.csv B.csv [--weights ...]');

const read = (file: string): ScoredPair[] =>
  (parseCsv(readFileSync(file, 'utf8'), { columns: true, skip_empty_lines: true }) as Array<Record<string, string>>).map((r) => ({
    same: r['same'] === '1',
    distance: r['distance'] === '' ? null : Number(r['distance']),
    fold: Number(r['fold']),
  }));
const a = read(positionals[0]!),
  b = read(positionals[1]!);
if (a.length !== b.length || a.some((p, i) => p.same !== b[i]!.same)) throw new Error('the two files do not list the same pairs');

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const line = (name: string, pairs: ScoredPair[]) => {
  const best = bestThreshold(pairs),
    cv = crossValidatedAccuracy(pairs),
    far01 = tarAtFar(pairs, 0.001),
    far1 = tarAtFar(pairs, 0.01);
  console.log(
    `${name.padEnd(14)} ${pct(best.accuracy)} at ${best.threshold.toFixed(3)}; 10-fold ${pct(cv.mean)} ± ${pct(cv.std)}; ` +
      `TAR ${pct(far1.tar)} at FAR 1%, ${pct(far01.tar)} at FAR 0.1%`,
  );
  return best.threshold;
};
const sa = line('A', a),
  sb = line('B', b);
for (const w of args.weights.split(',').map(Number)) {
  const fused = a.map((p, i) => {
    const q = b[i]!;
    const distance =
      p.distance === null || q.distance === null ? null : Math.sqrt(w * (p.distance / sa) ** 2 + (1 - w) * (q.distance / sb) ** 2);
    return { ...p, distance };
  });
  line(`A·${w} + B·${(1 - w).toFixed(2)}`, fused);
}

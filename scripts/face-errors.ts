/**
 * Error analysis of a face-eval run: the pairs a net gets wrong at its best single threshold,
 * sorted into faces the service would not take (no face found, or a selfie refused by the
 * single-face gates), same-person pairs too far apart, and different-person pairs too close.
 * Each image of a wrong pair is analysed again through the worker pool as a selfie ('selfie'
 * mode), so "missed" means what the service would answer, not what the evaluation's 'all' mode saw.
 *
 *   node --import tsx scripts/face-errors.ts A.csv [B.csv ...]
 *
 * The files are face-eval's `--distances` output on the same pairs file; with several, each
 * wrong pair lists every net's distance and verdict, so shared errors show.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseCsv } from 'csv-parse/sync';
import { bestThreshold, type ScoredPair } from '../src/face/eval-metrics.js';
import { loadFaceConfig } from '../src/face/face-config.js';
import { FacePool } from '../src/face/face-pool.js';
import { repoRoot } from './lib/repo-root.js';

interface Row extends ScoredPair {
  a: string;
  b: string;
}
type Kind = 'missed' | 'genuine too far' | 'impostor too close';

const { positionals } = parseArgs({ allowPositionals: true });
if (positionals.length === 0) throw new Error('usage: face-errors.ts A.csv [B.csv ...]');
const root = repoRoot(import.meta.url);

const runs = positionals.map((file) => {
  const rows = (parseCsv(readFileSync(file, 'utf8'), { columns: true, skip_empty_lines: true }) as Array<Record<string, string>>).map(
    (r): Row => ({ a: r['a']!, b: r['b']!, same: r['same'] === '1', distance: r['distance'] === '' ? null : Number(r['distance']) }),
  );
  return { name: path.basename(file, '.csv'), rows, threshold: bestThreshold(rows).threshold };
});
const first = runs[0]!.rows;
if (runs.some((r) => r.rows.length !== first.length || r.rows.some((p, i) => p.a !== first[i]!.a || p.b !== first[i]!.b))) {
  throw new Error('the files do not list the same pairs');
}

const kindOf = (p: Row, t: number): Kind | null =>
  p.distance === null ? 'missed' : p.same && p.distance > t ? 'genuine too far' : !p.same && p.distance <= t ? 'impostor too close' : null;
const wrong = first.flatMap((_, i) => (runs.some((r) => kindOf(r.rows[i]!, r.threshold) !== null) ? [i] : []));

// What the service answers for each image of a wrong pair, taken as a selfie.
const pool = new FacePool({ config: { ...loadFaceConfig(process.env), poolSize: 1, taskTimeoutMs: 120_000 } });
await pool.start();
const selfie = new Map<string, string>();
for (const file of new Set(wrong.flatMap((i) => [first[i]!.a, first[i]!.b]))) {
  const r = await pool.analyse(new Uint8Array(readFileSync(path.resolve(root, file))), 'selfie');
  selfie.set(file, r.ok ? 'ok' : r.reason);
}
await pool.close();

const short = (file: string) => path.basename(file, '.jpg');
for (const run of runs) {
  const counts = new Map<string, number>();
  for (const i of wrong) {
    const p = run.rows[i]!;
    let kind: string | null = kindOf(p, run.threshold);
    if (kind === null) continue;
    // A pair whose image the service refuses as a selfie is a missed face too, whatever its distance.
    const refused = [p.a, p.b].filter((f) => selfie.get(f) !== 'ok');
    if (kind !== 'missed' && refused.length > 0) kind = `${kind}, refused as a selfie`;
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  console.log(
    `${run.name}: ${total} wrong of ${first.length} at the best threshold ${run.threshold.toFixed(3)}: ` +
      [...counts].map(([k, n]) => `${n} ${k}`).join('; '),
  );
}
console.log(['pair', 'same', ...runs.map((r) => `${r.name} (≤ ${r.threshold.toFixed(3)})`), 'selfie a', 'selfie b'].join(' | '));
for (const i of wrong) {
  const p = first[i]!;
  const cells = runs.map((r) => {
    const q = r.rows[i]!;
    const k = kindOf(q, r.threshold);
    return `${q.distance === null ? 'lost' : q.distance.toFixed(3)}${k ? ` WRONG (${k})` : ''}`;
  });
  console.log([`${short(p.a)} / ${short(p.b)}`, p.same ? 'same' : 'diff', ...cells, selfie.get(p.a), selfie.get(p.b)].join(' | '));
}

/**
 * Face verification accuracy on labelled pairs, through the real worker pool.
 *
 *   npx tsx scripts/face-eval.ts [--dir DIR] [--pairs FILE] [--csv FILE] [--limit N]
 *     [--embedder NAME]
 *     [--threads N] [--landmarks mesh|keypoints] [--no-flip] [--faceres-weight W] [--save FILE]
 *     [--distances FILE] [--held-out] [--selfie]
 *
 * Default: ../shared/faces/lfw-devtrain with pairsDevTrain.txt (LFW layout NAME/NAME_0001.jpg;
 * a line `NAME i j` is a same-person pair, `NAME1 i NAME2 j` a different-person pair). A pairs
 * file headed `10 300` (the standard pairs.txt) is scored on its official ten folds; any other
 * on folds i mod 10. --csv reads the `file_x,file_y,Decision` format (Decision Yes/No) with files
 * beside the CSV. A pair whose face was not found counts as a wrong answer (the standard
 * protocol). --distances writes every pair with its distance and fold to a CSV.
 *
 * --held-out keeps only the pairs whose people no file under test/ names, the closest this data
 * comes to faces the service was never tuned on (the bands were set on every development pair,
 * so it is held out from the tests, not from the calibration). --selfie also analyses each image
 * as a selfie check-in does (the main face, the size and quality gates) and reports how many a
 * student would be asked to retake, by reason, the pair rates counting those as not accepted, and
 * how wide the other faces of the refused images are (set FACE_SECOND_FACE_RATIO=0 to see them all).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseCsv } from 'csv-parse/sync';
import { loadFaceConfig } from '../src/face/face-config.js';
import { FacePool } from '../src/face/face-pool.js';
import { EMBEDDER_NAMES, type AnalyseResult, type AnalysedFace, type EmbedderOptions } from '../src/domain/face/face-types.js';
import { AppError } from '../src/shared/app-error.js';
import {
  accuracyAt,
  bandRates,
  bestThreshold,
  crossValidatedAccuracy,
  parseLfwPairs,
  quantile,
  tarAtFar,
  type ScoredPair,
} from '../src/face/eval-metrics.js';
import { distance } from '../src/domain/face/matching.js';
import { repoRoot } from './lib/repo-root.js';
import { z } from 'zod';

const EmbedderNameSchema = z.enum(EMBEDDER_NAMES);

interface Pair {
  a: string;
  b: string;
  same: boolean;
  fold?: number;
}
interface Picked {
  face: AnalysedFace;
  faces: number;
  workerMs: number;
  /** The widest other face's box width over the widest face's, when several were analysed. */
  secondWidth: number | null;
}

const { values: args } = parseArgs({
  options: {
    dir: { type: 'string' },
    pairs: { type: 'string' },
    csv: { type: 'string' },
    limit: { type: 'string' },
    threads: { type: 'string', default: '1' },
    landmarks: { type: 'string' },
    'no-flip': { type: 'boolean', default: false },
    'faceres-weight': { type: 'string' },
    embedder: { type: 'string' },
    save: { type: 'string' },
    distances: { type: 'string' },
    'held-out': { type: 'boolean', default: false },
    selfie: { type: 'boolean', default: false },
  },
});

const root = repoRoot(import.meta.url);
const allPairs = args.csv ? readCsvPairs(path.resolve(args.csv)) : readLfwPairs();
const testedPeople = args['held-out'] ? peopleNamedInTests(allPairs) : new Set<string>();
const pairs = allPairs.filter((p) => !testedPeople.has(personOf(p.a)) && !testedPeople.has(personOf(p.b)));
const limited = limitPairs(pairs, args.limit ? Number(args.limit) : undefined);
const images = [...new Set(limited.flatMap((p) => [p.a, p.b]))];

const embedder: Partial<EmbedderOptions> = {};
if (args.landmarks === 'mesh' || args.landmarks === 'keypoints') embedder.landmarks = args.landmarks;
if (args['no-flip']) embedder.flip = false;
if (args['faceres-weight'] !== undefined) embedder.faceresWeight = Number(args['faceres-weight']);

// --embedder stands for FACE_EMBEDDER, so the bands reported are that net's own.
const env = args.embedder === undefined ? process.env : { ...process.env, FACE_EMBEDDER: EmbedderNameSchema.parse(args.embedder) };
const faceConfig = loadFaceConfig(env);
const config = { ...faceConfig, poolSize: Number(args.threads), taskTimeoutMs: 120_000 };
const pool = new FacePool({ config, embedder });
const loadStart = performance.now();
const engine = await pool.start();
const loadMs = performance.now() - loadStart;

// One analysis per image for the whole run, however many pairs use it.
const cache = new Map<string, Promise<Picked | null>>();
/** --selfie: each image's refusal reason as a selfie, or null when a selfie of it is analysed. */
const asSelfie = new Map<string, string | null>();
/** --selfie: the same for the first image of a same-person pair, enrolled (strict: one face only). */
const asEnrolment = new Map<string, string | null>();
const enrolled = new Set(limited.filter((p) => p.same).map((p) => p.a));
let done = 0;
const runStart = performance.now();
const analyse = (file: string): Promise<Picked | null> => {
  let p = cache.get(file);
  if (!p) {
    const bytes = readFileSync(file);
    // A face a selfie analysis kept is the one a check-in matches (the largest, background faces
    // ignored); only the images a selfie refuses need the second analysis.
    const selfie = args.selfie ? analyseOnce(bytes, 'selfie') : Promise.resolve(null);
    p = selfie.then(async (single) => {
      if (single) asSelfie.set(file, single.ok ? null : single.reason);
      // A selfie refusal is an enrolment one too; a selfie kept may still hold a face behind it.
      if (single && enrolled.has(file)) {
        asEnrolment.set(file, single.ok ? await analyseOnce(bytes, 'single').then((e) => (e.ok ? null : e.reason)) : single.reason);
      }
      const r = single?.ok ? single : await analyseOnce(bytes, 'all');
      done++;
      if (done % 250 === 0) process.stderr.write(`  ${done}/${images.length} images\n`);
      if (!r.ok) return null;
      const face = args.csv ? r.faces[0]! : mostCentral(r.faces, r.image);
      return { face, faces: r.faces.length, workerMs: r.timings.total, secondWidth: secondWidthOf(r.faces) };
    });
    cache.set(file, p);
  }
  return p;
};
/**
 * One analysis, tried again after a BUSY (a task past its deadline on a machine shared with other
 * work: the image is not at fault, and one such answer used to end a run of half an hour).
 */
async function analyseOnce(bytes: Buffer, mode: 'single' | 'selfie' | 'all'): Promise<AnalyseResult> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await pool.analyse(new Uint8Array(bytes), mode);
    } catch (err) {
      if (attempt >= 3 || !(err instanceof AppError) || err.code !== 'BUSY') throw err;
      process.stderr.write(`  BUSY (${String(err.details?.['cause'])}), attempt ${attempt + 1}\n`);
    }
  }
}
// A few tasks in flight per worker keep them busy without queueing the whole set against
// the task deadline.
const picked = new Map<string, Picked | null>();
let next = 0;
await Promise.all(
  Array.from({ length: config.poolSize * 2 }, async () => {
    while (next < images.length) {
      const f = images[next++]!;
      picked.set(f, await analyse(f));
    }
  }),
);
const runMs = performance.now() - runStart;

const scored: ScoredPair[] = limited.map((p) => {
  const a = picked.get(p.a),
    b = picked.get(p.b);
  return {
    same: p.same,
    distance: a && b ? distance(a.face.embedding, b.face.embedding) : null,
    ...(p.fold === undefined ? {} : { fold: p.fold }),
  };
});
report();
if (args.distances) writeDistances(args.distances);
if (args.save) saveEmbeddings(args.save);
await pool.close();

function report(): void {
  const found = [...picked.values()].filter((x): x is Picked => x !== null);
  const missed = [...picked.entries()].filter(([, v]) => v === null).map(([k]) => path.relative(path.dirname(k), k));
  const best = bestThreshold(scored);
  const cv = crossValidatedAccuracy(scored);
  const far1 = tarAtFar(scored, 0.01),
    far01 = tarAtFar(scored, 0.001);
  const cfg = faceConfig.thresholds;
  const gates = faceConfig.gates;
  const q = (xs: number[]) => [0.01, 0.05, 0.5].map((x) => quantile(xs, x).toFixed(1)).join(' / ');
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  const lines = [
    `face-eval  ${args.csv ?? `${args.dir ?? 'lfw-devtrain'} ${path.basename(args.pairs ?? 'pairsDevTrain.txt')}`}`,
    `engine     ${engine.backend} ${engine.modelId} (${engine.modelVersion}); models loaded in ${(loadMs / 1000).toFixed(1)} s`,
    `pairs      ${scored.length} (${scored.filter((p) => p.same).length} same, ${scored.filter((p) => !p.same).length} different); images ${images.length}`,
    `detection  ${missed.length} images without a face (${pct(missed.length / images.length)})${missed.length ? `: ${missed.slice(0, 8).join(', ')}${missed.length > 8 ? ', ...' : ''}` : ''}; ${found.filter((f) => f.faces > 1).length} images with several faces`,
    `pairs lost ${scored.filter((p) => p.distance === null).length} (a face not found: counted wrong, never accepted)`,
    `accuracy   ${pct(best.accuracy)} at the best threshold ${best.threshold.toFixed(3)}; 10-fold ${pct(cv.mean)} ± ${pct(cv.std)} ` +
      `(${scored.some((p) => p.fold !== undefined) ? 'official folds' : 'folds i mod 10'}; lost pairs wrong)`,
    `TAR        ${pct(far1.tar)} at FAR 1% (threshold ${far1.threshold.toFixed(3)}, ${far1.falseAccepts} false accepts); ${pct(far01.tar)} at FAR 0.1% (threshold ${far01.threshold.toFixed(3)}, ${far01.falseAccepts} false accepts)`,
    `bands      configured confident ≤ ${cfg.confident}, uncertain ≤ ${cfg.uncertain}: accuracy ${pct(accuracyAt(scored, cfg.confident))} / ${pct(accuracyAt(scored, cfg.uncertain))}; ` +
      `genuine ${bandShare(
        scored.filter((p) => p.same),
        cfg,
      )}; impostor ${bandShare(
        scored.filter((p) => !p.same),
        cfg,
      )}`,
    `quality    p1 / p5 / p50: face ${q(found.map((f) => f.face.quality.faceSizePx))} px; sharpness ${q(found.map((f) => f.face.quality.sharpness))}; ` +
      `brightness ${q(found.map((f) => f.face.quality.brightness))}; would fail single-mode gates: ${found.filter((f) => failsGates(f.face, gates)).length}`,
    `liveness   antispoof 'real' p5 / p50 ${quantileOf(found, 'real')}; 'live' p5 / p50 ${quantileOf(found, 'live')}`,
    `timing     ${(runMs / 1000).toFixed(1)} s for ${images.length} images with ${config.poolSize} worker(s): ${(images.length / (runMs / 1000)).toFixed(1)} images/s; ` +
      `worker time per image p50 ${quantile(
        found.map((f) => f.workerMs),
        0.5,
      ).toFixed(0)} ms, p99 ${quantile(
        found.map((f) => f.workerMs),
        0.99,
      ).toFixed(0)} ms`,
  ];
  lines.push(shippedBandsLine(scored));
  if (args['held-out'])
    lines.push(`held out   ${testedPeople.size} people named under test/ left out, with ${allPairs.length - pairs.length} pairs`);
  if (args.selfie) lines.push(...selfieLines());
  console.log(lines.join('\n'));
}

/**
 * What the shipped bands decide on their own: a false accept is a different-person pair within
 * the confident band (checked in without the teacher), a false reject a same-person pair beyond
 * the uncertain band or with a face lost (rejected, a retry left); the band between goes to the
 * teacher.
 */
function shippedBandsLine(ps: ScoredPair[]): string {
  const t = faceConfig.thresholds;
  const r = bandRates(ps, t);
  const share = (n: number, of: number) => `${n} of ${of} (${((100 * n) / Math.max(of, 1)).toFixed(2)}%)`;
  return (
    `shipped    at ${t.confident} / ${t.uncertain}: false accepts ${share(r.falseAccepts, r.different)} different-person pairs; ` +
    `false rejects ${share(r.falseRejects, r.same)} same-person pairs; to the teacher ${share(r.sameToTeacher, r.same)} same, ${share(r.differentToTeacher, r.different)} different`
  );
}

/** --selfie: the images a selfie check-in refuses, and the same-person pairs that lose a face to it. */
function selfieLines(): string[] {
  const byReason = new Map<string, number>();
  for (const reason of asSelfie.values()) if (reason !== null) byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
  const refused = [...byReason.values()].reduce((a, b) => a + b, 0);
  const t = faceConfig.thresholds;
  const same = limited.map((p, i) => ({ p, s: scored[i]! })).filter(({ p }) => p.same);
  // The second image plays the selfie, the first the enrolment (strict: any second face refused).
  const refusedPair = (p: Pair) => asEnrolment.get(p.a) !== null || asSelfie.get(p.b) !== null;
  const retake = same.filter(({ p }) => refusedPair(p)).length;
  const enrolmentOnly = [...asEnrolment].filter(([f, r]) => r !== null && asSelfie.get(f) === null).length;
  const notAccepted = same.filter(({ p, s }) => refusedPair(p) || s.distance === null || s.distance > t.confident).length;
  const pct = (n: number, of: number) => `${((100 * n) / Math.max(of, 1)).toFixed(2)}%`;
  // Only images analysed in mode 'all' (those a selfie refused) show their other faces.
  const ratios = [...picked.values()].flatMap((x) => (x?.secondWidth == null ? [] : [x.secondWidth]));
  const atLeast = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8].map((r) => `≥ ${r}: ${ratios.filter((x) => x >= r).length}`).join(', ');
  return [
    `second face ${ratios.length} images refused as selfies show several faces; widest other / widest width ${atLeast}; ` +
      `FACE_SECOND_FACE_RATIO ${faceConfig.secondFaceRatio}`,
    `as selfies ${refused} of ${asSelfie.size} images refused (${pct(refused, asSelfie.size)}): ` +
      ([...byReason].map(([r, n]) => `${r} ${n}`).join(', ') || 'none'),
    `           ${enrolmentOnly} of ${asEnrolment.size} enrolment images kept as selfies are refused as enrolment photos (a face behind); ` +
      `same-person pairs with an image refused as a selfie or enrolment photo ${retake} of ${same.length} (${pct(retake, same.length)}); ` +
      `not accepted at once (refused, lost, or beyond ${t.confident}) ${notAccepted} (${pct(notAccepted, same.length)})`,
  ];
}

/** LFW's NAME/NAME_NNNN.jpg: the person is the folder. */
function personOf(file: string): string {
  return path.basename(path.dirname(file));
}

/** The people of `ps` whose name (the LFW folder) a file under test/ holds as a whole word. */
function peopleNamedInTests(ps: Pair[]): Set<string> {
  const text = readdirSync(path.join(root, 'test'), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.(ts|js|json|csv|txt)$/.test(e.name))
    .map((e) => readFileSync(path.join(e.parentPath, e.name), 'utf8'))
    .join('\n');
  const people = new Set(ps.flatMap((p) => [personOf(p.a), personOf(p.b)]));
  const escape = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new Set([...people].filter((name) => new RegExp(`(^|[^A-Za-z0-9_])${escape(name)}([^A-Za-z0-9_]|$)`).test(text)));
}

function bandShare(ps: ScoredPair[], t: { confident: number; uncertain: number }): string {
  const c = ps.filter((p) => p.distance !== null && p.distance <= t.confident).length;
  const u = ps.filter((p) => p.distance !== null && p.distance > t.confident && p.distance <= t.uncertain).length;
  return `${c} confident / ${u} uncertain / ${ps.length - c - u} mismatch`;
}

function failsGates(f: AnalysedFace, g: ReturnType<typeof loadFaceConfig>['gates']): boolean {
  const q = f.quality;
  return q.faceSizePx < g.minFacePx || q.sharpness < g.minSharpness || q.brightness < g.minBrightness || q.brightness > g.maxBrightness;
}

function quantileOf(found: Picked[], key: 'real' | 'live'): string {
  const xs = found.flatMap((f) => (f.face[key] === null ? [] : [f.face[key]]));
  return `${quantile(xs, 0.05).toFixed(2)} / ${quantile(xs, 0.5).toFixed(2)}`;
}

function secondWidthOf(faces: AnalysedFace[]): number | null {
  if (faces.length < 2) return null;
  const widths = faces.map((f) => f.box.width).sort((a, b) => b - a);
  return widths[1]! / widths[0]!;
}

/** LFW subjects are centred; other faces in the frame are bystanders. */
function mostCentral(faces: AnalysedFace[], image: { width: number; height: number }): AnalysedFace {
  const cx = image.width / 2,
    cy = image.height / 2;
  const off = (f: AnalysedFace) => Math.hypot(f.box.x + f.box.width / 2 - cx, f.box.y + f.box.height / 2 - cy);
  return faces.reduce((best, f) => (off(f) < off(best) ? f : best));
}

function readLfwPairs(): Pair[] {
  const dir = path.resolve(args.dir ?? path.join(root, '..', 'shared', 'faces', 'lfw-devtrain'));
  const file = args.pairs ? path.resolve(args.pairs) : path.join(dir, 'pairsDevTrain.txt');
  if (!existsSync(file)) throw new Error(`pairs file not found: ${file}`);
  return parseLfwPairs(readFileSync(file, 'utf8')).map((p) => ({ ...p, a: path.join(dir, p.a), b: path.join(dir, p.b) }));
}

function writeDistances(file: string): void {
  const rows = limited.map((p, i) => {
    const d = scored[i]!.distance;
    return [path.relative(root, p.a), path.relative(root, p.b), p.same ? 1 : 0, d === null ? '' : d.toFixed(6), p.fold ?? i % 10].join(',');
  });
  writeFileSync(file, ['a,b,same,distance,fold', ...rows].join('\n') + '\n');
  console.log(`per-pair distances written to ${file}`);
}

function readCsvPairs(file: string): Pair[] {
  const rows = parseCsv(readFileSync(file, 'utf8'), { columns: true, skip_empty_lines: true, trim: true }) as Array<Record<string, string>>;
  const dir = path.dirname(file);
  return rows.map((r) => ({ a: path.join(dir, r['file_x']!), b: path.join(dir, r['file_y']!), same: /^yes$/i.test(r['Decision'] ?? '') }));
}

/** The first N/2 same-person and N/2 different-person pairs, so a quick run stays balanced. */
function limitPairs(all: Pair[], limit: number | undefined): Pair[] {
  if (!limit || limit >= all.length) return all;
  const same = all.filter((p) => p.same).slice(0, Math.ceil(limit / 2));
  const diff = all.filter((p) => !p.same).slice(0, Math.floor(limit / 2));
  return [...same, ...diff];
}

function saveEmbeddings(file: string): void {
  const out: Record<string, number[] | null> = {};
  for (const [k, v] of picked) out[path.relative(root, k)] = v ? Array.from(v.face.embedding) : null;
  writeFileSync(file, JSON.stringify({ modelId: engine.modelId, modelVersion: engine.modelVersion, embeddings: out }));
  console.log(`embeddings saved to ${file}`);
}

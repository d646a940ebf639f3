/**
 * The class-photo proposal (1:N, one face per person, closest pairs first, within the uncertain
 * band) on the two group photos of ../shared/faces/photos, through the real worker pool.
 *
 *   node --import tsx scripts/face-class-photo-eval.ts [--dir DIR] [--embedder NAME]
 *
 * The people enrolled: each identity of master.csv (its same-person pairs joined), from up to
 * five of its photos; and, for each group photo, the people known in it (`KNOWN`) whose
 * reference comes from the other group photo, since no single photo of them exists here.
 * Thresholds are FACE_CONFIDENT_DISTANCE / FACE_UNCERTAIN_DISTANCE (their defaults follow
 * FACE_EMBEDDER). Reports faces found, matched, and whether each match is the right person.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseCsv } from 'csv-parse/sync';
import { z } from 'zod';
import { loadFaceConfig } from '../src/face/face-config.js';
import { FacePool } from '../src/face/face-pool.js';
import { EMBEDDER_NAMES, type AnalysedFace, type AnalyseSuccess } from '../src/domain/face/face-types.js';
import { assignFaces, type Candidate } from '../src/domain/face/face-assignment.js';
import { repoRoot } from './lib/repo-root.js';

const { values: args } = parseArgs({ options: { dir: { type: 'string' }, embedder: { type: 'string' } } });
const dir = path.resolve(args.dir ?? path.join(repoRoot(import.meta.url), '..', 'shared', 'faces', 'photos'));

/**
 * Who is where in the group photos, by the face box's centre as a fraction of the image
 * (checked by eye): the people of master.csv's `img1` identity and one other person.
 */
const KNOWN: Record<string, Array<{ who: string; x: number; y: number }>> = {
  'couple.jpg': [
    { who: 'img1', x: 0.3, y: 0.57 },
    { who: 'pitt', x: 0.72, y: 0.45 },
  ],
  'selfie-many-people.jpg': [
    { who: 'img1', x: 0.25, y: 0.6 },
    { who: 'pitt', x: 0.72, y: 0.33 },
  ],
};
const GROUPS = Object.keys(KNOWN);

const env = args.embedder === undefined ? process.env : { ...process.env, FACE_EMBEDDER: z.enum(EMBEDDER_NAMES).parse(args.embedder) };
const config = { ...loadFaceConfig(env), poolSize: 1, taskTimeoutMs: 120_000 };
const pool = new FacePool({ config });
const engine = await pool.start();
const t = config.thresholds;

const analyse = async (file: string, mode: 'single' | 'all'): Promise<AnalyseSuccess | null> => {
  const r = await pool.analyse(new Uint8Array(readFileSync(path.join(dir, file))), mode);
  return r.ok ? r : null;
};

// Identities of master.csv: same-person pairs joined (union-find), named by their first file.
const parent = new Map<string, string>();
const root = (x: string): string => {
  if (!parent.has(x)) parent.set(x, x);
  while (parent.get(x) !== x) x = parent.get(x)!;
  return x;
};
const rows = parseCsv(readFileSync(path.join(dir, 'master.csv'), 'utf8'), { columns: true, skip_empty_lines: true }) as Array<
  Record<string, string>
>;
for (const r of rows) {
  const a = root(r['file_x']!),
    b = root(r['file_y']!);
  if (r['Decision'] === 'Yes' && a !== b) parent.set(a, b);
}
const identities = new Map<string, string[]>();
for (const f of parent.keys()) identities.set(root(f), [...(identities.get(root(f)) ?? []), f]);
const byNumber = (a: string, b: string) => Number(a.replace(/\D/g, '')) - Number(b.replace(/\D/g, ''));

const candidates: Candidate[] = [];
for (const files of identities.values()) {
  const sorted = files.filter((f) => !GROUPS.includes(f)).sort(byNumber);
  const embeddings: number[][] = [];
  for (const f of sorted) {
    if (embeddings.length >= 5) break;
    const r = await analyse(f, 'single');
    if (r) embeddings.push(Array.from(r.faces[0]!.embedding));
  }
  if (embeddings.length > 0) candidates.push({ id: path.basename(sorted[0]!, '.jpg'), embeddings });
}

const analysed = new Map<string, AnalyseSuccess>();
for (const g of GROUPS) {
  const r = await analyse(g, 'all');
  if (!r) throw new Error(`no face found in ${g}`);
  analysed.set(g, r);
}

/** The face of `g` nearest to where `who` is known to be. */
const faceOf = (g: string, who: string): { index: number; face: AnalysedFace } | null => {
  const r = analysed.get(g)!;
  const spot = KNOWN[g]!.find((k) => k.who === who);
  if (!spot) return null;
  const off = (f: AnalysedFace) =>
    Math.hypot((f.box.x + f.box.width / 2) / r.image.width - spot.x, (f.box.y + f.box.height / 2) / r.image.height - spot.y);
  let best: { index: number; face: AnalysedFace } | null = null;
  r.faces.forEach((face, index) => {
    if (off(face) < 0.15 && (!best || off(face) < off(best.face))) best = { index, face };
  });
  return best;
};

console.log(
  `class-photo  ${engine.backend} ${engine.modelId} (${engine.modelVersion}); bands confident ≤ ${t.confident}, uncertain ≤ ${t.uncertain}`,
);
console.log(`enrolled     ${candidates.map((c) => `${c.id} (${c.embeddings.length})`).join(', ')}; + pitt from the other group photo`);
for (const g of GROUPS) {
  const r = analysed.get(g)!;
  const other = GROUPS.find((o) => o !== g)!;
  const pitt = faceOf(other, 'pitt');
  const people = pitt ? [...candidates, { id: 'pitt', embeddings: [Array.from(pitt.face.embedding)] }] : candidates;
  const tooSmall = r.faces.map((f) => f.quality.faceSizePx < config.gates.minFacePx);
  const assignments = assignFaces(
    r.faces.map((f, i) => (tooSmall[i] ? null : f.embedding)),
    people,
    t,
  );
  const truth = new Map(KNOWN[g]!.flatMap((k) => (faceOf(g, k.who) ? [[faceOf(g, k.who)!.index, k.who] as const] : [])));
  const lines = assignments.map((a) => {
    const expected = truth.get(a.face);
    const verdict =
      expected === undefined ? 'unknown person: a false match' : expected === a.candidateId ? 'right' : `wrong (is ${expected})`;
    return `face ${a.face} -> ${a.candidateId} ${a.band} d=${a.distance.toFixed(3)} (${verdict})`;
  });
  const missed = [...truth.entries()].filter(([face, who]) => !assignments.some((a) => a.face === face && a.candidateId === who));
  console.log(
    `${g.padEnd(24)} ${r.faces.length} faces found (${tooSmall.filter(Boolean).length} too small), ${assignments.length} matched: ${lines.join('; ') || 'none'}` +
      `; known people not matched: ${missed.map(([face, who]) => `${who} (face ${face})`).join(', ') || 'none'}` +
      `; known people not detected: ${
        KNOWN[g]!.filter((k) => !faceOf(g, k.who))
          .map((k) => k.who)
          .join(', ') || 'none'
      }`,
  );
}
await pool.close();

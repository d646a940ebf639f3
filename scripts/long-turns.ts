/**
 * Names what held a node's main thread during its long turns: the gaps a node's gc-timeline
 * preload wrote down (`loadtest.ts --gc DIR`, the `longTurns` of DIR/<run>-load-<i>-gc.jsonl),
 * each with the frames its --cpu-prof profile sampled during the gap (`loadtest.ts --cpu-prof
 * DIR2 --node-flags='--cpu-prof-interval 200'` for 0.2 ms samples) and the collections that
 * paused in it.
 *
 *   node --import tsx scripts/long-turns.ts GC.jsonl FILE.cpuprofile [--min MS] [--top N] [--start UNIX_MS]
 *
 * `--start`: the run's second 0 (Unix ms), to print each gap's run second; default the first
 * line's second. Gaps of one turn end on the same timer firing, so each gap is one stretch of
 * the thread; it may hold several callbacks (a poll phase that read many sockets). "On a core"
 * counts the gap's samples at the profile's interval: much less than the gap, the thread waited
 * for a core (a loaded machine), rather than worked.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { profileTop, sampleInterval, type CpuProfile } from './lib/cpu-profile.js';
import { readGcTimeline } from './lib/gc-timeline-table.js';
import { longTurnRows } from './lib/long-turns.js';
import { repoRoot } from './lib/repo-root.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    min: { type: 'string', default: '30' },
    top: { type: 'string', default: '6' },
    start: { type: 'string' },
  },
});
if (positionals.length !== 2) {
  process.stdout.write('usage: long-turns.ts GC.jsonl FILE.cpuprofile [--min MS] [--top N] [--start UNIX_MS]\n');
  process.exit(1);
}
const [gcFile, profileFile] = positionals as [string, string];
const seconds = readGcTimeline(gcFile);
const profile = JSON.parse(readFileSync(profileFile, 'utf8')) as CpuProfile;
const root = repoRoot(import.meta.url);
const intervalMs = sampleInterval(profile) / 1000;
const start = values.start === undefined ? (seconds[0]?.t ?? 0) : Number(values.start);
for (const row of longTurnRows(seconds, Number(values.min), start)) {
  const fromS = (row.endUs - row.ms * 1000 - profile.startTime) / 1e6;
  const toS = (row.endUs - profile.startTime) / 1e6;
  const top = profileTop(profile, root, fromS, toS);
  const busy = top.sampledMs - top.idleMs;
  const gcs = row.gcs.map((g) => `${g.kind} ${g.ms} ms`).join(', ') || 'none >= 10 ms';
  process.stdout.write(
    `s${row.second} gap ${row.ms} ms: on a core ~${(top.samples * intervalMs).toFixed(1)} ms (${top.samples} samples), idle ${top.idleMs.toFixed(1)} ms; collections: ${gcs}\n`,
  );
  const line = (r: { frame: string; selfMs: number; totalMs: number }, ms: number) =>
    `    ${ms.toFixed(1).padStart(6)} ms ${((100 * ms) / Math.max(busy, 1e-9)).toFixed(0).padStart(3)} %  ${r.frame}\n`;
  process.stdout.write('  self:\n');
  for (const r of [...top.rows].sort((a, b) => b.selfMs - a.selfMs).slice(0, Number(values.top))) process.stdout.write(line(r, r.selfMs));
  process.stdout.write('  total:\n');
  for (const r of [...top.rows].sort((a, b) => b.totalMs - a.totalMs).slice(0, Number(values.top) * 2)) {
    process.stdout.write(line(r, r.totalMs));
  }
}

/**
 * Prints the heaviest frames of a V8 .cpuprofile (from `node --cpu-prof`, or
 * `scripts/loadtest.ts --cpu-prof DIR`) as a Markdown table: self time, and total time (the
 * frame and everything it called), each as milliseconds and share of the samples.
 *
 *   node --import tsx scripts/profile-top.ts FILE.cpuprofile [--top 10] [--by self|total] [--from S] [--to S]
 *
 * `--from`/`--to` keep the samples taken between S seconds after the profile's start (the
 * load phase of a run, without the start-up and the connecting); `--busiest S` keeps the S
 * seconds with the least idle time; `--at A-B` keeps those between A and B on the profile's own clock
 * (microseconds of CLOCK_MONOTONIC, as its startTime), which `BENCH_CPU_PROF=DIR
 * scripts/bench-checkins.ts` prints for its timed check-ins.
 *
 * Frames are merged by function and file (and line, outside .ts files, whose lines under tsx are
 * those of the transpiled code), so one function reached by several paths is one row, and the
 * anonymous functions of one .ts file are one row. `(idle)` (the event loop waiting) counts in
 * the sampled time but is left out of the rows and of the shares.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { busiestWindow, profileTop, table, windowAt, type CpuProfile } from './lib/cpu-profile.js';
import { repoRoot } from './lib/repo-root.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    top: { type: 'string', default: '10' },
    by: { type: 'string', default: 'self' },
    from: { type: 'string' },
    to: { type: 'string' },
    busiest: { type: 'string' },
    at: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
const n = Number(values.top);
if (values.help || positionals.length === 0 || !Number.isInteger(n) || n < 1 || (values.by !== 'self' && values.by !== 'total')) {
  process.stdout.write(
    'usage: profile-top.ts FILE.cpuprofile... [--top N] [--by self|total] [--from S] [--to S | --busiest S | --at A-B]\n',
  );
  process.exit(values.help ? 0 : 1);
}
const root = repoRoot(import.meta.url);
for (const file of positionals) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  let from = Number(values.from ?? 0);
  let to = values.to === undefined ? Infinity : Number(values.to);
  if (values.busiest !== undefined) {
    from = busiestWindow(profile, Number(values.busiest));
    to = from + Number(values.busiest);
  }
  if (values.at !== undefined) ({ from, to } = windowAt(profile, values.at));
  const window = from > 0 || to < Infinity ? ` (${from} s to ${to === Infinity ? 'end' : `${to} s`})` : '';
  process.stdout.write(`${path.basename(file)}${window}\n${table(profileTop(profile, root, from, to), n, values.by)}\n\n`);
}

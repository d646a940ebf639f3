import path from 'node:path';

/** A V8 .cpuprofile (`node --cpu-prof`), as far as scripts/profile-top.ts reads it. */
interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface FrameRow {
  frame: string;
  selfMs: number;
  totalMs: number;
}

export interface ProfileTop {
  /** Sampled time in ms, idle included. */
  sampledMs: number;
  idleMs: number;
  /** Samples taken, idle ones included: times the profile's interval, the time the thread was on a core. */
  samples: number;
  rows: FrameRow[];
}

function frameName(cf: CallFrame, root: string): string {
  const fn = cf.functionName || '(anonymous)';
  if (!cf.url) return fn;
  let where = cf.url.replace(/^file:\/\//, '');
  const nm = where.lastIndexOf('/node_modules/');
  if (nm >= 0) where = where.slice(nm + '/node_modules/'.length);
  else if (where.startsWith(root)) where = path.relative(root, where);
  // tsx runs .ts files transpiled, and V8's lines are the transpiled file's: they would mislead.
  if (where.endsWith('.ts')) return `${fn} ${where}`;
  // V8's line numbers are 0-based.
  return `${fn} ${where}:${cf.lineNumber + 1}`;
}

/** Sample i's time in seconds since the profile's start. */
function sampleTimes(profile: CpuProfile): number[] {
  const times: number[] = [];
  let t = profile.startTime;
  for (const d of profile.timeDeltas) {
    t += d;
    times.push((t - profile.startTime) / 1e6);
  }
  return times;
}

/**
 * `A-B`, two instants on the profile's own clock (CLOCK_MONOTONIC microseconds, as its startTime:
 * what `BENCH_CPU_PROF=DIR scripts/bench-checkins.ts` prints for its timed check-ins), as seconds
 * since the profile's start.
 */
export function windowAt(profile: CpuProfile, at: string): { from: number; to: number } {
  const m = /^(\d+)-(\d+)$/.exec(at);
  if (!m || Number(m[2]) < Number(m[1])) throw new Error(`--at wants A-B, two instants in microseconds, A <= B: ${at}`);
  return { from: (Number(m[1]) - profile.startTime) / 1e6, to: (Number(m[2]) - profile.startTime) / 1e6 };
}

/** The start of the `seconds`-long window, on whole seconds, with the fewest idle samples' time. */
export function busiestWindow(profile: CpuProfile, seconds: number): number {
  const times = sampleTimes(profile);
  const idleIds = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  const busyPerSecond: number[] = [];
  profile.samples.forEach((id, i) => {
    if (idleIds.has(id)) return;
    const s = Math.floor(times[i]!);
    busyPerSecond[s] = (busyPerSecond[s] ?? 0) + Math.max(0, profile.timeDeltas[i] ?? 0);
  });
  let best = 0;
  let bestBusy = -1;
  for (let s = 0; s + seconds <= Math.max(seconds, busyPerSecond.length); s += 1) {
    let busy = 0;
    for (let k = s; k < s + seconds; k += 1) busy += busyPerSecond[k] ?? 0;
    if (busy > bestBusy) [best, bestBusy] = [s, busy];
  }
  return best;
}

/**
 * Self and total time per frame over the samples taken from `fromS` to `toS` seconds after
 * the start; total counts a frame once per sample even when it recurses.
 */
export function profileTop(profile: CpuProfile, root: string, fromS = 0, toS = Infinity): ProfileTop {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const selfUs = new Map<number, number>();
  const times = sampleTimes(profile);
  let samples = 0;
  profile.samples.forEach((id, i) => {
    if (times[i]! < fromS || times[i]! >= toS) return;
    samples += 1;
    // timeDeltas[i] is the time before sample i; it is the best estimate of the sample's weight.
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, profile.timeDeltas[i] ?? 0));
  });
  const rows = new Map<string, FrameRow>();
  const row = (name: string): FrameRow => {
    let r = rows.get(name);
    if (!r) rows.set(name, (r = { frame: name, selfMs: 0, totalMs: 0 }));
    return r;
  };
  let sampledUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    sampledUs += us;
    if (node.callFrame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    row(frameName(node.callFrame, root)).selfMs += us / 1000;
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const n = byId.get(at);
      if (!n || n.callFrame.functionName === '(root)') continue;
      const name = frameName(n.callFrame, root);
      if (seen.has(name)) continue;
      seen.add(name);
      row(name).totalMs += us / 1000;
    }
  }
  return { sampledMs: sampledUs / 1000, idleMs: idleUs / 1000, samples, rows: [...rows.values()] };
}

/** The `n` heaviest frames by self or total time, as a Markdown table under a line of totals. */
export function table(top: ProfileTop, n: number, by: 'self' | 'total'): string {
  const busy = top.sampledMs - top.idleMs;
  const pct = (ms: number) => `${((100 * ms) / busy).toFixed(1)} %`;
  const sorted = [...top.rows].sort((a, b) => (by === 'self' ? b.selfMs - a.selfMs : b.totalMs - a.totalMs)).slice(0, n);
  return [
    `sampled ${(top.sampledMs / 1000).toFixed(1)} s, busy ${(busy / 1000).toFixed(1)} s (${((100 * busy) / top.sampledMs).toFixed(0)} %); shares are of the busy time`,
    '',
    '| # | frame | self ms | self | total ms | total |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
    ...sorted.map(
      (r, i) => `| ${i + 1} | \`${r.frame}\` | ${r.selfMs.toFixed(0)} | ${pct(r.selfMs)} | ${r.totalMs.toFixed(0)} | ${pct(r.totalMs)} |`,
    ),
  ].join('\n');
}

/**
 * The profile's sampling interval in microseconds: the median time between two samples. A
 * thread off its core is sampled once when it is back, with the whole absence as that sample's
 * delta, so samples times this interval is the time it was on a core.
 */
export function sampleInterval(profile: CpuProfile): number {
  const deltas = profile.timeDeltas.filter((d) => d > 0).sort((a, b) => a - b);
  return deltas[Math.floor(deltas.length / 2)] ?? 0;
}

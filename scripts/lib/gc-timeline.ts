/**
 * Preload (`node --import tsx --import ./scripts/lib/gc-timeline.ts`, with GC_TIMELINE_FILE) that
 * appends, once a second, one line of JSON to GC_TIMELINE_FILE: the main thread's garbage
 * collections that second by kind (count, pause total, longest pause) and the heap at the end of
 * it (used, old and new space, external). `loadtest.ts --gc DIR` preloads it into its nodes and
 * lines the seconds up with the acknowledgement percentiles of the same seconds, so a p99 that
 * climbs can be told apart from a collector that pauses.
 *
 * Each line also lists that second's long turns: a 1 ms interval timer that fired `ms` late or
 * more than LONG_TURN_MS after its previous firing says the main thread was held that long, and
 * the gap's end is written on the monotonic clock of a `--cpu-prof` profile (microseconds), so
 * scripts/long-turns.ts can name the frames sampled during it; and the pauses of LONG_TURN_MS or
 * more among the collections, with their start on the same clock.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import v8 from 'node:v8';

/** One second of one node, as written (`t`: the second's start, Unix ms). */
export interface GcSecond {
  t: number;
  gc: Record<string, { n: number; ms: number; maxMs: number }>;
  heapUsedMB: number;
  oldSpaceMB: number;
  newSpaceMB: number;
  externalMB: number;
  /** Gaps of LONG_TURN_MS or more between two firings of a 1 ms timer: end (monotonic µs), length. */
  longTurns?: { endUs: number; ms: number }[];
  /** Collections that paused LONG_TURN_MS or more: start (monotonic µs), kind, length. */
  longGcs?: { startUs: number; kind: string; ms: number }[];
}

/** A gap this long (ms) between two firings of a 1 ms timer is written down. */
export const LONG_TURN_MS = 10;

const KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'markCompact',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakCallbacks',
};

const file = process.env['GC_TIMELINE_FILE'];
if (file) {
  writeFileSync(file, '');
  let second = new Map<string, { n: number; ms: number; maxMs: number }>();
  let longTurns: { endUs: number; ms: number }[] = [];
  let longGcs: { startUs: number; kind: string; ms: number }[] = [];
  // performance.now() and a --cpu-prof profile's clock are both CLOCK_MONOTONIC; this is the
  // former's origin on the latter, in microseconds.
  const originUs = Number(process.hrtime.bigint() / 1000n) - performance.now() * 1000;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) {
      const kind = KINDS[entry.detail?.kind ?? -1] ?? 'other';
      if (entry.duration >= LONG_TURN_MS) {
        longGcs.push({ startUs: Math.round(originUs + entry.startTime * 1000), kind, ms: round(entry.duration) });
      }
      const s = second.get(kind) ?? { n: 0, ms: 0, maxMs: 0 };
      s.n += 1;
      s.ms += entry.duration;
      s.maxMs = Math.max(s.maxMs, entry.duration);
      second.set(kind, s);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const mb = (bytes: number) => Math.round(bytes / 104_857.6) / 10;
  let from = Date.now();
  // The observer hears of a collection a little after it: a pause at a second's edge may be
  // counted in the next second, which the table's reader can live with.
  const timer = setInterval(() => {
    const spaces = new Map(v8.getHeapSpaceStatistics().map((s) => [s.space_name, s.space_used_size]));
    const heap = v8.getHeapStatistics();
    const line: GcSecond = {
      t: from,
      gc: Object.fromEntries([...second].map(([k, v]) => [k, { n: v.n, ms: round(v.ms), maxMs: round(v.maxMs) }])),
      heapUsedMB: mb(heap.used_heap_size),
      oldSpaceMB: mb(spaces.get('old_space') ?? 0),
      newSpaceMB: mb(spaces.get('new_space') ?? 0),
      externalMB: mb(heap.external_memory),
      longTurns,
      longGcs,
    };
    second = new Map();
    longTurns = [];
    longGcs = [];
    from = Date.now();
    appendFileSync(file, `${JSON.stringify(line)}\n`);
  }, 1_000);
  timer.unref();
  let last = process.hrtime.bigint();
  const ticker = setInterval(() => {
    const now = process.hrtime.bigint();
    const ms = Number(now - last) / 1e6;
    last = now;
    if (ms >= LONG_TURN_MS) longTurns.push({ endUs: Number(now / 1000n), ms: round(ms) });
  }, 1);
  ticker.unref();
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

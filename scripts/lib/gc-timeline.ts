/**
 * Preload (`node --import tsx --import ./scripts/lib/gc-timeline.ts`, with GC_TIMELINE_FILE) that
 * appends, once a second, one line of JSON to GC_TIMELINE_FILE: the main thread's garbage
 * collections that second by kind (count, pause total, longest pause) and the heap at the end of
 * it (used, old and new space, external). `loadtest.ts --gc DIR` preloads it into its nodes and
 * lines the seconds up with the acknowledgement percentiles of the same seconds, so a p99 that
 * climbs can be told apart from a collector that pauses.
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
}

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
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) {
      const kind = KINDS[entry.detail?.kind ?? -1] ?? 'other';
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
    };
    second = new Map();
    from = Date.now();
    appendFileSync(file, `${JSON.stringify(line)}\n`);
  }, 1_000);
  timer.unref();
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

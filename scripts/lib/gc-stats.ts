/**
 * Preload (`node --import tsx --import ./scripts/lib/gc-stats.ts`) counting a benchmark server's
 * garbage collections between two SIGUSR2 (the load phase): the first signal starts counting,
 * the second writes one line of JSON to stderr, prefixed `gc stats: `, with the count and the
 * main thread's pause time of each kind (scavenge, mark-compact, incremental marking, weak
 * callbacks). Pauses are what the event loop waits for; the collectors' background threads
 * show in the benchmark's per-thread CPU instead. Comparing V8 flags (young-generation size,
 * GC threads) on a shared machine: these counts depend on the allocation, not on the load.
 */
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';

const KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'markCompact',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakCallbacks',
};

let counting = false;
let stats = new Map<string, { count: number; ms: number }>();

const observer = new PerformanceObserver((list) => {
  if (!counting) return;
  for (const entry of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) {
    const kind = KINDS[entry.detail?.kind ?? -1] ?? 'other';
    const s = stats.get(kind) ?? { count: 0, ms: 0 };
    s.count += 1;
    s.ms += entry.duration;
    stats.set(kind, s);
  }
});
observer.observe({ entryTypes: ['gc'] });

process.on('SIGUSR2', () => {
  if (!counting) {
    stats = new Map();
    counting = true;
    return;
  }
  // The observer is told of the last collections asynchronously: let it catch up first.
  setTimeout(() => {
    counting = false;
    const out = Object.fromEntries([...stats].map(([k, v]) => [k, { count: v.count, ms: Math.round(v.ms * 10) / 10 }]));
    process.stderr.write(`gc stats: ${JSON.stringify(out)}\n`);
  }, 50);
});

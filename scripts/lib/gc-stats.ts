/**
 * Preload (`node --import tsx --import ./scripts/lib/gc-stats.ts`) counting a benchmark server's
 * garbage collections between two SIGUSR2 (the load phase): the first signal starts counting,
 * the second writes one line of JSON to stderr, prefixed `gc stats: `, with the count and the
 * main thread's pause time of each kind (scavenge, mark-compact, incremental marking, weak
 * callbacks). Pauses are what the event loop waits for; the collectors' background threads
 * show in the benchmark's per-thread CPU instead. Comparing V8 flags (young-generation size,
 * GC threads) on a shared machine: these counts depend on the allocation, not on the load.
 *
 * The line also has `allocatedBytes`: the bytes the main thread's heap allocated between the two
 * signals, `young` (what fills the new space and so sets how often it is scavenged) and `all`
 * (with what went straight to old and large-object space). They are counted from the heap's
 * used size before each collection minus its size after the one before (v8.GCProfiler), which
 * depends on the code's allocation only, not on the machine's load, unlike the pauses. `all` may
 * read a little low when a mark-compact's concurrent sweeping frees old space between
 * collections; `young` is exact (only allocation fills the new space between scavenges).
 */
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import v8 from 'node:v8';

const KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'markCompact',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakCallbacks',
};

let counting = false;
let stats = new Map<string, { count: number; ms: number }>();
let profiler: v8.GCProfiler | null = null;
let startUsed = { all: 0, young: 0 };

/** Heap used in all, and in the new space alone, from a GCProfiler entry's or v8's own statistics. */
interface Used {
  all: number;
  young: number;
}
type ProfiledHeap = { heapStatistics: { usedHeapSize: number }; heapSpaceStatistics: { spaceName: string; spaceUsedSize: number }[] };
const usedOf = (h: ProfiledHeap): Used => ({
  all: h.heapStatistics.usedHeapSize,
  young: h.heapSpaceStatistics.find((s) => s.spaceName === 'new_space')?.spaceUsedSize ?? 0,
});
const usedNow = (): Used => ({
  all: v8.getHeapStatistics().used_heap_size,
  young: v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_used_size ?? 0,
});

/** What was allocated between `from` and `to`: each collection's heap before it, less the heap after the one before. */
function allocatedBetween(from: Used, collections: { beforeGC: ProfiledHeap; afterGC: ProfiledHeap }[], to: Used): Used {
  const total = { all: 0, young: 0 };
  let after = from;
  for (const c of collections) {
    const before = usedOf(c.beforeGC);
    total.all += Math.max(0, before.all - after.all);
    total.young += Math.max(0, before.young - after.young);
    after = usedOf(c.afterGC);
  }
  total.all += Math.max(0, to.all - after.all);
  total.young += Math.max(0, to.young - after.young);
  return total;
}

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
    startUsed = usedNow();
    profiler = new v8.GCProfiler();
    profiler.start();
    return;
  }
  const endUsed = usedNow();
  const profile = profiler?.stop() as { statistics: { beforeGC: ProfiledHeap; afterGC: ProfiledHeap }[] } | undefined;
  profiler = null;
  const allocatedBytes = allocatedBetween(startUsed, profile?.statistics ?? [], endUsed);
  // The observer is told of the last collections asynchronously: let it catch up first.
  setTimeout(() => {
    counting = false;
    const out = Object.fromEntries([...stats].map(([k, v]) => [k, { count: v.count, ms: Math.round(v.ms * 10) / 10 }]));
    process.stderr.write(`gc stats: ${JSON.stringify({ ...out, allocatedBytes })}\n`);
  }, 50);
});

/**
 * Counts one process's garbage collections and allocation over a span (./gc-stats.ts's SIGUSR2
 * window in a benchmark's server; the benchmark's own clients in bench-checkins.ts): count and
 * main-thread pause time by kind, and the bytes allocated (`allocatedBytes`, how it is counted:
 * ./gc-stats.ts).
 */
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import v8 from 'node:v8';

const KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'markCompact',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakCallbacks',
};

/** Heap used in all, and in the new space alone, from a GCProfiler entry's or v8's own statistics. */
export interface Used {
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

/** Collections by kind (count, main-thread pause ms) and the bytes allocated over a span. */
export interface GcCount {
  byKind: Record<string, { count: number; ms: number }>;
  allocatedBytes: Used;
}

/** Starts counting now; `stop()` ends the span and resolves with what it saw. */
export function startGcCount(): { stop(): Promise<GcCount> } {
  const stats = new Map<string, { count: number; ms: number }>();
  let counting = true;
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
  const startUsed = usedNow();
  const profiler = new v8.GCProfiler();
  profiler.start();
  return {
    stop() {
      const endUsed = usedNow();
      const profile = profiler.stop() as { statistics: { beforeGC: ProfiledHeap; afterGC: ProfiledHeap }[] } | undefined;
      const allocatedBytes = allocatedBetween(startUsed, profile?.statistics ?? [], endUsed);
      // The observer is told of the last collections asynchronously: let it catch up first.
      return new Promise((resolve) =>
        setTimeout(() => {
          counting = false;
          observer.disconnect();
          const byKind = Object.fromEntries([...stats].map(([k, v]) => [k, { count: v.count, ms: Math.round(v.ms * 10) / 10 }]));
          resolve({ byKind, allocatedBytes });
        }, 50),
      );
    },
  };
}

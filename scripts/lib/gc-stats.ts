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
 * The counting itself is ./gc-count.ts, which the benchmark's own process (its clients) uses too.
 */
import { startGcCount, type GcCount } from './gc-count.js';

let counting: { stop(): Promise<GcCount> } | null = null;

process.on('SIGUSR2', () => {
  if (!counting) {
    counting = startGcCount();
    return;
  }
  const stopping = counting;
  counting = null;
  void stopping
    .stop()
    .then((count) => process.stderr.write(`gc stats: ${JSON.stringify({ ...count.byKind, allocatedBytes: count.allocatedBytes })}\n`));
});

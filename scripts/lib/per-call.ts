/**
 * Microseconds per call of `fn`, `calls` calls one after another after one unmeasured call (the
 * first pays for connections, statement preparation and JIT): the timing loop of the store
 * benchmarks (bench-paged-list.ts, bench-student-history.ts).
 */
export async function microsPerCall(calls: number, fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i += 1) await fn();
  return Number(process.hrtime.bigint() - start) / 1_000 / calls;
}

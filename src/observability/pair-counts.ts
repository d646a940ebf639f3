import type { Counter } from 'prom-client';

/**
 * Counts of a counter with two labels, kept as plain numbers and added to the counter when it is
 * collected (a scrape). prom-client's `inc` hashes the labels into a new string on every call,
 * a labelled child's too: for the counters bumped once per check-in that was about 0.4 KB of
 * garbage per check-in (docs/multi-node.md "Allocation per check-in, round 21").
 */
export class PairCounts<A extends string, B extends string> {
  private readonly counts = new Map<string, Map<string, { pending: number }>>();

  constructor(
    private readonly first: A,
    private readonly second: B,
  ) {}

  inc(a: string, b: string): void {
    let byB = this.counts.get(a);
    if (!byB) this.counts.set(a, (byB = new Map()));
    const count = byB.get(b);
    if (count) count.pending += 1;
    else byB.set(b, { pending: 1 });
  }

  /** Adds what was counted since the last call to `counter`; its `collect` calls this. */
  flushInto(counter: Counter<A | B>): void {
    for (const [a, byB] of this.counts) {
      for (const [b, count] of byB) {
        if (count.pending === 0) continue;
        counter.inc({ [this.first]: a, [this.second]: b } as Record<A | B, string>, count.pending);
        count.pending = 0;
      }
    }
  }
}

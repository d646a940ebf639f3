import { expect } from 'chai';
import { startGcCount } from '../../../scripts/lib/gc-count.js';

describe('garbage counted over a span (bench-checkins BENCH_GC_STATS, gc-stats.ts)', () => {
  it('counts the bytes allocated between start and stop, and the scavenges they caused', async () => {
    const count = startGcCount();
    // About 64 MB of short-lived objects: more than a default young generation holds, so V8
    // must scavenge during the span. Each is kept a little while in a ring (so that the
    // optimising compiler cannot leave the allocation out), then dropped.
    const ring: { i: number; a: number[]; s: string }[] = new Array(16);
    for (let i = 0; i < 1_000_000; i += 1) ring[i % 16] = { i, a: [i, i + 1, i + 2, i + 3], s: `x${i}` };
    const result = await count.stop();
    expect(ring[15]!.i).to.equal(999_999);
    expect(result.allocatedBytes.young).to.be.greaterThan(32 * 1024 * 1024);
    expect(result.allocatedBytes.all).to.be.at.least(result.allocatedBytes.young);
    expect(result.byKind['scavenge']?.count ?? 0).to.be.greaterThan(0);
  });

  it('counts nothing allocated before it started', async () => {
    const before = Array.from({ length: 200_000 }, (_, i) => ({ i }));
    const count = startGcCount();
    const result = await count.stop();
    expect(before).to.have.length(200_000);
    // A span with no work of its own: the timer of stop() and little else.
    expect(result.allocatedBytes.all).to.be.lessThan(1024 * 1024);
  });
});

import { expect } from 'chai';
import { gcTimelineTable } from '../../../scripts/lib/gc-timeline-table.js';
import type { GcSecond } from '../../../scripts/lib/gc-timeline.js';
import type { PerSecond } from '../../../scripts/lib/loadtest-timeline.js';

const second = (t: number, p99: number): PerSecond => ({
  t,
  offered: 100,
  sent: 100,
  acked: 100,
  errors: {},
  ack: { n: 100, p50: 5, p95: 8, p99, max: p99 },
  roster: { n: 100, p50: 6, p95: 9, p99: p99 + 1, max: p99 + 1 },
});

const gc = (t: number, scavenges: number, markCompact?: number): GcSecond => ({
  t,
  gc: {
    scavenge: { n: scavenges, ms: scavenges * 1.5, maxMs: 2 },
    ...(markCompact ? { markCompact: { n: 1, ms: markCompact, maxMs: markCompact } } : {}),
  },
  heapUsedMB: 80 + t / 1_000,
  oldSpaceMB: 60,
  newSpaceMB: 10,
  externalMB: 1,
});

describe('loadtest --gc table', () => {
  it("puts each node second in the run second it overlaps most, beside that second's p99, with totals", () => {
    const wallStart = 10_000;
    // The node's seconds start 300 ms after the run's: the one from 10,300 to 11,300 is mostly run second 0,
    // the one from 9,300 mostly before the run.
    const rows = gcTimelineTable(
      [second(0, 20), second(1, 40), second(2, 90)],
      [gc(9_300, 9), gc(10_300, 14), gc(11_300, 15, 38.5), gc(12_300, 3)],
      wallStart,
    ).split('\n');
    expect(rows[2]).to.equal('| 0 | 100 | 20 | 21 | 14 / 21 / 2 | 0 | 0 | 90.3 | 60 | – | – |');
    expect(rows[3]).to.equal('| 1 | 100 | 40 | 41 | 15 / 22.5 / 2 | 1 / 38.5 / 38.5 | 0 | 91.3 | 60 | – | – |');
    expect(rows[4]).to.equal('| 2 | 100 | 90 | 91 | 3 / 4.5 / 2 | 0 | 0 | 92.3 | 60 | – | – |');
    // The node's second before the run is not counted.
    expect(rows[5]).to.equal('| all | | | | 32 / 48 / 2 | 1 / 38.5 / 38.5 | 0 | | | | |');
  });

  it('shows a second without a node line as unknown, not as zero collections of an empty heap', () => {
    const rows = gcTimelineTable([second(0, 20)], [], 0).split('\n');
    expect(rows[2]).to.equal('| 0 | 100 | 20 | 21 | 0 | 0 | 0 | – | – | – | – |');
  });

  it('counts the turns of 30 ms or more of each second, none being 0', () => {
    const withTurns = (t: number, ms: number[]): GcSecond => ({
      ...gc(t, 1),
      longTurns: ms.map((m, i) => ({ endUs: t * 1_000 + i, ms: m })),
    });
    const rows = gcTimelineTable([second(0, 20), second(1, 90)], [withTurns(0, [12, 29.9]), withTurns(1_000, [31, 85.2, 10])], 0).split(
      '\n',
    );
    expect(rows[2]).to.match(/\| 0 \| – \|$/);
    expect(rows[3]).to.match(/\| 2 \/ 85\.2 \| – \|$/);
  });

  it("puts the generator's lag and collections of a second beside it (its sample at t covers the second before)", () => {
    const own = { t: 2, cpuPct: 40, rssMB: 500, lagP99Ms: 20, lagMaxMs: 66.2, gcMaxMs: 58.1, markCompactMaxMs: 58.1 };
    const rows = gcTimelineTable([second(0, 20), second(1, 126)], [], 0, [own]).split('\n');
    expect(rows[2]).to.match(/\| – \|$/);
    expect(rows[3]).to.match(/\| 66\.2 \/ 58\.1 \/ 58\.1 \|$/);
  });
});

import { expect } from 'chai';
import { sampleInterval } from '../../../scripts/lib/cpu-profile.js';
import type { GcSecond } from '../../../scripts/lib/gc-timeline.js';
import { longTurnRows } from '../../../scripts/lib/long-turns.js';

const line = (t: number, longTurns: NonNullable<GcSecond['longTurns']>, longGcs: NonNullable<GcSecond['longGcs']> = []): GcSecond => ({
  t,
  gc: {},
  heapUsedMB: 1,
  oldSpaceMB: 1,
  newSpaceMB: 1,
  externalMB: 0,
  longTurns,
  longGcs,
});

describe('scripts/long-turns.ts', () => {
  it('keeps the gaps of at least --min ms, numbered as the --gc table, each with the pauses that started in it', () => {
    const rows = longTurnRows(
      [
        line(10_300, [{ endUs: 5_000_000, ms: 29.9 }], [{ startUs: 4_980_000, kind: 'scavenge', ms: 12 }]),
        // A gap from 5.950 s to 6.000 s (monotonic); a pause just before it is not its.
        line(
          11_300,
          [{ endUs: 6_000_000, ms: 50 }],
          [
            { startUs: 5_940_000, kind: 'scavenge', ms: 11 },
            { startUs: 5_960_000, kind: 'markCompact', ms: 35 },
          ],
        ),
        // Lines from before the timer existed have none (a gap given to one, removed, is not read).
        (({ longTurns: _, ...rest }) => rest)(line(12_300, [{ endUs: 7_000_000, ms: 99 }])),
      ],
      30,
      10_000,
    );
    expect(rows).to.deep.equal([{ second: 1, endUs: 6_000_000, ms: 50, gcs: [{ kind: 'markCompact', ms: 35 }] }]);
  });

  it("takes a profile's interval as the median delta, so a thread's absence does not count as one", () => {
    const deltas = [200, 200, 45_000, 210, 190];
    expect(sampleInterval({ nodes: [], startTime: 0, endTime: 1, samples: deltas.map(() => 1), timeDeltas: deltas })).to.equal(200);
  });
});

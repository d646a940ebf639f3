import { expect } from 'chai';
import { COUNT_KEY, countRoster, countsLine, summaryCounts } from '../../../src/shared/counts.js';
import { ROSTER_STATUSES, type RosterCounts, type RosterStatus } from '../../../src/shared/events.js';
import { RosterState } from '../../../src/web/lib/roster.js';

const entries = (statuses: RosterStatus[]) => statuses.map((status) => ({ status }));
const zero: RosterCounts = { present: 0, late: 0, pending: 0, rejected: 0, excused: 0, absent: 0, notYet: 0, total: 0 };

describe('attendance counts (one definition)', () => {
  // One test per status: where it counts on screens and in a summary.
  const expected: Record<
    RosterStatus,
    { bucket: keyof RosterCounts; summary: 'present' | 'late' | 'absent' | 'excused'; attended: boolean; expected: boolean }
  > = {
    present: { bucket: 'present', summary: 'present', attended: true, expected: true },
    late: { bucket: 'late', summary: 'late', attended: true, expected: true },
    pending: { bucket: 'pending', summary: 'absent', attended: false, expected: true },
    rejected: { bucket: 'rejected', summary: 'absent', attended: false, expected: true },
    excused: { bucket: 'excused', summary: 'excused', attended: false, expected: false },
    absent: { bucket: 'absent', summary: 'absent', attended: false, expected: true },
    'not-yet': { bucket: 'notYet', summary: 'absent', attended: false, expected: true },
  };
  for (const status of ROSTER_STATUSES) {
    it(`counts '${status}' in its own bucket, and in the summary as ${expected[status].summary}`, () => {
      const c = countRoster(entries([status]));
      expect(c).to.deep.equal({ ...zero, [expected[status].bucket]: 1, total: 1 });
      expect(COUNT_KEY[status]).to.equal(expected[status].bucket);
      const s = summaryCounts(c);
      expect(s).to.include({ [expected[status].summary]: 1, total: 1 });
      // Attended over expected: excused leave the denominator, everyone else stays in it.
      expect(s.percentage).to.equal(expected[status].expected ? (expected[status].attended ? 100 : 0) : 0);
      expect(countsLine(c)).to.include(
        expected[status].bucket === 'notYet'
          ? 'Not yet 1'
          : `${expected[status].bucket[0]!.toUpperCase()}${expected[status].bucket.slice(1)} 1`,
      );
    });
  }

  it('buckets add up to the total, on the server, on the pages and in the console line', () => {
    const statuses: RosterStatus[] = [
      'present',
      'present',
      'late',
      'pending',
      'rejected',
      'excused',
      'excused',
      'absent',
      'not-yet',
      'not-yet',
      'not-yet',
    ];
    const c = countRoster(entries(statuses));
    const { total, ...buckets } = c;
    expect(Object.values(buckets).reduce((a, b) => a + b, 0)).to.equal(total);
    const roster = new RosterState();
    roster.replace({
      session: { id: 's' } as never,
      version: 0,
      counts: c,
      entries: statuses.map((status, i) => ({ studentId: `u${i}`, name: `n${i}`, status, recordVersion: 1 }) as never),
    });
    expect(roster.counts()).to.deep.equal(c);
    expect(countsLine(c)).to.equal('Present 2 · Late 1 · Pending 1 · Rejected 1 · Excused 2 · Absent 1 · Not yet 3 · of 11');
    expect(summaryCounts(c)).to.deep.equal({ present: 2, late: 1, absent: 6, excused: 2, total: 11, percentage: 33.3 });
  });
});

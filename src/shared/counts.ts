/**
 * The one definition of attendance counts, shared by the roster snapshot, the classroom
 * projector, the teacher's console, the daily summaries and the exports. Browser-safe.
 *
 * Every roster entry falls in exactly one bucket, so the buckets always add up to `total`.
 * A summary (closed sessions) folds what closing would have settled into `absent`:
 * pending, rejected and not-yet. Attendance percentage = (present + late) / (total - excused).
 */
import type { RosterCounts, RosterStatus } from './events.js';

/** The bucket of each roster status. */
export const COUNT_KEY: Readonly<Record<RosterStatus, Exclude<keyof RosterCounts, 'total'>>> = {
  present: 'present',
  late: 'late',
  pending: 'pending',
  rejected: 'rejected',
  excused: 'excused',
  absent: 'absent',
  'not-yet': 'notYet',
};

export function emptyCounts(): RosterCounts {
  return { present: 0, late: 0, pending: 0, rejected: 0, excused: 0, absent: 0, notYet: 0, total: 0 };
}

export function countStatuses(statuses: Iterable<RosterStatus>): RosterCounts {
  const counts = emptyCounts();
  for (const status of statuses) {
    counts.total += 1;
    counts[COUNT_KEY[status]] += 1;
  }
  return counts;
}

export function countRoster(entries: Iterable<{ status: RosterStatus }>): RosterCounts {
  const statuses: RosterStatus[] = [];
  for (const e of entries) statuses.push(e.status);
  return countStatuses(statuses);
}

/** The counts a daily summary keeps. */
export interface SummaryCounts {
  present: number;
  late: number;
  absent: number;
  excused: number;
  total: number;
  /** (present + late) / (total - excused) * 100, one decimal; 0 when nobody was expected. */
  percentage: number;
}

export function summaryCounts(c: RosterCounts): SummaryCounts {
  const countable = c.total - c.excused;
  const attended = c.present + c.late;
  return {
    present: c.present,
    late: c.late,
    absent: c.absent + c.pending + c.rejected + c.notYet,
    excused: c.excused,
    total: c.total,
    percentage: countable > 0 ? Math.round((attended / countable) * 1000) / 10 : 0,
  };
}

/** Adds counts (a day's sessions into one summary). */
export function addCounts(a: RosterCounts, b: RosterCounts): RosterCounts {
  const sum = emptyCounts();
  for (const k of Object.keys(sum) as (keyof RosterCounts)[]) sum[k] = a[k] + b[k];
  return sum;
}

/** Labels in display order; the console line and the projector's counters both follow it. */
export const COUNT_LABELS: readonly (readonly [Exclude<keyof RosterCounts, 'total'>, string])[] = [
  ['present', 'Present'],
  ['late', 'Late'],
  ['pending', 'Pending'],
  ['rejected', 'Rejected'],
  ['excused', 'Excused'],
  ['absent', 'Absent'],
  ['notYet', 'Not yet'],
];

/** The teacher console's count line: every bucket, then the total they add up to. */
export function countsLine(c: RosterCounts): string {
  return `${COUNT_LABELS.map(([k, label]) => `${label} ${c[k]}`).join(' · ')} · of ${c.total}`;
}

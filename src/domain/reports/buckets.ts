import { emptyCounts, summaryCounts, type SummaryCounts } from '../../shared/counts.js';
import type { DailySummary } from '../../store/types.js';

export type BucketSize = 'day' | 'week';

/** One point of a trend: the summaries of its days added up, percentage as a summary's. */
export interface TrendBucket extends SummaryCounts {
  /** First and last calendar day the bucket covers (a week runs Monday to Sunday). */
  from: string;
  to: string;
  /** Days of the bucket that had settled sessions. */
  days: number;
}

const DAY_MS = 86_400_000;

function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
}

/** The Monday of a calendar day's ISO week. */
export function weekStart(day: string): string {
  const weekday = new Date(`${day}T00:00:00Z`).getUTCDay(); // 0 = Sunday
  return addDays(day, -((weekday + 6) % 7));
}

/**
 * Daily summaries (oldest first) folded into day or week buckets, oldest first. Only days with
 * settled sessions have summaries, so a bucket without any is left out rather than shown as 0 %.
 */
export function trendBuckets(summaries: readonly DailySummary[], size: BucketSize): TrendBucket[] {
  const buckets = new Map<string, { to: string; days: number; counts: ReturnType<typeof emptyCounts> }>();
  for (const s of summaries) {
    const from = size === 'day' ? s.day : weekStart(s.day);
    let b = buckets.get(from);
    if (!b) {
      b = { to: size === 'day' ? s.day : addDays(from, 6), days: 0, counts: emptyCounts() };
      buckets.set(from, b);
    }
    b.days += 1;
    // A summary already folded pending, rejected and not-yet into absent.
    b.counts.present += s.present;
    b.counts.late += s.late;
    b.counts.absent += s.absent;
    b.counts.excused += s.excused;
    b.counts.total += s.total;
  }
  return [...buckets.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([from, b]) => ({ from, to: b.to, days: b.days, ...summaryCounts(b.counts) }));
}

export { addDays };

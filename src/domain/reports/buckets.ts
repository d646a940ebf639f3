import { emptyCounts, summaryCounts, type SummaryCounts } from '../../shared/counts.js';
import type { DailySummary } from '../ports/summaries.js';

export const BUCKET_SIZES = ['day', 'week', 'month'] as const;
export type BucketSize = (typeof BUCKET_SIZES)[number];

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

/** First and last calendar day of the day's month. */
export function monthOf(day: string): { from: string; to: string } {
  const from = `${day.slice(0, 7)}-01`;
  const next = new Date(Date.UTC(Number(day.slice(0, 4)), Number(day.slice(5, 7)), 1));
  return { from, to: new Date(next.getTime() - DAY_MS).toISOString().slice(0, 10) };
}

/** The bucket a calendar day falls in. */
function bucketOf(day: string, size: BucketSize): { from: string; to: string } {
  if (size === 'day') return { from: day, to: day };
  if (size === 'month') return monthOf(day);
  const from = weekStart(day);
  return { from, to: addDays(from, 6) };
}

/**
 * Daily summaries (oldest first) folded into day, week or month buckets, oldest first. Only days with
 * settled sessions have summaries, so a bucket without any is left out rather than shown as 0 %.
 */
export function trendBuckets(summaries: readonly DailySummary[], size: BucketSize): TrendBucket[] {
  const buckets = new Map<string, { to: string; days: number; counts: ReturnType<typeof emptyCounts> }>();
  for (const s of summaries) {
    const { from, to } = bucketOf(s.day, size);
    let b = buckets.get(from);
    if (!b) {
      b = { to, days: 0, counts: emptyCounts() };
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

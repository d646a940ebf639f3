import type { DailySummary, Store } from '../../store/types.js';

/**
 * Daily summaries are derived data: recomputed from the records of the subject's closed
 * sessions of that day, so recomputing is idempotent and a correction simply recomputes.
 */
export async function recomputeDailySummary(
  store: Store,
  orgId: string,
  subjectId: string,
  day: string,
): Promise<DailySummary> {
  const sessions = await store.sessions.list(orgId, {
    subjectId,
    status: ['closing', 'closed'],
    fromDay: day,
    toDay: day,
    limit: 1_000,
    offset: 0,
  });
  const records = await store.records.listBySessions(
    orgId,
    sessions.items.map((s) => s.id),
  );
  const counts = { present: 0, late: 0, absent: 0, excused: 0 };
  for (const r of records) {
    if (r.status === 'present' || r.status === 'late' || r.status === 'absent' || r.status === 'excused') {
      counts[r.status] += 1;
    } else {
      // Closing settles pending and rejected records; one left here would mean a bug upstream.
      counts.absent += 1;
    }
  }
  const total = records.length;
  const countable = total - counts.excused;
  const percentage = countable > 0 ? Math.round(((counts.present + counts.late) / countable) * 1000) / 10 : 0;
  return store.summaries.upsert({ orgId, subjectId, day, ...counts, total, percentage });
}

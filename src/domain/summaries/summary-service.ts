import { countStatuses, summaryCounts } from '../../shared/counts.js';
import type { LeaseFence } from '../ports/common.js';
import type { Store } from '../ports/store.js';
import type { DailySummary } from '../ports/summaries.js';
import { SETTLED_SESSION_STATES } from '../../shared/events.js';

/**
 * Daily summaries are derived data: recomputed from the records of the subject's closed
 * sessions of that day (cancelled and reopened ones are left out), so recomputing is
 * idempotent and a correction, a cancel or a reopen simply recomputes.
 */
export async function recomputeDailySummary(
  store: Store,
  orgId: string,
  subjectId: string,
  day: string,
  /** A close's lease: the summary is stored only while it holds (LeaseLostError). */
  fence?: LeaseFence,
): Promise<DailySummary> {
  const sessions = await store.sessions.list(orgId, {
    subjectId,
    status: [...SETTLED_SESSION_STATES],
    fromDay: day,
    toDay: day,
    limit: 1_000,
    offset: 0,
  });
  const records = await store.records.listBySessions(
    orgId,
    sessions.items.map((s) => s.id),
  );
  // Closing settles pending and rejected records into absent; the shared definition counts
  // any left (a bug upstream) as absent too, never as attended.
  const counts = summaryCounts(countStatuses(records.map((r) => r.status)));
  return store.summaries.upsert({ orgId, subjectId, day, ...counts }, fence);
}

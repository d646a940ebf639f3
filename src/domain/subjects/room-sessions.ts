import type { SessionStatus } from '../ports/common.js';
import type { Store } from '../ports/store.js';
import { UNCLOSED_SESSION_STATES } from '../../shared/events.js';
import { DEFAULT_REOPEN_WINDOW_MS } from '../sessions/session-lifecycle.js';

/** Sessions of one subject not yet closed, or closed recently: a handful at most (one a day, plus parallel ones). */
const LIVE_SESSIONS_MAX = 100;

/**
 * The subject's sessions not closed, and those closed within the reopen window (a reopening
 * broadcasts again): what someone who loses the subject is told they lost, whether the
 * announcement tells them or the socket re-check does.
 */
export async function subjectRoomSessionIds(
  store: Store,
  orgId: string,
  subjectId: string,
  now: Date,
  reopenWindowMs: number | undefined,
): Promise<string[]> {
  const list = (status: SessionStatus[]) => store.sessions.list(orgId, { subjectId, status, limit: LIVE_SESSIONS_MAX, offset: 0 });
  const [live, closed] = await Promise.all([list([...UNCLOSED_SESSION_STATES]), list(['closed'])]);
  const since = now.getTime() - (reopenWindowMs ?? DEFAULT_REOPEN_WINDOW_MS);
  const reopenable = closed.items.filter((s) => s.closedAt !== null && s.closedAt.getTime() >= since);
  return [...live.items, ...reopenable].map((s) => s.id);
}

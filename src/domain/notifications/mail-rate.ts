import type { RateLimiterOptions } from '../rate-limiter.js';

/** The one key every node counts its sends under: the relay's limit is the deployment's, not a school's. */
export const MAIL_RATE_KEY = 'relay';

/**
 * The shared budget that keeps the outbox under MAIL_MAX_PER_MINUTE (0: none). Relays such as
 * Office 365's or Google Workspace's count messages per minute over any 60 seconds, while the
 * limiters count fixed windows: `max` in one window and `max` in the next could go out within
 * a second of each other. So the budget is cut into windows of which any 60 seconds meets at
 * most `k + 1`, each allowing `max / (k + 1)`: never more than `max` in any 60 seconds, at
 * about 6/7 of it per minute (10-second windows) once `max` reaches 14, half of it below (minute
 * windows; 1 a minute cannot be kept so, and config refuses it). Exact: every send asks
 * the shared counter (Redis with several nodes), none goes out on a node's local budget.
 */
export function mailRateLimit(maxPerMinute: number): RateLimiterOptions | null {
  if (maxPerMinute <= 0) return null;
  if (maxPerMinute < 2) throw new RangeError('a send rate below 2 a minute cannot be kept with fixed windows');
  // sharedOnly: while Redis restarts, emails wait queued rather than each node sending the budget.
  const base = { keyPrefix: 'mail-send', exact: true, sharedOnly: true };
  if (maxPerMinute >= 14) return { ...base, points: Math.floor(maxPerMinute / 7), windowS: 10 };
  // A slower relay: minute windows, any 60 seconds meeting two of them.
  return { ...base, points: Math.floor(maxPerMinute / 2), windowS: 60 };
}

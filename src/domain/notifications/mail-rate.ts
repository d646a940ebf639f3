import type { RateLimiterOptions } from '../rate-limiter.js';

/** The one key every node counts its sends under: the relay's limit is the deployment's, not a school's. */
export const MAIL_RATE_KEY = 'relay';

/**
 * The shared budget that keeps the outbox under MAIL_MAX_PER_MINUTE (0: none). Relays such as
 * Office 365's or Google Workspace's count messages per minute over any 60 seconds, so the
 * budget is a sliding minute: the sends of the last 60 seconds, at most `max` of them. Fixed
 * windows had to be cut to a seventh of the limit each to stay under it over any 60 seconds
 * (6/7 of it a minute), and counted refusals, so a node refused while another gave a send back
 * left that send unused. Exact and shared only: every send asks the shared log (Redis with
 * several nodes); while Redis restarts, emails wait queued rather than each node sending the
 * budget.
 */
export function mailRateLimit(maxPerMinute: number): RateLimiterOptions | null {
  if (maxPerMinute <= 0) return null;
  return { keyPrefix: 'mail-send', points: maxPerMinute, windowS: 60, exact: true, sharedOnly: true, sliding: true };
}

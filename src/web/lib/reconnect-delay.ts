import type { ErrorBody } from '../../shared/errors.js';

/**
 * How long a page waits before it connects again after its `refusals`-th refusal in a row.
 * A refusal's `details.retryAfterMs` is followed (at most a minute), else the wait doubles from
 * 1 s up to 30 s. An overloaded node's refusal (the admission check, `overloaded`) takes its hint
 * as a floor under the doubling instead, so a node that stays overloaded is asked less and less
 * often. Up to a fifth more (half more when overloaded, `random` in [0, 1)), so the phones of a
 * class refused together do not all return together.
 */
export function reconnectDelayMs(body: ErrorBody, refusals: number, overloaded: boolean, random: number): number {
  const hint = body.details?.['retryAfterMs'];
  const hinted = typeof hint === 'number' && hint > 0 ? Math.min(hint, 60_000) : null;
  const doubling = Math.min(1_000 * 2 ** (refusals - 1), 30_000);
  const base = overloaded ? Math.max(hinted ?? 0, doubling) : (hinted ?? doubling);
  return base * (1 + random / (overloaded ? 2 : 5));
}

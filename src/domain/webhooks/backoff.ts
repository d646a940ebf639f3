/** Deliveries are retried for this long after they were queued (or redelivered by hand). */
export const RETRY_WINDOW_MS = 24 * 3_600_000;
/** An endpoint whose every attempt failed for this long is disabled. */
export const DISABLE_AFTER_MS = 24 * 3_600_000;
export const FIRST_RETRY_MS = 10_000;
export const MAX_RETRY_MS = 3_600_000;

/**
 * Delay before the attempt after failed attempt `n` (1-based): exponential, capped, with
 * "equal jitter" (half fixed, half random) so that a receiver coming back is not hit by every
 * queue at once. `random` returns [0, 1).
 */
export function retryDelayMs(n: number, random: () => number, firstMs = FIRST_RETRY_MS, maxMs = MAX_RETRY_MS): number {
  const exp = Math.min(maxMs, firstMs * 2 ** Math.min(n - 1, 30));
  return Math.round(exp / 2 + (exp / 2) * random());
}

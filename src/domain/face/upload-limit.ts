import type { Actor } from '../actor.js';
import { AppError } from '../../shared/app-error.js';
import type { RateLimiter } from '../rate-limiter.js';

/**
 * Enrolment photos and class photos run on the same workers as the selfies of a live lecture:
 * one user looping uploads must not keep the queue full for everyone. Counted per user, on all
 * nodes when the limiter is Redis-backed, when an upload is admitted (before it is read).
 */
export async function consumeFaceUpload(limiter: RateLimiter | undefined, actor: Actor): Promise<void> {
  if (!limiter) return;
  const limit = await limiter.consume(`${actor.orgId}:${actor.id}`);
  if (!limit.allowed) {
    throw new AppError('RATE_LIMITED', 'Too many face uploads; retry later.', { retryAfterMs: limit.retryAfterMs });
  }
}

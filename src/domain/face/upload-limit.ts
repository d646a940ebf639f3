import type { Actor } from '../actor.js';
import { AppError } from '../app-error.js';
import type { RateLimiter, RateLimitResult } from '../rate-limiter.js';

/**
 * Enrolment photos and class photos run on the same workers as the selfies of a live lecture:
 * one user looping uploads must not keep the queue full for everyone. Counted per user, on all
 * nodes when the limiter is Redis-backed.
 */
export async function consumeFaceUpload(limiter: RateLimiter | undefined, actor: Actor): Promise<void> {
  if (!limiter) return;
  refuseWhenSpent(await limiter.consume(uploadKey(actor)));
}

/** Refuses an actor whose budget is spent, without counting: used before an upload is read. */
export async function checkFaceUpload(limiter: RateLimiter | undefined, actor: Actor): Promise<void> {
  if (!limiter) return;
  refuseWhenSpent(await limiter.check(uploadKey(actor)));
}

const uploadKey = (actor: Actor): string => `${actor.orgId}:${actor.id}`;

function refuseWhenSpent(limit: RateLimitResult): void {
  if (!limit.allowed) {
    throw new AppError('RATE_LIMITED', 'Too many face uploads; retry later.', { retryAfterMs: limit.retryAfterMs });
  }
}

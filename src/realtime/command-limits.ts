import type { Actor } from '../domain/actor.js';
import { AppError } from '../shared/app-error.js';
import type { RateLimiter, RateLimitResult } from '../domain/rate-limiter.js';
import type { Ack } from '../shared/errors.js';
import type { CurrentActors } from './current-actor.js';
import type { CommandGuard, CommandRate } from './define-handler.js';
import type { AppSocket } from './types.js';

/** The retry hint of an in-flight refusal: answers to the earlier commands are usually this close. */
export const IN_FLIGHT_RETRY_MS = 250;

/**
 * Per-socket concurrency plus per-user rates. The in-flight count belongs to one connection on
 * one node, so it lives with the socket here; the rates are shared across nodes when the
 * limiters are Redis-backed.
 */
export class CommandLimits implements CommandGuard {
  private readonly inFlight = new WeakMap<AppSocket, number>();
  readonly busyAnswer: Ack<never>;

  constructor(
    private readonly maxInFlight: number,
    private readonly limiters: Record<CommandRate, RateLimiter>,
    private readonly actors: CurrentActors,
  ) {
    this.busyAnswer = {
      ok: false,
      error: new AppError('RATE_LIMITED', `Too many commands in flight on this socket; wait for answers (at most ${maxInFlight}).`, {
        retryAfterMs: IN_FLIGHT_RETRY_MS,
        limit: 'in-flight',
        maxInFlight,
      }).toBody(),
    };
  }

  enter(socket: AppSocket): boolean {
    const n = this.inFlight.get(socket) ?? 0;
    if (n >= this.maxInFlight) return false;
    this.inFlight.set(socket, n + 1);
    return true;
  }

  leave(socket: AppSocket): void {
    const n = this.inFlight.get(socket) ?? 0;
    if (n <= 1) this.inFlight.delete(socket);
    else this.inFlight.set(socket, n - 1);
  }

  consume(rate: CommandRate, userId: string): Promise<RateLimitResult> {
    return this.limiters[rate].consume(userId);
  }

  tryConsume(rate: CommandRate, userId: string): RateLimitResult | null {
    return this.limiters[rate].tryConsume(userId);
  }

  refund(rate: CommandRate, userId: string): Promise<void> {
    return this.limiters[rate].refund(userId);
  }

  actor(socket: AppSocket): Promise<Actor> {
    return this.actors.of(socket);
  }

  currentActor(socket: AppSocket): Actor | null {
    return this.actors.current(socket);
  }
}

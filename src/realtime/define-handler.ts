import type { z } from 'zod';
import { AppError, toErrorBody } from '../shared/app-error.js';
import type { Actor } from '../domain/actor.js';
import { storeFailureToAppError } from '../domain/store-errors.js';
import type { RateLimitResult } from '../domain/rate-limiter.js';
import type { Logger } from '../logger.js';
import type { Ack, ErrorCode } from '../shared/errors.js';
import { issueDetails } from '../shared/validation-issues.js';
import type { AckData, AppSocket, CommandName } from './types.js';
import type { CommandsInFlight } from './commands-in-flight.js';
import type { CheckinTrace } from '../domain/checkins/checkin-trace.js';

export interface HandlerContext {
  socket: AppSocket;
  actor: Actor;
  ip: string | null;
}

/**
 * Which per-user budget a command spends (docs/limits.md): `light` for cheap commands,
 * `heavy` for those that read a whole roster or list or change a session, `checkin` for
 * check-in submissions (CHECKIN_RATE_PER_MINUTE).
 */
export type CommandRate = 'light' | 'heavy' | 'checkin';

/** What every command passes before it runs; built once per server (see command-limits.ts). */
export interface CommandGuard {
  /** Takes one of the socket's in-flight slots; false when all are taken. */
  enter(socket: AppSocket): boolean;
  leave(socket: AppSocket): void;
  /** Counts one command of the user against the rate's budget. */
  consume(rate: CommandRate, userId: string): Promise<RateLimitResult>;
  /** consume() when the count needs no I/O; null, counting nothing, when only consume() can tell. */
  tryConsume(rate: CommandRate, userId: string): RateLimitResult | null;
  /** Gives a counted command back: it was refused BUSY or UNAVAILABLE and did nothing. */
  refund(rate: CommandRate, userId: string): Promise<void>;
  /** The acting user as the store has it now (ACCOUNT_DISABLED once deactivated). */
  actor(socket: AppSocket): Promise<Actor>;
  /** actor() without a promise when this node read the user recently enough; null when actor() must read. Throws as actor() does. */
  currentActor(socket: AppSocket): Actor | null;
  /** The answer to a command refused for want of an in-flight slot. */
  readonly busyAnswer: Ack<never>;
}

/** One client command, built once per server and shared by every socket. */
export interface Command {
  event: CommandName;
  rate: CommandRate;
  /** Validates, counts against the rate, runs; never rejects. */
  run(socket: AppSocket, payload: unknown, guard: CommandGuard): Promise<Ack<unknown>>;
}

/** The catch-all listener of every socket; socket.io calls it with `this` bound to the receiving socket. */
export type CommandDispatcher = (this: AppSocket, event: unknown, ...args: unknown[]) => void;

/**
 * Defines one command: the payload is validated by its schema (bad input answers
 * VALIDATION_FAILED and runs nothing), then counted against the user's `rate` budget
 * (RATE_LIMITED with `retryAfterMs` when spent), and the handler's result or error becomes
 * the acknowledgement; an unexpected error is logged and answered as INTERNAL without its
 * message. `fast`, for a command sent once per check-in, reads the usual payload without the
 * schema: it accepts only what the schema accepts and gives what the schema's parse gives, and
 * answers null for anything else, which the schema then decides (its refusals unchanged).
 */
export function defineCommand<E extends CommandName, S extends z.ZodType>(
  logger: Logger,
  event: E,
  rate: CommandRate,
  schema: S,
  handler: (input: z.infer<S>, ctx: HandlerContext) => Promise<AckData<E>>,
  fast?: (payload: unknown) => z.infer<S> | null,
): Command {
  /** The answer to an error of the guard or the handler (`counted`: once the budget was asked); never rejects. */
  const failure = async (err: unknown, socket: AppSocket, guard: CommandGuard, counted = true): Promise<Ack<unknown>> => {
    // A failing store is logged once by the store when it starts failing, not per command.
    const known = err instanceof AppError ? err : storeFailureToAppError(err);
    if (!known) logger.error({ err, event, userId: socket.data.userId, socketId: socket.id }, 'socket command failed');
    // The client is told to retry after details.retryAfterMs; an answer that wrote nothing
    // must not spend the budget its retries need (a student following BUSY hints through a
    // full face queue was otherwise refused RATE_LIMITED for most of a minute).
    if (counted && known && REFUNDED.has(known.code)) {
      await guard
        .refund(rate, socket.data.userId)
        .catch((refundErr: unknown) => logger.warn({ err: refundErr, event }, 'rate budget refund failed'));
    }
    return { ok: false, error: toErrorBody(known ?? err) };
  };

  /** The path with a store read or a shared count to wait for; `counted` once the budget was spent synchronously. */
  const runAsync = async (socket: AppSocket, input: z.infer<S>, guard: CommandGuard, counted: boolean): Promise<Ack<unknown>> => {
    try {
      if (!counted) {
        const limit = await guard.consume(rate, socket.data.userId);
        if (!limit.allowed) return rateLimited(limit, rate);
      }
      const actor = await guard.actor(socket);
      const data = await handler(input, { socket, actor, ip: socket.data.ip });
      return { ok: true, data };
    } catch (err) {
      return failure(err, socket, guard);
    }
  };

  return {
    event,
    rate,
    run(socket, payload, guard) {
      let input: z.infer<S> | null;
      // run() answers, never throws: the dispatcher gives the in-flight slot back on the answer,
      // and a throw here would go up through socket.io's listener (no async function catches it).
      try {
        input = fast ? fast(payload) : null;
        if (input === null) {
          const parsed = schema.safeParse(payload ?? {});
          if (!parsed.success) {
            const details = issueDetails(parsed.error.issues);
            return Promise.resolve({
              ok: false,
              error: new AppError('VALIDATION_FAILED', `Invalid ${event} payload.`, { ...details }).toBody(),
            });
          }
          input = parsed.data;
        }
      } catch (err) {
        return failure(err, socket, guard, false);
      }
      // When the budget is counted in memory and the acting user was read within its TTL, the
      // handler starts now: no await before it, no async frame around it (a check-in's async
      // steps were the largest share of its garbage on the main thread, docs/multi-node.md "Load").
      let limit: RateLimitResult | null;
      let actor: Actor | null = null;
      try {
        limit = guard.tryConsume(rate, socket.data.userId);
        if (limit?.allowed === true) actor = guard.currentActor(socket);
      } catch (err) {
        return failure(err, socket, guard);
      }
      if (limit !== null && !limit.allowed) return Promise.resolve(rateLimited(limit, rate));
      if (actor === null) return runAsync(socket, input, guard, limit !== null);
      let answer: Promise<AckData<E>>;
      try {
        answer = handler(input, { socket, actor, ip: socket.data.ip });
      } catch (err) {
        return failure(err, socket, guard);
      }
      return answer.then(succeeded, (err: unknown) => failure(err, socket, guard));
    },
  };
}

/** A handler's result as its acknowledgement: one function for every command. */
const succeeded = (data: unknown): Ack<unknown> => ({ ok: true, data });

function rateLimited(limit: RateLimitResult, rate: CommandRate): Ack<never> {
  return { ok: false, error: new AppError('RATE_LIMITED', undefined, { retryAfterMs: limit.retryAfterMs, limit: rate }).toBody() };
}

/** Refusals that did nothing and carry a retry hint: their command costs no budget. */
const REFUNDED: ReadonlySet<ErrorCode> = new Set(['BUSY', 'UNAVAILABLE']);

/** Answers after which the socket is disconnected: its handshake would now be refused with them. */
const ENDS_CONNECTION: ReadonlySet<ErrorCode> = new Set([
  'ACCOUNT_DISABLED',
  'ORGANISATION_DISABLED',
  'PASSWORD_CHANGE_REQUIRED',
  'TOKEN_REVOKED',
]);

/**
 * One dispatcher for every command, built once per server and shared by every socket: with
 * 10,000 sockets on a node, per-socket closures and schemas were a third of each connection's
 * memory, and a listener per command per socket still made each socket's listener table a
 * dictionary of its own. An event that names no command is ignored, as before. A command sent
 * while the socket already has its maximum in flight is answered at once and runs nothing, so
 * one client cannot queue thousands of store reads. A command sent without an acknowledgement
 * callback still runs. Once shutdown starts, new commands are refused and those running are
 * tracked until they have answered (`inFlight`).
 */
export function commandDispatcher(
  commands: readonly Command[],
  guard: CommandGuard,
  inFlight: CommandsInFlight,
  onAnswer?: (event: CommandName, ack: Ack<unknown>) => void,
  trace?: CheckinTrace,
): CommandDispatcher {
  const byEvent = new Map<unknown, Command>(commands.map((c) => [c.event, c]));
  return function dispatch(this: AppSocket, event: unknown, ...args: unknown[]) {
    const command = byEvent.get(event);
    if (!command) return;
    const traced = trace && event === 'checkin:submit' ? tracedSessionId(args[0]) : null;
    if (traced !== null) trace!.mark(traced, this.data.userId, 'received');
    const last = args[args.length - 1];
    const ack = typeof last === 'function' ? (last as (a: Ack<unknown>) => void) : undefined;
    const payload = typeof args[0] === 'function' ? undefined : args[0];
    if (!inFlight.accepting) {
      onAnswer?.(command.event, inFlight.refusal);
      ack?.(inFlight.refusal);
      return;
    }
    if (!guard.enter(this)) {
      onAnswer?.(command.event, guard.busyAnswer);
      ack?.(guard.busyAnswer);
      return;
    }
    // One `then` with both handlers, not `finally` and `then`: a command's promise chain is
    // built per check-in, and `finally` adds a promise and two closures of its own.
    const answered = command.run(this, payload, guard).then(
      (result) => {
        guard.leave(this);
        onAnswer?.(command.event, result);
        if (traced !== null) trace!.mark(traced, this.data.userId, 'answered');
        ack?.(result);
        // A deactivated account learns why, then loses the connection (its reconnect is refused).
        if (!result.ok && ENDS_CONNECTION.has(result.error.code)) this.disconnect(true);
      },
      (err: unknown) => {
        guard.leave(this);
        throw err;
      },
    );
    inFlight.track(answered);
  };
}

/** The session a traced check-in names, before its payload is validated (null: none to trace). */
function tracedSessionId(payload: unknown): string | null {
  const id = typeof payload === 'object' && payload !== null ? (payload as { sessionId?: unknown }).sessionId : undefined;
  return typeof id === 'string' ? id : null;
}

/** Subscribes a socket to every command: one shared catch-all listener, so this costs no closures. */
export function attachCommands(socket: AppSocket, dispatch: CommandDispatcher): void {
  socket.onAny(dispatch);
}

import type { z } from 'zod';
import { AppError, toErrorBody } from '../domain/app-error.js';
import type { Actor } from '../domain/actor.js';
import type { Logger } from '../logger.js';
import type { Ack } from '../shared/errors.js';
import type { AckData, AppSocket, CommandName } from './types.js';

export interface HandlerContext {
  socket: AppSocket;
  actor: Actor;
  ip: string | null;
}

/**
 * Registers one command: the payload is validated by its schema (bad input answers
 * VALIDATION_FAILED and runs nothing), the handler's result or error becomes the
 * acknowledgement, and an unexpected error is logged and answered as INTERNAL without its
 * message. A command sent without an acknowledgement callback still runs.
 */
export function defineHandler<E extends CommandName, S extends z.ZodType>(
  socket: AppSocket,
  logger: Logger,
  event: E,
  schema: S,
  handler: (input: z.infer<S>, ctx: HandlerContext) => Promise<AckData<E>>,
): void {
  // socket.io's typed `on` cannot express a generic event name; the schema is the real check.
  const listen = socket.on.bind(socket) as unknown as (ev: string, fn: (...args: unknown[]) => void) => void;
  listen(event, (...args: unknown[]) => {
    const last = args[args.length - 1];
    const ack = typeof last === 'function' ? (last as (a: Ack<AckData<E>>) => void) : undefined;
    const payload = typeof args[0] === 'function' ? undefined : args[0];
    void run(payload).then((result) => ack?.(result));
  });

  async function run(payload: unknown): Promise<Ack<AckData<E>>> {
    const parsed = schema.safeParse(payload ?? {});
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
      return { ok: false, error: new AppError('VALIDATION_FAILED', `Invalid ${event} payload.`, { issues }).toBody() };
    }
    const { userId, orgId, role, ip } = socket.data;
    try {
      const data = await handler(parsed.data, { socket, actor: { id: userId, orgId, role }, ip });
      return { ok: true, data };
    } catch (err) {
      if (!(err instanceof AppError)) logger.error({ err, event, userId, socketId: socket.id }, 'socket command failed');
      return { ok: false, error: toErrorBody(err) };
    }
  }
}

import { z } from 'zod';
import type { Logger } from '../../logger.js';
import type { SessionService } from '../../domain/sessions/session-service.js';
import type { SessionCloser } from '../../domain/sessions/session-closer.js';
import { rooms } from '../../shared/events.js';
import { defineHandler } from '../define-handler.js';
import type { AppSocket } from '../types.js';
import { Id, SessionRefSchema } from './schemas.js';

const IsoTime = z.iso.datetime({ offset: true });

const OpenSchema = z.object({
  subjectId: Id,
  startsAt: IsoTime.optional(),
  lateAfter: IsoTime.optional(),
  closesAt: IsoTime.optional(),
  policy: z
    .object({
      geofence: z.boolean().optional(),
      network: z.boolean().optional(),
      rotatingCode: z.boolean().optional(),
      selfie: z.boolean().optional(),
      codePeriodS: z.number().int().min(5).max(600).optional(),
      maxAttempts: z.number().int().min(1).max(5).optional(),
    })
    .optional(),
});

export interface SessionHandlerDeps {
  sessions: SessionService;
  closer: SessionCloser;
  logger: Logger;
}

export function registerSessionHandlers(socket: AppSocket, deps: SessionHandlerDeps): void {
  const { sessions, closer, logger } = deps;

  defineHandler(socket, logger, 'session:open', OpenSchema, (input, { actor }) => sessions.open(actor, input));

  defineHandler(socket, logger, 'session:watch', SessionRefSchema, async ({ sessionId }, { actor }) => {
    // Authorise before joining: a socket must never sit in a staff room it may not read.
    await sessions.assertWatcher(actor, sessionId);
    // Join before reading, so no update falls between the snapshot and the subscription.
    await socket.join(rooms.staff(sessionId));
    return sessions.roster(actor, sessionId);
  });

  defineHandler(socket, logger, 'session:unwatch', SessionRefSchema, async ({ sessionId }) => {
    await socket.leave(rooms.staff(sessionId));
    return null;
  });

  defineHandler(socket, logger, 'session:code', SessionRefSchema, ({ sessionId }, { actor }) => sessions.code(actor, sessionId));

  defineHandler(socket, logger, 'session:close', SessionRefSchema, async ({ sessionId }, { actor }) => {
    await sessions.assertWatcher(actor, sessionId);
    return closer.close(actor.orgId, sessionId, actor.id);
  });

  defineHandler(socket, logger, 'session:list-active', z.object({}), (_input, { actor }) => sessions.listActive(actor));

  defineHandler(socket, logger, 'session:join', SessionRefSchema, async ({ sessionId }, { actor }) => {
    const result = await sessions.join(actor, sessionId);
    await socket.join(rooms.students(sessionId));
    return result;
  });

  defineHandler(socket, logger, 'session:leave', SessionRefSchema, async ({ sessionId }) => {
    await socket.leave(rooms.students(sessionId));
    return null;
  });
}

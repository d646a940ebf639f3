import { z } from 'zod';
import type { Logger } from '../../logger.js';
import type { SessionService } from '../../domain/sessions/session-service.js';
import type { SessionCloser } from '../../domain/sessions/session-closer.js';
import { AppError } from '../../domain/app-error.js';
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
    // Join before reading, so no update falls between the snapshot and the subscription.
    const snapshotRoom = rooms.staff(sessionId);
    try {
      await sessions.get(actor, sessionId);
      await socket.join(snapshotRoom);
      return await sessions.roster(actor, sessionId);
    } catch (err) {
      await socket.leave(snapshotRoom);
      throw err;
    }
  });

  defineHandler(socket, logger, 'session:unwatch', SessionRefSchema, async ({ sessionId }) => {
    await socket.leave(rooms.staff(sessionId));
    return null;
  });

  defineHandler(socket, logger, 'session:code', SessionRefSchema, ({ sessionId }, { actor }) => sessions.code(actor, sessionId));

  defineHandler(socket, logger, 'session:close', SessionRefSchema, async ({ sessionId }, { actor }) => {
    // Authorisation first: closing is for staff of the subject.
    const view = await sessions.get(actor, sessionId);
    if (actor.role === 'student') throw new AppError('FORBIDDEN');
    return closer.close(actor.orgId, view.id, actor.id);
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

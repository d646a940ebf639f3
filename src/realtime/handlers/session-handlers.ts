import { issueRule } from '../../shared/validation-issues.js';
import { z } from 'zod';
import type { Logger } from '../../logger.js';
import type { SessionService } from '../../domain/sessions/session-service.js';
import type { SessionCloser } from '../../domain/sessions/session-closer.js';
import type { SessionLifecycle } from '../../domain/sessions/session-lifecycle.js';
import { rooms } from '../../shared/events.js';
import { PolicyInputSchema } from '../../shared/policy.js';
import { AllowedIpRangesSchema, LocationSchema } from '../../domain/subjects/subject-input.js';
import { defineCommand, type Command } from '../define-handler.js';
import { ChangeReason, Id, SessionRefSchema, nested, payload } from './schemas.js';

const IsoTime = z.iso.datetime({ offset: true });

const OpenSchema = payload({
  subjectId: Id,
  startsAt: IsoTime.optional(),
  lateAfter: IsoTime.optional(),
  closesAt: IsoTime.optional(),
  policy: nested(PolicyInputSchema.shape).optional(),
  /** An extra session held elsewhere: its room's location and networks, each over the subject's. */
  location: nested(LocationSchema.shape).optional(),
  allowedIpRanges: AllowedIpRangesSchema.optional(),
  /** Confirms opening beside another session of the subject at the same time. */
  parallel: z.boolean().optional(),
  /** Confirms a teacher holding this session beside another of theirs, in another subject, at the same time. */
  teacherOverlap: z.boolean().optional(),
});

const CancelSchema = payload({ sessionId: Id, reason: ChangeReason.optional() });

/** Confirmations of the clashes a later close meets, as session:open's (docs/protocol.md §5.4a). */
const Overrides = { parallel: z.boolean().optional(), teacherOverlap: z.boolean().optional() };

export const ExtendSchema = payload({ sessionId: Id, closesAt: IsoTime.optional(), lateAfter: IsoTime.optional(), ...Overrides }).refine(
  (v) => v.closesAt !== undefined || v.lateAfter !== undefined,
  { ...issueRule('nothingToChange', 'Give closesAt, lateAfter or both.'), path: ['closesAt'] },
);

const ReopenSchema = payload({ sessionId: Id, closesAt: IsoTime.optional(), reason: ChangeReason.optional(), ...Overrides });

export interface SessionHandlerDeps {
  sessions: SessionService;
  closer: SessionCloser;
  lifecycle: SessionLifecycle;
  logger: Logger;
}

const NoPayload = payload({});

export function sessionCommands(deps: SessionHandlerDeps): Command[] {
  const { sessions, closer, lifecycle, logger } = deps;
  return [
    defineCommand(logger, 'session:open', 'heavy', OpenSchema, (input, { actor }) => sessions.open(actor, input)),

    defineCommand(logger, 'session:watch', 'heavy', SessionRefSchema, async ({ sessionId }, { actor, socket }) => {
      // Authorise before joining: a socket must never sit in a staff room it may not read.
      await sessions.assertWatcher(actor, sessionId);
      // Join before reading, so no update falls between the snapshot and the subscription.
      await socket.join(rooms.staff(sessionId));
      try {
        return await sessions.roster(actor, sessionId);
      } catch (err) {
        // The read checks access again: a removal that landed between the first check and the
        // join was announced while this socket was not yet in the room, so it leaves on its own.
        await socket.leave(rooms.staff(sessionId));
        throw err;
      }
    }),

    defineCommand(logger, 'session:unwatch', 'light', SessionRefSchema, async ({ sessionId }, { socket }) => {
      await socket.leave(rooms.staff(sessionId));
      return null;
    }),

    defineCommand(logger, 'session:code', 'light', SessionRefSchema, ({ sessionId }, { actor }) => sessions.code(actor, sessionId)),

    defineCommand(logger, 'session:close', 'heavy', SessionRefSchema, async ({ sessionId }, { actor }) => {
      await sessions.assertWatcher(actor, sessionId);
      return closer.closeAnswering(actor.orgId, sessionId, actor.id);
    }),

    defineCommand(logger, 'session:cancel', 'heavy', CancelSchema, ({ sessionId, reason }, { actor }) =>
      lifecycle.cancel(actor, sessionId, reason),
    ),

    defineCommand(logger, 'session:extend', 'heavy', ExtendSchema, (input, { actor }) => lifecycle.extend(actor, input)),

    defineCommand(logger, 'session:reopen', 'heavy', ReopenSchema, (input, { actor }) => lifecycle.reopen(actor, input)),

    defineCommand(logger, 'session:list-active', 'heavy', NoPayload, async (_input, { actor, socket }) => {
      // A student's list stays live: joined before reading, so no opening falls in between.
      return sessions.listActiveWatched(
        actor,
        async (subjectIds) => {
          if (actor.role === 'student' && subjectIds.length > 0) await socket.join(subjectIds.map(rooms.subjectStudents));
        },
        // Unenrolled before the join took effect: the announcement's leave came too early.
        async (subjectIds) => {
          for (const subjectId of subjectIds) await socket.leave(rooms.subjectStudents(subjectId));
        },
      );
    }),

    defineCommand(logger, 'session:join', 'light', SessionRefSchema, async ({ sessionId }, { actor, socket }) => {
      const result = await sessions.join(actor, sessionId);
      await socket.join(rooms.students(sessionId));
      try {
        await sessions.assertStillEnrolled(actor, result.session.subjectId);
      } catch (err) {
        // Unenrolled between the check and the join: the announcement's leave came too early.
        await socket.leave(rooms.students(sessionId));
        throw err;
      }
      return result;
    }),

    defineCommand(logger, 'session:leave', 'light', SessionRefSchema, async ({ sessionId }, { socket }) => {
      await socket.leave(rooms.students(sessionId));
      return null;
    }),
  ];
}

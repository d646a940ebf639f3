import { z } from 'zod';
import type { Logger } from '../../logger.js';
import type { CheckinService } from '../../domain/checkins/checkin-service.js';
import { defineCommand, type Command } from '../define-handler.js';
import { ChangeReason, Id, Note, SessionRefSchema, payload } from './schemas.js';
import { fastSubmitPayload, SubmitSchema } from './submit-payload.js';
import { MARK_STATUSES } from '../../shared/events.js';
import { AbsenceCategoryCode } from '../../domain/excuses/absence-categories.js';

/** A record's version; a real one stays far below this. */
const Version = z.number().int().min(0).max(2_147_483_647);

// A plain Uint8Array view, not the Node Buffer socket.io decodes: downstream `.slice()` copies
// (on a Buffer it is a view, and the face pool transfers what it is given to a worker).
const bytesOf = (b: Uint8Array | ArrayBuffer): Uint8Array =>
  b instanceof Uint8Array ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : new Uint8Array(b);

const DecideSchema = payload({
  sessionId: Id,
  studentId: Id,
  decision: z.enum(['accept', 'reject']),
  note: Note.optional(),
  expectedVersion: Version.optional(),
});

const MarkSchema = payload({
  sessionId: Id,
  studentId: Id,
  status: z.enum(MARK_STATUSES),
  note: Note.optional(),
  reason: ChangeReason.optional(),
  absenceCategory: AbsenceCategoryCode.optional(),
  expectedVersion: Version.optional(),
});

export interface CheckinHandlerDeps {
  checkins: CheckinService;
  logger: Logger;
}

export function checkinCommands(deps: CheckinHandlerDeps): Command[] {
  const { checkins, logger } = deps;
  return [
    defineCommand(
      logger,
      'checkin:submit',
      'checkin',
      SubmitSchema,
      // Not async: the service's promise is the answer (an async wrapper added a promise and its resolution per check-in).
      (input, { actor, ip, socket }) => {
        const loc = input.location;
        return checkins.submit(actor, {
          sessionId: input.sessionId,
          location: loc ? { lat: loc.lat, lon: loc.lon, accuracyM: loc.accuracy, timestamp: new Date(loc.timestamp) } : null,
          code: input.code,
          joinToken: input.joinToken,
          deviceId: input.deviceId ?? null,
          userAgent: socket.data.userAgent,
          selfie: input.selfie === undefined ? undefined : bytesOf(input.selfie),
          liveness: input.liveness ? { token: input.liveness.token, frames: input.liveness.frames.map(bytesOf) } : undefined,
          ip,
        });
      },
      fastSubmitPayload,
    ),

    defineCommand(logger, 'checkin:challenge', 'checkin', SessionRefSchema, ({ sessionId }, { actor }) =>
      checkins.challenge(actor, sessionId),
    ),

    defineCommand(logger, 'checkin:decide', 'light', DecideSchema, (input, { actor, ip }) => checkins.decide(actor, { ...input, ip })),

    defineCommand(logger, 'checkin:mark', 'light', MarkSchema, (input, { actor, ip }) => checkins.mark(actor, { ...input, ip })),
  ];
}

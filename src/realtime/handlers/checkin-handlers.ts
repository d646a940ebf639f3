import { z } from 'zod';
import type { Logger } from '../../logger.js';
import type { CheckinService } from '../../domain/checkins/checkin-service.js';
import { defineCommand, type Command } from '../define-handler.js';
import { ChangeReason, Id, Note, SessionRefSchema, nested, payload } from './schemas.js';
import { MARK_STATUSES } from '../../shared/events.js';
import { LIVENESS_MAX_FRAME_BYTES, LIVENESS_MAX_FRAMES, LIVENESS_MIN_FRAMES } from '../../shared/liveness.js';

/** 1 km is already useless as a classroom fix; beyond 100 km it is not a fix at all. */
const MAX_ACCURACY_M = 100_000;

/** The largest epoch milliseconds a JavaScript Date holds; past it `new Date(t)` is invalid. */
const MAX_DATE_MS = 8.64e15;

const LocationSchema = nested({
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
  accuracy: z.number().positive().max(MAX_ACCURACY_M),
  // Beyond MAX_DATE_MS the fix time would be an invalid Date, which no age comparison catches.
  timestamp: z.union([z.number().int().positive().max(MAX_DATE_MS), z.iso.datetime({ offset: true })]),
});

/** A record's version; a real one stays far below this. */
const Version = z.number().int().min(0).max(2_147_483_647);

const SubmitSchema = payload({
  sessionId: Id,
  location: LocationSchema.optional(),
  code: z.string().trim().max(16).optional(),
  joinToken: z.string().max(40).optional(),
  /** The student page's own random id (localStorage), for the shared-device flag. */
  deviceId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{8,64}$/)
    .optional(),
  selfie: z.union([z.instanceof(Uint8Array), z.instanceof(ArrayBuffer)]).optional(),
  liveness: nested({
    token: z.string().max(120),
    frames: z
      .array(
        z
          .union([z.instanceof(Uint8Array), z.instanceof(ArrayBuffer)])
          .refine((b) => b.byteLength > 0 && b.byteLength <= LIVENESS_MAX_FRAME_BYTES, {
            message: `A frame is 1 to ${LIVENESS_MAX_FRAME_BYTES} bytes.`,
          }),
      )
      .min(LIVENESS_MIN_FRAMES)
      .max(LIVENESS_MAX_FRAMES),
  }).optional(),
});

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
  expectedVersion: Version.optional(),
});

export interface CheckinHandlerDeps {
  checkins: CheckinService;
  logger: Logger;
}

export function checkinCommands(deps: CheckinHandlerDeps): Command[] {
  const { checkins, logger } = deps;
  return [
    defineCommand(logger, 'checkin:submit', 'checkin', SubmitSchema, async (input, { actor, ip, socket }) => {
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
    }),

    defineCommand(logger, 'checkin:challenge', 'checkin', SessionRefSchema, ({ sessionId }, { actor }) =>
      checkins.challenge(actor, sessionId),
    ),

    defineCommand(logger, 'checkin:decide', 'light', DecideSchema, (input, { actor, ip }) => checkins.decide(actor, { ...input, ip })),

    defineCommand(logger, 'checkin:mark', 'light', MarkSchema, (input, { actor, ip }) => checkins.mark(actor, { ...input, ip })),
  ];
}

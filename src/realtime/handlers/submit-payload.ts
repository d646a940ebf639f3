/**
 * The `checkin:submit` payload: its schema, and a hand-written read of its usual form (a session
 * id, maybe a location fix with a numeric timestamp, a code, a join token, a device id). The read
 * runs for every check-in, where zod's general parse (the object's checks, the nested object, the
 * timestamp's union) cost a few microseconds and about a kilobyte of garbage each time.
 *
 * The read accepts a subset of what the schema accepts and gives what the schema's parse gives
 * for it; anything else (a selfie, liveness frames, a timestamp as a string, a field set to
 * `undefined`, any value out of range, an unknown field) is `null`, and the schema decides, so
 * every refusal and its issues stay the schema's. test/unit/realtime/submit-payload.test.ts
 * holds the two side by side over valid and broken payloads at the edges of every rule.
 */
import { z } from 'zod';
import { LIVENESS_MAX_FRAME_BYTES, LIVENESS_MAX_FRAMES, LIVENESS_MIN_FRAMES } from '../../shared/liveness.js';
import { Id, isPlainObject, nested, payload } from './schemas.js';

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

/** `Id`'s upper bound (schemas.ts), restated for the fast read. */
const ID_MAX = 64;
const CODE_MAX = 16;
const JOIN_TOKEN_MAX = 40;
const DEVICE_ID = /^[A-Za-z0-9_-]{8,64}$/;

/** checkin:submit. `fastSubmitPayload` below reads the usual payload first: a change here is a change there. */
export const SubmitSchema = payload({
  sessionId: Id,
  location: LocationSchema.optional(),
  code: z.string().trim().max(CODE_MAX).optional(),
  joinToken: z.string().max(JOIN_TOKEN_MAX).optional(),
  /** The student page's own random id (localStorage), for the shared-device flag. */
  deviceId: z.string().regex(DEVICE_ID).optional(),
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

export type SubmitPayload = z.infer<typeof SubmitSchema>;

type Fields = Record<string, unknown>;

/** The usual payload as the schema's parse gives it, or null: the schema decides. */
export function fastSubmitPayload(v: unknown): SubmitPayload | null {
  if (!isPlainObject(v)) return null;
  const fields = v as Fields;
  // Own fields only (the prototype is Object's or none), each one the schema names, each sent.
  for (const key in fields) if (!SUBMIT_KEYS.has(key) || fields[key] === undefined) return null;
  const { sessionId, location, code, joinToken, deviceId } = fields;
  if (typeof sessionId !== 'string' || sessionId.length < 1 || sessionId.length > ID_MAX) return null;
  // In the schema's order, each only when sent: what zod's object parse outputs.
  const out: SubmitPayload = { sessionId };
  if (location !== undefined) {
    const fix = fastLocation(location);
    if (!fix) return null;
    out.location = fix;
  }
  if (code !== undefined) {
    if (typeof code !== 'string') return null;
    const trimmed = code.trim();
    if (trimmed.length > CODE_MAX) return null;
    out.code = trimmed;
  }
  if (joinToken !== undefined) {
    if (typeof joinToken !== 'string' || joinToken.length > JOIN_TOKEN_MAX) return null;
    out.joinToken = joinToken;
  }
  if (deviceId !== undefined) {
    if (typeof deviceId !== 'string' || !DEVICE_ID.test(deviceId)) return null;
    out.deviceId = deviceId;
  }
  return out;
}

const SUBMIT_KEYS: ReadonlySet<string> = new Set(['sessionId', 'location', 'code', 'joinToken', 'deviceId']);

type Fix = NonNullable<SubmitPayload['location']>;

/** A fix with its four fields and no other; a missing one fails its range below. */
function fastLocation(v: unknown): Fix | null {
  if (!isPlainObject(v)) return null;
  const fields = v as Fields;
  for (const key in fields) if (!LOCATION_KEYS.has(key)) return null;
  const { lat, lon, accuracy, timestamp } = fields;
  if (!inRange(lat, -90, 90) || !inRange(lon, -180, 180)) return null;
  if (!inRange(accuracy, 0, MAX_ACCURACY_M) || accuracy === 0) return null;
  if (!Number.isInteger(timestamp) || !inRange(timestamp, 0, MAX_DATE_MS) || timestamp === 0) return null;
  return { lat, lon, accuracy, timestamp };
}

const LOCATION_KEYS: ReadonlySet<string> = new Set(['lat', 'lon', 'accuracy', 'timestamp']);

/** A number within [min, max]: NaN and the infinities are not. */
function inRange(n: unknown, min: number, max: number): n is number {
  return typeof n === 'number' && n >= min && n <= max;
}

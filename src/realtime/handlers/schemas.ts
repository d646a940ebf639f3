import { z } from 'zod';

/**
 * A command payload: a plain object (a binary attachment or an array is refused, not read as
 * an empty object) with exactly these fields; an unknown field is refused by name.
 */
export function payload<T extends z.ZodRawShape>(shape: T) {
  return z.custom<unknown>((v) => isPlainObject(v), { message: 'Expected a JSON object.' }).pipe(z.strictObject(shape));
}

/** A nested object of a payload, held to the same rules. */
export const nested = payload;

/** A JSON object: not an array, a binary attachment or any other class's instance. */
export function isPlainObject(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Payload pieces shared by several handlers. */
export const Id = z.string().min(1).max(64);
export const SessionRefSchema = payload({ sessionId: Id });
export const Note = z.string().trim().max(500);
/** Why staff change a closed or cancelled session; kept in the audit log. */
export const ChangeReason = z.string().trim().min(1).max(500);

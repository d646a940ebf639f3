import { randomBytes, randomUUID } from 'node:crypto';

/** Opaque identifiers shared by every adapter, so records keep their ids when copied between stores. */
export function newId(): string {
  return randomUUID();
}

/**
 * An id of the same form (a UUID, version 7 of RFC 9562) whose first 48 bits are the time in
 * milliseconds, for rows written in bulk and never looked up by a guessed id: attendance records
 * and audit entries. Ids made close in time sort close together, so the group commit's inserts
 * land on the last pages of the id indexes instead of a random page each, which SQLite would
 * write to the WAL on every commit. It tells when it was made, which those rows say anyway.
 */
export function newTimeOrderedId(now: number = Date.now()): string {
  const b = randomBytes(16);
  b.writeUIntBE(now, 0, 6);
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

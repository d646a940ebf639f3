import { randomUUID } from 'node:crypto';

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
  // randomUUID draws from a cached pool of entropy; randomBytes(16) per id cost a system call.
  // Its version nibble (the 15th character) becomes 7; its variant bits are already RFC 9562's.
  return timePrefix(now) + randomUUID().slice(15);
}

/**
 * The time part of the last id made (`tttttttt-tttt-7`): a group commit makes two ids per
 * check-in, mostly in the same millisecond, so it is built once per millisecond rather than
 * from four new strings per id. A cache of a pure function: nothing shared between callers.
 */
let lastPrefix = { ms: Number.NaN, prefix: '' };
function timePrefix(ms: number): string {
  if (ms !== lastPrefix.ms) {
    const t = ms.toString(16).padStart(12, '0');
    lastPrefix = { ms, prefix: `${t.slice(0, 8)}-${t.slice(8, 12)}-7` };
  }
  return lastPrefix.prefix;
}

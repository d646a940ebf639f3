import { randomUUID } from 'node:crypto';
import type { AuditEntry } from '../ports/audit.js';
import type { PersonRef } from '../ports/privacy.js';
import type { User } from '../ports/users.js';

/**
 * The erasure rules both stores apply (docs/privacy.md):
 * - user row, refresh and account tokens, face enrolment and proposal, consents, subject
 *   enrolments: deleted;
 * - attendance records: kept for statistics, the student (and a deciding teacher) replaced by
 *   the tombstone id, location, ip, note and verification cleared;
 * - sessions opened or closed by them and subjects they teach: the reference replaced by the
 *   tombstone id, or removed from the teacher list;
 * - audit entries about them (their user, records or excuses): from/to and ip cleared, a user
 *   entity id replaced by the tombstone; entries by them or naming them elsewhere: actor
 *   replaced by the tombstone and every value naming them scrubbed;
 * - their excuses (with documents), guardian contacts, notifications, email preferences, alert
 *   states and timetable settings: deleted; excuses they submitted or decided for someone else:
 *   the reference replaced by the tombstone; timetable meetings they teach: back to the
 *   subject's teachers;
 * - notifications of others about them and queued or delivered webhook bodies: scrubbed as
 *   audit values are;
 * - outbox emails to them, to their guardians or naming them: deleted, sent or not (an email
 *   body is rendered text that cannot be scrubbed reliably, and none should go out after).
 */

export const ERASED = '[erased]';

/** A new tombstone id: what an erased person's records and references point to instead (never a user). */
export function newTombstoneId(): string {
  return `erased-${randomUUID()}`;
}

/** Whether `id` is a tombstone, not someone's id. */
export function isTombstoneId(id: string): boolean {
  return id.startsWith('erased-');
}

/** Whom an erasure of `u` is about: their id, and the values that name them in free text. */
export function personOf(u: Pick<User, 'orgId' | 'id' | 'email' | 'name' | 'studentNumber'>): PersonRef {
  return { orgId: u.orgId, userId: u.id, identifiers: [u.email, u.name, u.studentNumber ?? ''] };
}

/** Identifiers shorter than this are only scrubbed where a value equals them, not inside text. */
const MIN_SUBSTRING = 4;

/** Every non-empty value naming the person, their id first. */
export function needles(person: PersonRef): string[] {
  return [person.userId, ...person.identifiers.filter((v) => v.trim() !== '')];
}

/**
 * Whether a value names the person by the very rule scrubValue erases by: a string holding
 * their id, equal to one of their identifiers, or holding one of MIN_SUBSTRING characters or
 * more. A short name ("Ed") or student number ("7") searched inside text would match nearly
 * every entry of the organisation, and a subject-access export would hand the person other
 * people's audit trail.
 */
function mentions(value: unknown, person: PersonRef): boolean {
  if (typeof value === 'string') return mentionsString(value, person);
  if (Array.isArray(value)) return value.some((v) => mentions(v, person));
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    // A key may be their id too (a value keyed by student).
    return Object.entries(value).some(([k, v]) => k.includes(person.userId) || mentions(v, person));
  }
  return false;
}

function mentionsString(s: string, person: PersonRef): boolean {
  if (s.includes(person.userId)) return true;
  const lower = s.toLowerCase();
  return person.identifiers.some((id) => {
    const v = id.trim().toLowerCase();
    return v !== '' && (lower === v || (v.length >= MIN_SUBSTRING && lower.includes(v)));
  });
}

/** Whether an audit entry is about the person, by them, or names them. */
export function auditConcerns(entry: AuditEntry, person: PersonRef, ownIds: ReadonlySet<string>): boolean {
  return (
    isAbout(entry, person, ownIds) ||
    entry.actorId === person.userId ||
    mentions([entry.from ?? null, entry.to ?? null, entry.reason ?? null], person)
  );
}

// `ownIds` are the ids of the person's records and excuses: an excuse's entries carry its
// decision note, which may say why they were absent.
function isAbout(entry: AuditEntry, person: PersonRef, ownIds: ReadonlySet<string>): boolean {
  return (
    (entry.entityType === 'user' && entry.entityId === person.userId) ||
    ((entry.entityType === 'record' || entry.entityType === 'excuse') && ownIds.has(entry.entityId))
  );
}

/** The entry as it stays after the person's erasure (unchanged when it does not concern them). */
export function scrubAudit(entry: AuditEntry, person: PersonRef, ownIds: ReadonlySet<string>, tombstoneId: string): AuditEntry {
  const about = isAbout(entry, person, ownIds);
  const byThem = entry.actorId === person.userId;
  return {
    ...entry,
    entityId: entry.entityType === 'user' && entry.entityId === person.userId ? tombstoneId : entry.entityId,
    actorId: byThem ? tombstoneId : entry.actorId,
    from: about ? null : scrubValue(entry.from, person, tombstoneId),
    to: about ? null : scrubValue(entry.to, person, tombstoneId),
    reason: entry.reason === null ? null : (scrubValue(entry.reason, person, tombstoneId) as string),
    ip: about || byThem ? null : entry.ip,
  };
}

/** Replaces the person's id by the tombstone and every identifying value by ERASED, deeply. */
export function scrubValue(value: unknown, person: PersonRef, tombstoneId: string): unknown {
  if (typeof value === 'string') return scrubString(value, person, tombstoneId);
  if (Array.isArray(value)) return value.map((v) => scrubValue(v, person, tombstoneId));
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubValue(v, person, tombstoneId)]));
  }
  return value;
}

function scrubString(s: string, person: PersonRef, tombstoneId: string): string {
  let out = s.split(person.userId).join(tombstoneId);
  for (const id of person.identifiers) {
    const v = id.trim();
    if (v === '') continue;
    if (out.toLowerCase() === v.toLowerCase()) return ERASED;
    if (v.length >= MIN_SUBSTRING) out = out.replace(new RegExp(escapeRegExp(v), 'gi'), ERASED);
  }
  return out;
}

/** The values an erasure looks for inside free text: the id, and identifiers long enough to search for. */
export function textNeedles(person: PersonRef, extra: readonly string[] = []): string[] {
  const all = [...needles(person), ...extra.map((v) => v.trim())];
  return [...new Set(all.filter((v) => v.length >= MIN_SUBSTRING))];
}

/** Whether any of the values occurs in the text, ignoring case. */
export function mentionsAny(text: string, values: readonly string[]): boolean {
  const lower = text.toLowerCase();
  return values.some((v) => lower.includes(v.toLowerCase()));
}

/** A stored JSON text scrubbed like an audit value (see scrubValue). */
export function scrubJsonText(text: string, person: PersonRef, tombstoneId: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error('corrupt JSON text met during an erasure', { cause: err });
  }
  return JSON.stringify(scrubValue(parsed, person, tombstoneId));
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

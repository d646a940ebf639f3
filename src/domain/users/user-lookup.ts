import type { Store } from '../ports/store.js';
import type { User } from '../ports/users.js';
import { normaliseEmail } from './public-user.js';

/** Keys per store query: a 5,000-row import is ten queries, none of them unbounded. */
export const LOOKUP_CHUNK = 500;

/**
 * An import's users by exact email and student number, a query per chunk of keys (not per row,
 * and not the list's capped substring search, which missed a number among 50 that contain it).
 * A number held by several users maps to all of them, for the caller to refuse.
 */
export async function usersByKeys(
  store: Store,
  orgId: string,
  keys: { emails?: Iterable<string>; studentNumbers?: Iterable<string> },
): Promise<{ byEmail: Map<string, User>; byNumber: Map<string, User[]> }> {
  const emails = [...new Set([...(keys.emails ?? [])].map(normaliseEmail).filter(Boolean))];
  const numbers = [...new Set([...(keys.studentNumbers ?? [])].filter(Boolean))];
  const byEmail = new Map<string, User>();
  const byNumber = new Map<string, User[]>();
  for (const part of chunked(emails)) for (const u of await store.users.getByEmails(orgId, part)) byEmail.set(u.email, u);
  for (const part of chunked(numbers)) {
    for (const u of await store.users.getByStudentNumbers(orgId, part)) {
      const list = byNumber.get(u.studentNumber!) ?? [];
      list.push(u);
      byNumber.set(u.studentNumber!, list);
    }
  }
  return { byEmail, byNumber };
}

/** `items` LOOKUP_CHUNK at a time. */
export function* chunked<T>(items: readonly T[]): Generator<T[]> {
  for (let i = 0; i < items.length; i += LOOKUP_CHUNK) yield items.slice(i, i + LOOKUP_CHUNK);
}

import { createHash } from 'node:crypto';
import { EMAIL_CATEGORIES, type EmailCategory } from '../../shared/alerts.js';
import type { GuardianContact } from '../ports/guardians.js';
import { normaliseEmail } from '../users/public-user.js';

/**
 * The key of a guardian's address in unsubscribe links and in the stored unsubscribes: a
 * SHA-256 of the normalised address, so a link names the address without spelling it out, and
 * the same address keeps its unsubscribes whatever the key material of the links.
 */
export function guardianEmailKey(email: string): string {
  return createHash('sha256').update(normaliseEmail(email)).digest('base64url');
}

/** How one unsubscribe is stored: `<category>:<email key>`. */
export function guardianUnsubscribeEntry(category: EmailCategory, emailKey: string): string {
  return `${category}:${emailKey}`;
}

/** The contacts as the repositories answer them: each with the categories its address stopped, when any. */
export function withUnsubscribes(contacts: readonly GuardianContact[], entries: readonly string[]): GuardianContact[] {
  const stored = new Set(entries);
  return contacts.map((c) => {
    const plain = { name: c.name, relation: c.relation, email: c.email, language: c.language };
    const key = guardianEmailKey(c.email);
    const unsubscribed = EMAIL_CATEGORIES.filter((category) => stored.has(guardianUnsubscribeEntry(category, key)));
    return unsubscribed.length > 0 ? { ...plain, unsubscribed } : plain;
  });
}

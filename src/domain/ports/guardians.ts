/**
 * Students' guardian contacts (docs/absences.md).
 * The conventions of every port are in ./store.ts.
 */

import type { EmailCategory } from '../../shared/alerts.js';

/** Someone to tell about a student: a parent or another guardian (docs/absences.md). */
export interface GuardianContact {
  name: string;
  /** As the school words it: mother, father, guardian, ... */
  relation: string;
  email: string;
  /** BCP 47 language tag of the messages they get, e.g. 'en', 'fr'. */
  language: string;
  /**
   * Email categories this address stopped for this student (the unsubscribe link of a guardian
   * email); absent when none. Read-only: derived from the student's unsubscribes by email.
   */
  unsubscribed?: EmailCategory[];
}

/**
 * A student's guardian contacts, kept and replaced as one list, and the unsubscribes of their
 * addresses. The unsubscribes are kept apart from the list, by category and email key
 * (guardianEmailKey), so an admin replacing or re-importing the list keeps them.
 */
export interface GuardianRepository {
  /** Empty when none were set; each contact with the categories its address unsubscribed from. */
  get(orgId: string, studentId: string): Promise<GuardianContact[]>;
  /**
   * Replaces the student's list (an empty list removes it; the unsubscribes stay while there
   * are any); returns what is stored. A given `unsubscribed` is ignored.
   */
  put(orgId: string, studentId: string, contacts: GuardianContact[]): Promise<GuardianContact[]>;
  /**
   * Records that the address whose key is `emailKey` wants no more `category` emails about the
   * student (idempotent); false when none of the student's contacts has that address.
   */
  unsubscribe(orgId: string, studentId: string, emailKey: string, category: EmailCategory): Promise<boolean>;
  /**
   * Undoes `unsubscribe` (the "subscribe again" button of its page; idempotent); false when none
   * of the student's contacts has that address.
   */
  resubscribe(orgId: string, studentId: string, emailKey: string, category: EmailCategory): Promise<boolean>;
}

/** A student's guardian contacts as stored: one list per student. */
export interface GuardianContacts {
  orgId: string;
  studentId: string;
  contacts: GuardianContact[];
  /** `<category>:<email key>` of each unsubscribe (guardianUnsubscribeEntry). */
  unsubscribed: string[];
  updatedAt: Date;
}

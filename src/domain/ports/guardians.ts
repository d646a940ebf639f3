/**
 * Students' guardian contacts (docs/absences.md).
 * The conventions of every port are in ./store.ts.
 */

/** Someone to tell about a student: a parent or another guardian (docs/absences.md). */
export interface GuardianContact {
  name: string;
  /** As the school words it: mother, father, guardian, ... */
  relation: string;
  email: string;
  /** BCP 47 language tag of the messages they get, e.g. 'en', 'fr'. */
  language: string;
}

/** A student's guardian contacts, kept and replaced as one list. */
export interface GuardianRepository {
  /** Empty when none were set. */
  get(orgId: string, studentId: string): Promise<GuardianContact[]>;
  /** Replaces the student's list (an empty list removes it); returns what is stored. */
  put(orgId: string, studentId: string, contacts: GuardianContact[]): Promise<GuardianContact[]>;
}

/** A student's guardian contacts as stored: one list per student. */
export interface GuardianContacts {
  orgId: string;
  studentId: string;
  contacts: GuardianContact[];
  updatedAt: Date;
}

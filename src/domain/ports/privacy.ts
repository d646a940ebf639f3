/**
 * Consents, retention of check-in details, erasure and subject-access exports.
 * The conventions of every port are in ./store.ts.
 */

import type { AuditEntry } from './audit.js';

/** What a consent covers. Only face verification needs one today. */
export const CONSENT_PURPOSES = ['face'] as const;
export type ConsentPurpose = (typeof CONSENT_PURPOSES)[number];
export const CONSENT_GIVERS = ['student', 'guardian'] as const;
export type ConsentGiver = (typeof CONSENT_GIVERS)[number];

/**
 * A recorded consent of a student (or of their guardian) to one purpose, under one version of
 * the consent text. Withdrawn consents stay as history until the person is erased.
 */
export interface Consent {
  id: string;
  orgId: string;
  /** The student the consent is about. */
  userId: string;
  purpose: ConsentPurpose;
  /** Version of the consent text shown, as the school names it (e.g. '2026-09'). */
  textVersion: string;
  givenBy: ConsentGiver;
  /** The guardian's name when a guardian gave it. */
  guardianName: string | null;
  /** User id of whoever recorded it (the student, or the admin acting for a guardian). */
  recordedBy: string;
  givenAt: Date;
  withdrawnAt: Date | null;
  withdrawnBy: string | null;
}

export type NewConsent = Omit<Consent, 'id' | 'withdrawnAt' | 'withdrawnBy'>;

export interface ConsentRepository {
  create(input: NewConsent): Promise<Consent>;
  /** The newest consent of the user to the purpose that is not withdrawn, or null. */
  current(orgId: string, userId: string, purpose: ConsentPurpose): Promise<Consent | null>;
  /** Oldest first, withdrawn ones included. */
  listForUser(orgId: string, userId: string): Promise<Consent[]>;
  /** Withdraws every standing consent of the user to the purpose; returns how many. */
  withdraw(orgId: string, userId: string, purpose: ConsentPurpose, by: string, at: Date): Promise<number>;
}

/** What one retention pass changed in one organisation. */
export interface RetentionCounts {
  /** Records whose selfie embedding was deleted. */
  probes: number;
  /** Records whose coordinates were cleared. */
  locations: number;
  /** Records whose address was cut to its network. */
  ips: number;
  /** Audit entries whose actor's address was cut to its network. */
  auditIps: number;
}

/**
 * Retention of check-in details, per organisation. Each call changes only the records of
 * sessions closed at or before `closedBefore` that still hold the detail, so a pass repeated
 * (another node, a retry) changes nothing more. Record versions are left alone: these are not
 * attendance changes.
 */
export interface RetentionRepository {
  /** Deletes verification.probe; returns how many records had one. */
  clearProbes(orgId: string, closedBefore: Date): Promise<number>;
  /** Sets location to null (distanceM, status and flags stay); returns how many had one. */
  clearLocations(orgId: string, closedBefore: Date): Promise<number>;
  /**
   * Replaces each address not yet cut with `truncate(ip)`, a network in CIDR form (it contains
   * '/', which is how a cut one is recognised); returns how many changed.
   */
  truncateIps(orgId: string, closedBefore: Date, truncate: (ip: string) => string): Promise<number>;
  /** The same for the actor's address of audit entries made at or before `before`. */
  truncateAuditIps(orgId: string, before: Date, truncate: (ip: string) => string): Promise<number>;
}

/**
 * Whom an erasure or a subject-access export is about: the user's id, and the values that
 * identify them in free-form audit values (email, name, student number).
 */
export interface PersonRef {
  orgId: string;
  userId: string;
  identifiers: string[];
}

/** What an erasure changed, per collection. */
export const ERASURE_COUNT_KEYS = [
  'users',
  'records',
  'sessions',
  'subjects',
  'enrolments',
  'audit',
  'refreshTokens',
  'accountTokens',
  'faces',
  'faceProposals',
  'consents',
  'excuses',
  'guardians',
  'notifications',
  'notificationPreferences',
  'alertStates',
  'outbox',
  'webhookDeliveries',
  'meetings',
  'teacherSettings',
] as const;
export type ErasureCounts = Record<(typeof ERASURE_COUNT_KEYS)[number], number>;

/** Every count at zero, to add to. */
export function emptyErasureCounts(): ErasureCounts {
  return Object.fromEntries(ERASURE_COUNT_KEYS.map((k) => [k, 0])) as ErasureCounts;
}

export interface PrivacyRepository {
  /**
   * Audit entries about the person: on their user, records or excuses, by them, or whose values
   * name them. Oldest first.
   */
  auditAbout(person: PersonRef): Promise<AuditEntry[]>;
  /**
   * Deletes the person's personal data (src/domain/privacy/erasure-rules.ts says what happens to each
   * collection). Their records stay for statistics under `tombstoneId`. Re-running it after a
   * failure finishes the job (the user row goes last).
   */
  erase(person: PersonRef, tombstoneId: string): Promise<ErasureCounts>;
}

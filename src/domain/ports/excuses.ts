/**
 * Excuses for absences and their documents (docs/absences.md).
 * The conventions of every port are in ./store.ts.
 */

import type { Page, PageQuery } from './common.js';
import type { AuditEntry } from './audit.js';

export const EXCUSE_STATUSES = ['pending', 'approved', 'declined'] as const;
export type ExcuseStatus = (typeof EXCUSE_STATUSES)[number];

export const EXCUSE_DOCUMENT_TYPES = ['application/pdf', 'image/jpeg', 'image/png'] as const;
export type ExcuseDocumentType = (typeof EXCUSE_DOCUMENT_TYPES)[number];

/** What is known of an excuse's document without reading its bytes. */
export interface ExcuseDocumentInfo {
  fileName: string;
  contentType: ExcuseDocumentType;
  size: number;
}

/**
 * A student's request that absences be excused: one session (`sessionId`), or the days
 * fromDay..toDay of one subject, or of all their subjects (`subjectId` null).
 */
export interface Excuse {
  id: string;
  orgId: string;
  studentId: string;
  /** Who submitted it (the student today; a guardian later). */
  submittedBy: string;
  subjectId: string | null;
  sessionId: string | null;
  fromDay: string;
  toDay: string;
  /** An absence category code of the organisation. */
  category: string;
  text: string;
  document: ExcuseDocumentInfo | null;
  status: ExcuseStatus;
  decidedBy: string | null;
  decidedAt: Date | null;
  decisionNote: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export type NewExcuse = Omit<
  Excuse,
  'id' | 'orgId' | 'document' | 'status' | 'decidedBy' | 'decidedAt' | 'decisionNote' | 'createdAt' | 'updatedAt'
>;

export interface ExcuseFilter extends PageQuery {
  studentId?: string;
  /** Only excuses of these subjects (excuses for all subjects are left out). */
  subjectIds?: string[];
  status?: ExcuseStatus;
  /**
   * Keyset paging: only the excuses after this one in the list's order (older, or as old with a
   * smaller id), whether or not it still matches; `offset` then counts from there. The total
   * still counts every excuse of the filter.
   */
  after?: ExcuseKey;
}

/** An excuse's place in the list, newest first: its creation time, then its id. */
export type ExcuseKey = Pick<Excuse, 'createdAt' | 'id'>;

/**
 * What a decision was taken on. updatedAt moves with every edit and document; category and text
 * too, for an edit landing in the same millisecond as the read.
 */
export type ExcuseRevision = Pick<Excuse, 'updatedAt' | 'category' | 'text'>;

export interface ExcuseRepository {
  /**
   * A new pending excuse, unless the student has one pending of the same scope (the same session,
   * or the same subject, or all, and days: pendingScopeKey): that one is answered, unchanged, with
   * `created: false`, and nothing is written. Holds under concurrent calls, on every node (a
   * unique key in the insert's own write): of two at once one creates, the other answers it.
   */
  create(orgId: string, input: NewExcuse): Promise<{ excuse: Excuse; created: boolean }>;
  get(orgId: string, id: string): Promise<Excuse | null>;
  /** Newest first (by creation time, then id). */
  list(orgId: string, filter: ExcuseFilter): Promise<Page<Excuse>>;
  /**
   * Approved excuses of these students that cover a session of the subject on the day: for
   * that session, or for a range holding the day, of that subject or of all subjects.
   */
  listApprovedCovering(orgId: string, studentIds: string[], sessionId: string, subjectId: string, day: string): Promise<Excuse[]>;
  /**
   * Compare-and-set: decides it only while pending and, given `seen`, still as the decider read it
   * (the same updatedAt, category and text: a student's edit meanwhile refuses it), writing `audit`
   * with it (one transaction on SQLite; on MongoDB taken back with it); null otherwise (or when
   * missing). Throws
   * ActorGoneError, leaving it pending and writing no entry, when `decidedBy` is not a user of the
   * organisation (a teacher erased meanwhile: their id may stay neither on it nor as the entry's
   * actor). The student needs no such check: their erasure deletes their excuses before their
   * account (on MongoDB) or with it (on SQLite).
   */
  decide(
    orgId: string,
    id: string,
    decision: Pick<Excuse, 'status' | 'decidedBy' | 'decidedAt' | 'decisionNote'>,
    audit?: Omit<AuditEntry, 'id'>,
    seen?: ExcuseRevision,
  ): Promise<Excuse | null>;
  /**
   * Compare-and-set: replaces the category and text while the excuse is pending (its student's
   * edit, sent as a new submission of its scope); null otherwise (decided meanwhile, or missing).
   */
  edit(orgId: string, id: string, fields: Pick<Excuse, 'category' | 'text'>): Promise<Excuse | null>;
  /** Attaches (or replaces) the document while the excuse is pending; null otherwise. */
  putDocument(orgId: string, id: string, info: ExcuseDocumentInfo, bytes: Buffer): Promise<Excuse | null>;
  getDocument(orgId: string, id: string): Promise<{ info: ExcuseDocumentInfo; bytes: Buffer } | null>;
}

/**
 * An excuse with its document's bytes, which repositories read only through getDocument, and its
 * pending key: pendingScopeKey while it is the student's one pending excuse of its scope, null once
 * decided (and for the later ones of a scope pending twice before the rule: migrations 37 and 24).
 */
export type StoredExcuse = Excuse & { documentBytes: Buffer | null; pendingKey: string | null };

/**
 * What makes two pending excuses of a student one: the session, or the subject (or all of them)
 * and the days. Its SQL twin is SQLite migration 37; MongoDB migration 24 calls this.
 */
export function pendingScopeKey(e: Pick<Excuse, 'studentId' | 'sessionId' | 'subjectId' | 'fromDay' | 'toDay'>): string {
  return e.sessionId !== null
    ? `${e.studentId}|session|${e.sessionId}`
    : `${e.studentId}|days|${e.subjectId ?? '*'}|${e.fromDay}|${e.toDay}`;
}

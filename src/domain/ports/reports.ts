/**
 * Read-only aggregates behind the reporting API.
 * The conventions of every port are in ./store.ts.
 */

import { RECORD_STATES, type RecordState } from '../../shared/events.js';
import type { AuditEntry, AuditFilter } from './audit.js';
import type { Page } from './common.js';

/** A student's records in one subject, by status, over settled (closing or closed) sessions. */
export interface StudentSubjectTally {
  subjectId: string;
  studentId: string;
  byStatus: Record<RecordState, number>;
  /** Latest submittedAt of a present or late record; null when never seen. */
  lastSeenAt: Date | null;
}

/** A subject's daily summaries added up over a day range. */
export interface SubjectTotals {
  subjectId: string;
  present: number;
  late: number;
  absent: number;
  excused: number;
  total: number;
}

export interface TallyFilter {
  /** At least one of subjectId and studentId. */
  subjectId?: string | undefined;
  studentId?: string | undefined;
  /** Inclusive calendar-day range of the sessions. */
  fromDay?: string | undefined;
  toDay?: string | undefined;
}

/** The student and session a record belongs to, for naming audit entries. */
export interface RecordRef {
  id: string;
  sessionId: string;
  studentId: string;
}

/** The subject and time of a session, for naming audit entries. */
export interface SessionRef {
  id: string;
  subjectId: string;
  startsAt: Date;
}

export interface SubjectRef {
  id: string;
  code: string;
  name: string;
}

/** The student an excuse is for. */
export interface ExcuseRef {
  id: string;
  studentId: string;
}

/** Read-only aggregates behind the reporting API. */
export interface ReportRepository {
  /** One tally per (subject, student) with at least one record in a settled session. */
  studentTallies(orgId: string, filter: TallyFilter): Promise<StudentSubjectTally[]>;
  /** Per subject with a summary in the inclusive range (all subjects, or those given). */
  subjectTotals(orgId: string, fromDay: string, toDay: string, subjectIds?: string[]): Promise<SubjectTotals[]>;
  /** How many records of these sessions are in each status. */
  recordStatusCounts(orgId: string, sessionIds: string[]): Promise<Record<RecordState, number>>;
  /** Oldest first, paged; total counts every match. */
  audit(orgId: string, filter: AuditFilter): Promise<Page<AuditEntry>>;
  /**
   * What a page of audit entries is about, one query per kind over the page's ids, in no order;
   * an id not found (deleted, or never of this organisation) is left out.
   */
  recordRefs(orgId: string, ids: readonly string[]): Promise<RecordRef[]>;
  sessionRefs(orgId: string, ids: readonly string[]): Promise<SessionRef[]>;
  subjectRefs(orgId: string, ids: readonly string[]): Promise<SubjectRef[]>;
  excuseRefs(orgId: string, ids: readonly string[]): Promise<ExcuseRef[]>;
}

export function emptyStatusCounts(): Record<RecordState, number> {
  return Object.fromEntries(RECORD_STATES.map((s) => [s, 0])) as Record<RecordState, number>;
}

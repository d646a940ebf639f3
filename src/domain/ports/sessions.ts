/**
 * Attendance sessions.
 * The conventions of every port are in ./store.ts.
 */

import type { SessionState } from '../../shared/events.js';
import type { VerificationPolicy } from '../../shared/policy.js';
import { MAX_WINDOW_MS } from '../checks/time-window.js';
import type { LeaseFence, Page, PageQuery } from './common.js';
import type { Room } from './subjects.js';

export interface AttendanceSession {
  id: string;
  orgId: string;
  subjectId: string;
  /** The teacher who opened it. */
  teacherId: string;
  status: SessionState;
  policy: VerificationPolicy;
  /** Check-ins are accepted from here. */
  startsAt: Date;
  /** Check-ins after this are recorded late. */
  lateAfter: Date;
  /** The session closes itself here. */
  closesAt: Date;
  /** Secret behind the rotating code; any node derives the current code from it. */
  codeSecret: string;
  /** Where it is held when not in the subject's classroom: a meeting's room, or given at opening; null: the subject's. */
  room: Room | null;
  /** The timetable meeting it was created from; null when opened by hand. */
  meetingId: string | null;
  /** Calendar day of the session in the organisation's time zone (for daily summaries). */
  day: string;
  createdAt: Date;
  updatedAt: Date;
  closedAt: Date | null;
  /** User id, or null when the scheduler closed it. */
  closedBy: string | null;
  /** Scheduler lease: the node that is closing it and until when (exactly-once closes). */
  leaseOwner: string | null;
  leaseUntil: Date | null;
  /**
   * Roster version: +1 with every stored change of one of the session's records, in the same
   * write, so it never goes back (Redis and node restarts cannot reset it). 0 before any change.
   */
  rosterVersion: number;
  /**
   * The meeting edit that cancelled it (its key, edit-trail.ts), written in the same write as the
   * cancellation, so a crash before the audit entry cannot lose it; null for every other session,
   * one cancelled by hand included. UNAUDITED_CANCEL on sessions the previous release cancelled
   * with no audit entry (store migrations: SQLite 32, MongoDB 20).
   */
  meetingEdit: string | null;
}

/**
 * The mark the upgrade puts on a session of a meeting cancelled before sessions carried their
 * edit's mark and with no `session.cancel` entry: a run of that release stopped between the two,
 * and nothing tells an edit's cancellation from a hand cancel's (MeetingFollower.forgetUnaudited).
 */
export const UNAUDITED_CANCEL = 'unaudited';

export type NewSession = Omit<
  AttendanceSession,
  | 'id'
  | 'orgId'
  | 'createdAt'
  | 'updatedAt'
  | 'closedAt'
  | 'closedBy'
  | 'leaseOwner'
  | 'leaseUntil'
  | 'rosterVersion'
  | 'meetingEdit'
  | 'room'
  | 'meetingId'
> &
  Partial<Pick<AttendanceSession, 'room' | 'meetingId'>>;

/**
 * What a transition may write besides the status; `startsAt`, `teacherId`, `policy` and `room`
 * only while scheduled, `meetingEdit` only with a cancellation by a meeting's edit.
 */
export type SessionTransitionPatch = Partial<
  Pick<
    AttendanceSession,
    'status' | 'closesAt' | 'lateAfter' | 'closedAt' | 'closedBy' | 'startsAt' | 'teacherId' | 'policy' | 'room' | 'meetingEdit'
  >
>;

/**
 * No session lasts longer: every window written is validateWindow's (at most its 24 h). The
 * stores' overlap reads (`listActive…During`) read only the sessions starting less than this
 * before the window, so that a clash check is a range read, not every session of the horizon.
 */
export const LONGEST_SESSION_MS = MAX_WINDOW_MS;

/** A half-open window [startsAt, closesAt), as the clash checks compare them (domain/sessions/clashes.ts). */
export type SessionWindow = Pick<AttendanceSession, 'startsAt' | 'closesAt'>;

export interface SessionFilter extends PageQuery {
  subjectId?: string;
  status?: SessionState[];
  /** Inclusive calendar-day range. */
  fromDay?: string;
  toDay?: string;
}

export interface SessionRepository {
  /** With `fence`, stored only while its leases hold (LeaseLostError otherwise, nothing stored). */
  create(orgId: string, input: NewSession, fence?: LeaseFence): Promise<AttendanceSession>;
  get(orgId: string, id: string): Promise<AttendanceSession | null>;
  /** Newest first. */
  list(orgId: string, filter: SessionFilter): Promise<Page<AttendanceSession>>;
  /** Open or scheduled sessions of these subjects. */
  listActiveForSubjects(orgId: string, subjectIds: string[]): Promise<AttendanceSession[]>;
  /** Open or scheduled sessions held by this teacher (`teacherId`), whatever their subject. */
  listActiveForTeacher(orgId: string, teacherId: string): Promise<AttendanceSession[]>;
  /**
   * listActiveForSubjects narrowed to the sessions sharing an instant with `window` (half-open:
   * one ending as the window starts is not among them), earliest start first (then id): the clash
   * checks' read, a range of the index on start (LONGEST_SESSION_MS bounds it from below).
   */
  listActiveForSubjectsDuring(orgId: string, subjectIds: string[], window: SessionWindow): Promise<AttendanceSession[]>;
  /**
   * listActiveForTeacher narrowed as listActiveForSubjectsDuring, and without the sessions of
   * `exceptSubjectId` when given (the teacher's rule is about other subjects: a subject's many
   * parallel sessions are not read only to be dropped).
   */
  listActiveForTeacherDuring(
    orgId: string,
    teacherId: string,
    window: SessionWindow,
    exceptSubjectId?: string,
  ): Promise<AttendanceSession[]>;
  /**
   * The organisation's `scheduled` sessions starting after `after`, earliest start first (then
   * id): the upcoming classes, read through an index on (organisation, status, start).
   */
  listScheduled(orgId: string, after: Date): Promise<AttendanceSession[]>;
  /**
   * Compare-and-set: applies the patch only when the session's status is one of `from`.
   * Returns the updated session, or null when the status did not match.
   */
  transition(
    orgId: string,
    id: string,
    from: SessionState[],
    patch: SessionTransitionPatch,
    /** Stored only while these leases hold (LeaseLostError otherwise, nothing changed): a widening's slot locks. */
    fence?: LeaseFence,
  ): Promise<AttendanceSession | null>;
  /**
   * Cancels a `scheduled` session left without a teacher (docs/authorization.md, "Sessions left
   * without a teacher") only while it still is as the caller checked it: scheduled, held by
   * `teacherId`, and that account not an active teacher of the session's subject (gone,
   * deactivated, not a teacher, or not among the subject's teachers). Null, nothing changed, when
   * any of that no longer holds: a reactivation or a change of the subject's teachers takes no
   * subject lock, so it can land between the caller's check and this write. SQLite: one statement.
   * MongoDB (no multi-document transaction): the teacher and the subject are read again, then
   * the session's write is conditional on its status, teacher and subject; a reactivation
   * between that read and the write comes after the cancel (a write put back afterwards would be
   * seen cancelled meanwhile). With `fence` as transition.
   */
  cancelUnstaffed(
    orgId: string,
    id: string,
    teacherId: string,
    patch: { closedAt: Date; closedBy: string },
    fence?: LeaseFence,
  ): Promise<AttendanceSession | null>;
  /**
   * System-wide: sessions not yet closed whose closesAt <= now (or stuck in 'closing'), and
   * whose lease is free or expired. Oldest closesAt first.
   */
  listDue(now: Date, limit: number): Promise<AttendanceSession[]>;
  /** System-wide: 'scheduled' sessions whose startsAt <= now, to be opened. Oldest startsAt first. */
  listStarting(now: Date, limit: number): Promise<AttendanceSession[]>;
  /** System-wide: the earliest closesAt of sessions not yet closed, or null. */
  nextDueAt(): Promise<Date | null>;
  /** Takes the lease when it is free or expired; true when this owner now holds it. */
  acquireLease(orgId: string, id: string, owner: string, until: Date, now: Date): Promise<boolean>;
  /**
   * Extends the lease to `until` if `owner` holds it still (expired or not), else changes nothing.
   * False when it was released or another owner took it: a close's fence before each write step.
   */
  renewLease(orgId: string, id: string, owner: string, until: Date): Promise<boolean>;
  releaseLease(orgId: string, id: string, owner: string): Promise<void>;
}

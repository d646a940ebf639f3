/**
 * The timetable: terms, holidays, weekly meetings, their occurrences and teacher settings (docs/timetable.md).
 * The conventions of every port are in ./store.ts.
 */

import type { PolicyPreset } from '../../shared/policy-presets.js';
import type { DefaultPolicy } from '../../shared/policy.js';
import type { LeaseFence } from './common.js';
import type { ClassroomLocation } from './subjects.js';

/** A teaching period of an organisation; meetings recur only between its first and last day. */
export interface Term {
  id: string;
  orgId: string;
  name: string;
  /** Inclusive calendar days in the organisation's time zone. */
  startDay: string;
  endDay: string;
  createdAt: Date;
}

/** Days the organisation is closed (one day or a range): no timetable session is created on them. */
export interface Holiday {
  id: string;
  orgId: string;
  name: string;
  startDay: string;
  endDay: string;
  createdAt: Date;
}

/** A subject's weekly meeting within a term, in the organisation's wall-clock time. */
export interface Meeting {
  id: string;
  orgId: string;
  subjectId: string;
  termId: string;
  /** ISO weekday: 1 = Monday ... 7 = Sunday. */
  weekday: number;
  /** 'HH:MM' local time; the session opens at start and closes at end. */
  startTime: string;
  endTime: string;
  /** The teacher whose session it is; null: the subject's first teacher. */
  teacherId: string | null;
  /** The checks its sessions get; null: the organisation's defaults. */
  preset: PolicyPreset | null;
  /** Its room when not the subject's classroom; null: the subject's location. */
  location: ClassroomLocation | null;
  /** Its networks; empty: the subject's. */
  allowedIpRanges: string[];
  /**
   * Its completed edits: 0 when added, +1 with every stored change of its fields, in the same
   * write (the key of an edit, src/domain/timetable/edit-trail.ts, starts with it).
   */
  revision: number;
  createdAt: Date;
}

/**
 * One dated occurrence of a meeting, keyed (meetingId, day): the key that makes a timetable
 * session be created once whichever node runs the job. 'claimed' while a node creates the
 * session, 'created' once it exists (sessionId), 'cancelled' when staff called it off.
 */
export interface Occurrence {
  orgId: string;
  meetingId: string;
  day: string;
  subjectId: string;
  state: 'claimed' | 'created' | 'cancelled';
  sessionId: string | null;
  updatedAt: Date;
}

/** Whether timetable sessions of a teacher open by themselves or wait for one tap. */
export const TIMETABLE_OPEN_MODES = ['auto', 'tap'] as const;
export type TimetableOpenMode = (typeof TIMETABLE_OPEN_MODES)[number];

/** A teacher's default checks: a preset, and checks that override it; unset fields fall through. */
export type TeacherDefaultPolicy = DefaultPolicy & { preset?: PolicyPreset };

/**
 * A teacher's own session defaults; unset (null, or a field left out of defaultPolicy) falls
 * through to the organisation's setting, then the built-in one (sessionDefaults).
 */
export interface TeacherSettings {
  orgId: string;
  userId: string;
  timetableOpen: TimetableOpenMode;
  defaultPolicy: TeacherDefaultPolicy;
  lateGraceMinutes: number | null;
  codePeriodS: number | null;
}

/** A teacher who never saved settings. */
export function defaultTeacherSettings(orgId: string, userId: string): TeacherSettings {
  return { orgId, userId, timetableOpen: 'auto', defaultPolicy: {}, lateGraceMinutes: null, codePeriodS: null };
}

/**
 * `id`, when the caller gives one, makes the write once whoever repeats it (a roll-over's copy of a
 * meeting, src/domain/subjects/subject-rollover.ts): a second with the same id is refused
 * (StoreConflictError('id')); absent, the store makes a new one.
 */
export type NewMeeting = Omit<Meeting, 'id' | 'orgId' | 'createdAt' | 'revision'> & { id?: string | undefined };
/** The fields an edit may change; the term and the subject stay. */
export type MeetingPatch = Partial<Omit<NewMeeting, 'id' | 'subjectId' | 'termId'>>;

/**
 * A meeting as the store keeps it unique within its organisation: every field a meeting sets
 * (docs/timetable.md, "Importing the week"). Two meetings of one subject equal in all of them
 * would make two sessions of one class at once; the networks are a set (their order says nothing).
 */
export function meetingNaturalKey(
  m: Pick<Meeting, 'subjectId' | 'termId' | 'weekday' | 'startTime' | 'endTime' | 'teacherId' | 'preset' | 'location' | 'allowedIpRanges'>,
): string {
  const location = m.location ? [m.location.lat, m.location.lon, m.location.radiusM] : null;
  return JSON.stringify([
    m.subjectId,
    m.termId,
    m.weekday,
    m.startTime,
    m.endTime,
    m.teacherId,
    m.preset,
    location,
    canonicalRanges(m.allowedIpRanges),
  ]);
}

/** A meeting's networks as stored: each once, sorted, so that equal sets compare equal. */
export function canonicalRanges(ranges: readonly string[]): string[] {
  return [...new Set(ranges)].sort();
}

export interface TimetableRepository {
  createTerm(orgId: string, input: Pick<Term, 'name' | 'startDay' | 'endDay'>): Promise<Term>;
  /** Ordered by start day. */
  listTerms(orgId: string): Promise<Term[]>;
  /** Deletes the term, its meetings and their occurrences; false when it did not exist. */
  deleteTerm(orgId: string, id: string): Promise<boolean>;
  createHoliday(orgId: string, input: Pick<Holiday, 'name' | 'startDay' | 'endDay'>): Promise<Holiday>;
  /** Ordered by start day. */
  listHolidays(orgId: string): Promise<Holiday[]>;
  deleteHoliday(orgId: string, id: string): Promise<boolean>;
  /**
   * Stored only while `fence`'s leases hold (LeaseLostError otherwise, nothing stored): the adder's
   * slot locks. A meeting with the input's `id` already stored: StoreConflictError('id'), nothing stored.
   * One equal to a meeting the organisation has (meetingNaturalKey): StoreConflictError('meeting'),
   * nothing stored; of two equal adds at once, on any node, one is stored. The networks are stored
   * as canonicalRanges.
   */
  createMeeting(orgId: string, input: NewMeeting, fence?: LeaseFence): Promise<Meeting>;
  getMeeting(orgId: string, id: string): Promise<Meeting | null>;
  /** All of the organisation's meetings, or one subject's; by weekday then start time. */
  listMeetings(orgId: string, subjectId?: string): Promise<Meeting[]>;
  /**
   * Applies the fields the patch names; null when there is no such meeting. With `fence`, only
   * while its leases hold (LeaseLostError otherwise, the meeting left as it was): the editor's slot locks.
   * An edit that makes it equal to another meeting of the organisation: StoreConflictError('meeting'), unchanged.
   */
  updateMeeting(orgId: string, id: string, patch: MeetingPatch, fence?: LeaseFence): Promise<Meeting | null>;
  /**
   * Deletes the meeting and its occurrences with it (nothing reads them once the meeting is
   * gone, and left behind they would hold its days should a meeting of that id come back: a
   * roll-over's copy is made again with its id). False when it did not exist.
   */
  deleteMeeting(orgId: string, id: string): Promise<boolean>;
  /**
   * Forgets a created occurrence whose session is `sessionId` (the session was cancelled because
   * the meeting moved to another weekday, or cannot be held that day), so the day is free again
   * should the meeting come back to it; an occurrence of another session is left alone.
   */
  forgetOccurrence(orgId: string, meetingId: string, day: string, sessionId: string): Promise<void>;
  /** Occurrences of these meetings on days in the inclusive range. */
  listOccurrences(orgId: string, meetingIds: string[], fromDay: string, toDay: string): Promise<Occurrence[]>;
  /**
   * Claims (meetingId, day) for creating its session: true when the key was free, or claimed
   * by a run that has not finished it since `staleBefore` (a node that died mid-way).
   */
  claimOccurrence(orgId: string, key: Pick<Occurrence, 'meetingId' | 'day' | 'subjectId'>, now: Date, staleBefore: Date): Promise<boolean>;
  /** The claimed occurrence now has its session. */
  completeOccurrence(orgId: string, meetingId: string, day: string, sessionId: string, now: Date): Promise<void>;
  /** Frees a claim whose session could not be created, so a later run tries again. */
  releaseOccurrence(orgId: string, meetingId: string, day: string): Promise<void>;
  /** Marks the occurrence cancelled whatever its state; returns it as it was before (null: none). */
  cancelOccurrence(orgId: string, key: Pick<Occurrence, 'meetingId' | 'day' | 'subjectId'>, now: Date): Promise<Occurrence | null>;
  /** The teacher's settings; defaultTeacherSettings when never set. */
  getTeacherSettings(orgId: string, userId: string): Promise<TeacherSettings>;
  putTeacherSettings(settings: TeacherSettings): Promise<TeacherSettings>;
}

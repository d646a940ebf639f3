/**
 * Subjects, their classroom location and enrolments.
 * The conventions of every port are in ./store.ts.
 */

import type { LeaseFence, Page, PageQuery } from './common.js';
import type { AuditEntry } from './audit.js';

export interface GeoPoint {
  lat: number;
  lon: number;
}

export interface ClassroomLocation extends GeoPoint {
  radiusM: number;
}

/**
 * Where a meeting or a session is held, over its subject's classroom: each part unset (a null
 * location, no ranges) falls back to the subject's on its own (src/domain/sessions/room.ts).
 */
export interface Room {
  location: ClassroomLocation | null;
  /** CIDR ranges, IPv4 or IPv6; empty: the subject's. */
  allowedIpRanges: string[];
}

export interface Subject {
  id: string;
  orgId: string;
  /** Unique per organisation, e.g. 'CS101'. */
  code: string;
  name: string;
  teacherIds: string[];
  location: ClassroomLocation | null;
  /** CIDR ranges, IPv4 or IPv6. Empty means no network restriction is configured. */
  allowedIpRanges: string[];
  /**
   * When an admin archived it (last year's subject): its records stay, it takes no new session,
   * meeting or enrolment, and default lists leave it out. Null: in use.
   */
  archivedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * A subject as its students read it: where the classroom is (its geofence) and the school's
 * networks are left out, as in every view a student receives (docs/authorization.md).
 */
export type StudentSubject = Omit<Subject, 'location' | 'allowedIpRanges'>;

export interface Enrolment {
  orgId: string;
  subjectId: string;
  studentId: string;
  createdAt: Date;
}

/** Why a subject enrolled nobody at the write: no subject of the organisation has its id (`deleted`), or it is `archived`. */
export type EnrolGone = 'deleted' | 'archived';

/**
 * What one enrol wrote: `added` newly enrolled; `refused` the ids not an active student of the
 * organisation at the write, in no order; `gone`, present only then, when the subject was not in
 * use at the write (nobody enrolled, nobody refused, no audit entry).
 */
export interface EnrolOutcome {
  added: number;
  refused: string[];
  gone?: EnrolGone;
}

/**
 * The audit entry of one subject's enrolment, made from the students the write enrolled (those
 * already enrolled included, refused ones left out; never empty): written with the enrolments
 * (enrolMany), so that none is left without its entry.
 */
export type EnrolEntry = (subjectId: string, studentIds: string[]) => Omit<AuditEntry, 'id'>;

export interface SubjectFilter extends PageQuery {
  teacherId?: string;
  studentId?: string;
  q?: string;
  /** True: only archived subjects; false: only those in use; absent: both. */
  archived?: boolean;
}

export type NewSubject = Omit<Subject, 'id' | 'orgId' | 'createdAt' | 'updatedAt' | 'archivedAt'>;
export type SubjectPatch = Partial<Pick<Subject, 'code' | 'name' | 'teacherIds' | 'location' | 'allowedIpRanges' | 'archivedAt'>>;

/** One subject's teachers as a change found them (`from`, in order) and as it leaves them (`to`). */
export interface TeacherSwap {
  id: string;
  from: readonly string[];
  to: readonly string[];
}

export interface SubjectRepository {
  /** Throws StoreConflictError('code') when the code is taken in the organisation. */
  create(orgId: string, input: NewSubject): Promise<Subject>;
  get(orgId: string, id: string): Promise<Subject | null>;
  /** The organisation's subjects with these ids (one query for an import's linked classes), in no order. */
  getMany(orgId: string, ids: readonly string[]): Promise<Subject[]>;
  /** The organisation's subjects with exactly these codes (unique per organisation), in no order. */
  getByCodes(orgId: string, codes: readonly string[]): Promise<Subject[]>;
  list(orgId: string, filter: SubjectFilter): Promise<Page<Subject>>;
  /**
   * With `fence` (a change of its first teacher, under the slot locks: FirstTeacherChange), written
   * only while the fence's leases are its owner's, and extends them; LeaseLostError, nothing
   * written, otherwise.
   */
  update(orgId: string, id: string, patch: SubjectPatch, fence?: LeaseFence): Promise<Subject | null>;
  /**
   * Several subjects' teachers changed together, all or nothing (a teacher's hand-over): each is
   * written only while its teachers are still exactly `from`; one changed since, or gone, throws
   * StoreConflictError('teacherIds:ID') and none is changed. With `fence` as update. SQLite: one
   * transaction. MongoDB (no multi-document transaction on a standalone server): each written
   * conditionally, those already written put back, while still this call's, on a refusal; a
   * reader may see some of them changed until then. Answers the subjects as written, in order.
   *
   * `entries` (the change's audit entries) are written with it: in its transaction on SQLite; on
   * MongoDB before any subject, and taken back when it is refused or its lease lost. A node dying
   * mid-way on MongoDB leaves them, over a change made in part or not at all: they are the
   * change's intent, never lost, and a hand back reads each subject as it stands (TeacherHandover).
   */
  setTeachersEach(
    orgId: string,
    swaps: readonly TeacherSwap[],
    fence?: LeaseFence,
    entries?: readonly Omit<AuditEntry, 'id'>[],
  ): Promise<Subject[]>;
  /** Deletes the subject and its enrolments. Returns false when it did not exist. */
  delete(orgId: string, id: string): Promise<boolean>;
  /**
   * Idempotent. Enrols only the ids that are active students of the organisation at the write:
   * one deactivated, deleted, of another role or unknown is refused in the same write, never
   * enrolled (a check made before the call cannot see an admin deactivating one meanwhile).
   * Likewise a subject deleted or archived since the caller's check (or of another organisation)
   * enrols nobody and refuses nobody, and its outcome says `gone`. SQLite: one transaction.
   * MongoDB: students and subject checked before the insert and again after it, the enrolments
   * refused then taken back out (a reader may see them enrolled until then).
   */
  enrol(orgId: string, subjectId: string, studentIds: string[]): Promise<EnrolOutcome>;
  /**
   * enrol for several subjects at once (an import's classes), each as enrol says, answering each
   * subject's outcome (every key of `bySubject`). With `entry`, each subject that enrolled anyone
   * gets its audit entry with the write: SQLite in its one transaction; MongoDB before the
   * enrolments, as their intent, then replaced by one naming what was written (or taken back
   * when nothing was) once the write is checked: a node dying in between leaves an entry over an
   * enrolment made in part or not at all, never an enrolment without one. MongoDB: one read of
   * each kind for all the subjects rather than per subject (docs/mongodb.md).
   */
  enrolMany(orgId: string, bySubject: ReadonlyMap<string, readonly string[]>, entry?: EnrolEntry): Promise<Map<string, EnrolOutcome>>;
  /** Idempotent; returns how many were removed. */
  unenrol(orgId: string, subjectId: string, studentIds: string[]): Promise<number>;
  /** One student out of these subjects at once (one statement, all or nothing); returns how many were removed. */
  unenrolStudent(orgId: string, studentId: string, subjectIds: readonly string[]): Promise<number>;
  listEnrolled(orgId: string, subjectId: string): Promise<string[]>;
  isEnrolled(orgId: string, subjectId: string, studentId: string): Promise<boolean>;
  /** Which of `studentIds` are enrolled in the subject (one query for a batch of check-ins), in no order. */
  enrolledAmong(orgId: string, subjectId: string, studentIds: readonly string[]): Promise<string[]>;
  /** Every enrolment of these students, in no order (one query for a node's sockets after a Redis outage). */
  enrolmentsOf(orgId: string, studentIds: readonly string[]): Promise<Pick<Enrolment, 'studentId' | 'subjectId'>[]>;
}

/**
 * Attendance records: one per session and student, written one by one or in group commits.
 * The conventions of every port are in ./store.ts.
 */

import type { RecordState, VerificationBand, VerificationState } from '../../shared/events.js';
import type { ReasonCode } from '../../shared/reasons.js';
import type { AuditAction } from '../../shared/audit.js';
import type { LeaseFence, Page, PageQuery } from './common.js';
import type { GeoPoint } from './subjects.js';

export interface CheckinLocation {
  lat: number;
  lon: number;
  accuracyM: number;
  /** When the device took the fix. */
  timestamp: Date;
}

/** Outcome of face verification, kept for the teacher (never sent to students). */
export interface VerificationResult {
  state: VerificationState;
  band: VerificationBand | null;
  distance: number | null;
  flags: ReasonCode[];
  reason: ReasonCode | null;
  completedAt: Date | null;
  /** The selfie's embedding, for the anti-proxy check of later check-ins; server-side only. */
  probe?: number[] | null;
}

export interface AttendanceRecord {
  id: string;
  orgId: string;
  sessionId: string;
  subjectId: string;
  studentId: string;
  status: RecordState;
  /** Reason code of the current status (e.g. GEOFENCE_OUTSIDE, MARKED_BY_TEACHER). */
  reason: ReasonCode | null;
  /** Review flags for the teacher (e.g. GEOFENCE_IMPRECISE, LATE, POSSIBLE_PROXY). */
  flags: ReasonCode[];
  distanceM: number | null;
  location: CheckinLocation | null;
  ip: string | null;
  attempts: number;
  submittedAt: Date | null;
  decidedAt: Date | null;
  /** User id of the teacher who decided, or null for automatic decisions. */
  decidedBy: string | null;
  note: string | null;
  /**
   * Why staff corrected the record after closing (checkin:mark's reason), for the roster and CSV.
   * Absent on a record never corrected, so records written before it read back unchanged.
   */
  correctionReason?: string | null;
  /** Category code of an excused record (an approved excuse); absent otherwise. */
  absenceCategory?: string | null;
  /** The student page's device id and the socket's user agent, for the shared-device flag; absent when unknown. */
  deviceId?: string | null;
  userAgent?: string | null;
  verification: VerificationResult | null;
  /** Incremented on every change; used for optimistic concurrency. */
  version: number;
  /** The session's roster version that this record's last change produced. */
  rosterVersion: number;
  createdAt: Date;
  updatedAt: Date;
}

export type NewRecord = Omit<AttendanceRecord, 'id' | 'orgId' | 'version' | 'rosterVersion' | 'createdAt' | 'updatedAt'>;

export type RecordPatch = Partial<
  Pick<
    AttendanceRecord,
    | 'status'
    | 'reason'
    | 'flags'
    | 'distanceM'
    | 'location'
    | 'ip'
    | 'attempts'
    | 'submittedAt'
    | 'decidedAt'
    | 'decidedBy'
    | 'note'
    | 'correctionReason'
    | 'absenceCategory'
    | 'deviceId'
    | 'userAgent'
    | 'verification'
  >
>;

/** Rows a store answers per criterion of listProxyPeers: the signals need one match, the fix a few. */
export const PROXY_PEERS_PER_CRITERION = 10;

export interface ProxyProbe {
  studentId: string;
  deviceId: string | null;
  ip: string | null;
  userAgent: string | null;
  near: { lat: number; lon: number; box: number } | null;
}

/** The columns of one record that the proxy signals compare (docs/protocol.md, "Proxy signals"). */
export interface PeerMark {
  studentId: string;
  deviceId: string | null;
  ip: string | null;
  userAgent: string | null;
  location: GeoPoint | null;
}

/** A record's peer mark, with its id and the roster version of its last change. */
export interface VersionedPeerMark extends PeerMark {
  id: string;
  rosterVersion: number;
}

/** A session whose records changed since a roster version are asked for (null: all of them). */
export interface PeerMarkWant {
  sessionId: string;
  afterRosterVersion: number | null;
  /**
   * The caller already holds every change of the session up to this roster version (its own
   * writes, merged as they were stored): while the session's version is still this one, a store
   * may answer `{ unchanged: true }` without reading its records (SQLite does; MongoDB, whose
   * versions are stamped after the write, always reads).
   */
  unlessRosterVersion?: number;
}

/** listPeerMarkChanges' answer for a session whose roster version is still the `unlessRosterVersion` asked. */
export interface PeerMarksUnchanged {
  unchanged: true;
}

export interface PeerMarkChanges {
  marks: VersionedPeerMark[];
  /** Every record of the session, counted as of the read (on SQLite in the same snapshot). */
  count: number;
}

/**
 * Who made a record write, how and why. The store writes the audit entry from it, the record
 * before and the record after (domain/checkins/record-audit.ts): plain data, so a write can be
 * handed to another thread.
 */
export interface RecordAudit {
  actorId: string | null;
  action: AuditAction;
  reason: string | null;
  ip: string | null;
}

/** One record write of a group commit, with the audit entry written alongside it. */
export type RecordWrite =
  | { kind: 'insert'; orgId: string; input: NewRecord; audit: RecordAudit }
  | { kind: 'update'; orgId: string; id: string; expectedVersion: number; patch: RecordPatch; audit: RecordAudit };

/**
 * What one write of writeBatch did: `written` with the stored record, or not written with the
 * record that stood in its way (the key taken, or the current version after a version
 * mismatch; null when the record is gone, or when an insert's student no longer exists: erased
 * while the check-in was on its way), or the error that refused it alone (ActorGoneError: the
 * user it is made by, its audit actor or decision's maker other than its student, no longer
 * exists, and nothing of it is stored). A write whose maker and student are both gone is refused
 * for its maker: who writes is checked before whom it is about, as a request is authenticated
 * before it is validated.
 */
export type RecordWriteResult =
  | { written: true; before: AttendanceRecord | null; record: AttendanceRecord }
  | { written: false; record: AttendanceRecord | null }
  | { written: false; error: unknown };

export interface RecordRepository {
  /**
   * Inserts unless a record for (sessionId, studentId) exists. `created` tells which; the
   * existing record is returned untouched otherwise. An insert increments the session's
   * rosterVersion and stores the new value in the record's rosterVersion. It does not check that
   * the student exists, nor write an audit entry: the domain writes records through writeBatch,
   * which does both (erasure races, docs/privacy.md). Tests seed records with it.
   */
  insertIfAbsent(orgId: string, input: NewRecord): Promise<{ record: AttendanceRecord; created: boolean }>;
  get(orgId: string, id: string): Promise<AttendanceRecord | null>;
  getForStudent(orgId: string, sessionId: string, studentId: string): Promise<AttendanceRecord | null>;
  /** The session's records of these students (one query for a batch of check-ins), in no order. */
  getForStudents(orgId: string, sessionId: string, studentIds: readonly string[]): Promise<AttendanceRecord[]>;
  /** The records of these (session, student) keys, across sessions (one query for a turn's check-ins), in no order. */
  getForSessionStudents(orgId: string, keys: readonly { sessionId: string; studentId: string }[]): Promise<AttendanceRecord[]>;
  listBySession(orgId: string, sessionId: string): Promise<AttendanceRecord[]>;
  /**
   * Records of the session by other students that could share the probe's device (same device
   * id, or same address and user agent) or lie near its fix (within `box` degrees): the
   * candidates of the proxy signals, at most PROXY_PEERS_PER_CRITERION per criterion, without
   * reading the whole session on every check-in.
   */
  listProxyPeers(orgId: string, sessionId: string, probe: ProxyProbe): Promise<AttendanceRecord[]>;
  listBySessions(orgId: string, sessionIds: string[]): Promise<AttendanceRecord[]>;
  /**
   * System-wide, for the abandoned-verification job (domain/checkins/abandoned-verifications.ts):
   * records still `pending` whose selfie verification is `queued` and was submitted before
   * `submittedBefore`, in sessions that are not cancelled and are unclosed or close (closesAt)
   * at or after `sessionsClosingFrom`, oldest submission first, at most `limit`. The sessions'
   * (status, closesAt) index bounds the read to recent sessions, however long the history.
   */
  listQueuedVerifications(range: { submittedBefore: Date; sessionsClosingFrom: Date }, limit: number): Promise<AttendanceRecord[]>;
  /**
   * The session's records changed since a roster version (all of them when `afterRosterVersion`
   * is null), reduced to what the proxy signals compare, and how many records the session has:
   * what keeps a group commit's index of the session current (docs/multi-node.md, "Group
   * commit"). Holds at least every record whose rosterVersion is above `afterRosterVersion`
   * when read; a store may answer more (MongoDB re-reads an overlap, its versions being stamped
   * after the write). A deleted record is in neither: only `count` shows it.
   */
  listPeerMarksSince(orgId: string, sessionId: string, afterRosterVersion: number | null): Promise<PeerMarkChanges>;
  /**
   * listPeerMarksSince for several distinct sessions of the organisation (a group commit's),
   * answered in the order asked; on SQLite in one read transaction (one snapshot).
   */
  listPeerMarkChanges(orgId: string, wants: readonly PeerMarkWant[]): Promise<(PeerMarkChanges | PeerMarksUnchanged)[]>;
  /**
   * Group commit: the writes in order, each as insertIfAbsent or update would do it, with its
   * audit entry. On SQLite all of them are one transaction, durable when the promise resolves;
   * a later write sees an earlier one (two inserts of one key: the second is not written).
   * Throws StoreBusyError, with nothing written, when another writer held the store too long.
   * With `fence` (a close's lease), the batch is stored only while its leases hold: LeaseLostError
   * otherwise, none of its writes kept (on MongoDB, written ones are taken back).
   */
  writeBatch(writes: readonly RecordWrite[], fence?: LeaseFence): Promise<RecordWriteResult[]>;
  /**
   * Newest session first (by the session's start, not by when the record was written), ties and
   * records whose session is gone (those last) by record id, newest first.
   */
  listByStudent(orgId: string, studentId: string, page: PageQuery): Promise<Page<AttendanceRecord>>;
  /**
   * Optimistic update: applies the patch and increments version only when the stored version
   * equals `expectedVersion`. Returns the new record, or null on a version mismatch or when
   * the record does not exist. An applied update increments the session's rosterVersion and
   * stores the new value in the record's rosterVersion. Without an audit entry: the domain
   * updates records through writeBatch.
   */
  update(orgId: string, id: string, expectedVersion: number, patch: RecordPatch): Promise<AttendanceRecord | null>;
  /**
   * Optimistic delete (reopening a session takes back the absents its closing wrote): removes
   * the record only when its version equals `expectedVersion`; true when it did. A delete
   * increments the session's rosterVersion.
   */
  remove(orgId: string, id: string, expectedVersion: number): Promise<boolean>;
}

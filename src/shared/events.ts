/**
 * The Socket.IO protocol: one typed event map shared by the server and every client.
 * Browser-safe: no Node imports. docs/protocol.md describes each event in prose.
 */
import type { Ack } from './errors.js';
import type { ReasonCode } from './reasons.js';
import type { PolicyInput, PolicyView } from './policy.js';
import type { NotificationView } from './alerts.js';
import type { LivenessChallenge } from './liveness.js';

export type { PolicyInput, PolicyView };

export const ROLES = ['admin', 'teacher', 'student'] as const;
export type Role = (typeof ROLES)[number];
/** The roles that run classes and read their attendance. */
export const STAFF_ROLES = ['admin', 'teacher'] as const satisfies readonly Role[];
/**
 * A session's states (docs/protocol.md §11): scheduled -> open -> closing -> closed, closed ->
 * open again (reopen, within the reopen window), and any of scheduled, open, closed ->
 * cancelled (voided: final, no absents, left out of summaries).
 */
export const SESSION_STATES = ['scheduled', 'open', 'closing', 'closed', 'cancelled'] as const;
export type SessionState = (typeof SESSION_STATES)[number];
/** Check-ins are accepted (or soon will be): a scheduled session opens at its start. */
export const ACTIVE_SESSION_STATES = ['scheduled', 'open'] as const satisfies readonly SessionState[];
/** Not yet closed: the scheduler still has to close these. */
export const UNCLOSED_SESSION_STATES = [...ACTIVE_SESSION_STATES, 'closing'] as const satisfies readonly SessionState[];
/** Over and counted: their records are final (or being made final) for summaries and reports. */
export const SETTLED_SESSION_STATES = ['closing', 'closed'] as const satisfies readonly SessionState[];
export const RECORD_STATES = ['pending', 'present', 'late', 'rejected', 'excused', 'absent'] as const;
export type RecordState = (typeof RECORD_STATES)[number];
/** What staff may set by hand (checkin:mark). */
export const MARK_STATUSES = ['present', 'late', 'excused', 'absent'] as const satisfies readonly RecordState[];
export type MarkStatus = (typeof MARK_STATUSES)[number];
/** The student was there: counted as attending and as last seen. */
export const ATTENDED_STATUSES = ['present', 'late'] as const satisfies readonly RecordState[];
/** A roster entry's status: a record's status, or 'not-yet' when the student has no record. */
export const ROSTER_STATUSES = [...RECORD_STATES, 'not-yet'] as const;
export type RosterStatus = (typeof ROSTER_STATUSES)[number];

export interface SessionView {
  id: string;
  subjectId: string;
  subjectCode: string;
  subjectName: string;
  teacherId: string;
  /** Effective state: a scheduled session whose start has passed is reported 'open'. */
  status: SessionState;
  policy: PolicyView;
  startsAt: string;
  lateAfter: string;
  closesAt: string;
  closedAt: string | null;
  day: string;
  /**
   * Where it is held when not in the subject's classroom (a meeting's room, copied to its
   * sessions, or given at opening); null: the subject's classroom. Staff only (the subject's
   * teachers, admins): every view a student receives leaves it out, as it leaves out the
   * subject's classroom. A student learns which checks apply from `policy` (`geofence`: share
   * the location; `network`: be on the school's network) and the verdict from their check-in's
   * `reason` and `flags`, never the coordinates, radius or networks (docs/authorization.md).
   */
  room?: SessionRoom | null;
}

/** A session as its staff read it (the subject's teachers, admins): `room` always there. */
export type StaffSessionView = SessionView & { room: SessionRoom | null };

/**
 * A session's own room (docs/timetable.md, "Rooms"). Each part falls back on its own to the
 * subject's classroom: `location` null, or `allowedIpRanges` empty, means the subject's.
 */
export interface SessionRoom {
  location: { lat: number; lon: number; radiusM: number } | null;
  allowedIpRanges: string[];
}

export const VERIFICATION_STATES = ['queued', 'done', 'failed'] as const;
export type VerificationState = (typeof VERIFICATION_STATES)[number];
export const VERIFICATION_BANDS = ['confident', 'uncertain', 'mismatch', 'no-enrolment'] as const;
export type VerificationBand = (typeof VERIFICATION_BANDS)[number];

export interface VerificationView {
  state: VerificationState;
  band: VerificationBand | null;
  flags: ReasonCode[];
}

export interface RosterEntry {
  studentId: string;
  name: string;
  studentNumber: string | null;
  status: RosterStatus;
  reason: ReasonCode | null;
  flags: ReasonCode[];
  distanceM: number | null;
  accuracyM: number | null;
  attempts: number;
  submittedAt: string | null;
  decidedAt: string | null;
  decidedBy: string | null;
  note: string | null;
  /** Why staff corrected the record after closing; null when never corrected. */
  correctionReason: string | null;
  /** Absence category code of an excused record (an approved excuse); null otherwise. */
  absenceCategory: string | null;
  recordId: string | null;
  /** The record's own version (0 when there is no record); newer wins. */
  recordVersion: number;
  /** Face verification outcome for the teacher (bands and flags only). */
  verification: VerificationView | null;
}

export interface RosterCounts {
  present: number;
  late: number;
  pending: number;
  rejected: number;
  excused: number;
  absent: number;
  notYet: number;
  total: number;
}

export interface RosterSnapshot {
  session: SessionView;
  /** Roster version at the time of the snapshot; updates carry the next versions. */
  version: number;
  entries: RosterEntry[];
  counts: RosterCounts;
}

export interface RosterUpdate {
  sessionId: string;
  version: number;
  entry: RosterEntry;
}

/** Roster changes of one session since the last message, oldest first, each with its roster version. */
export interface RosterUpdates {
  sessionId: string;
  updates: Array<{ version: number; entry: RosterEntry }>;
}

export interface RosterResyncNotice {
  sessionId: string;
}

/**
 * A student's own check-in as the session list carries it: the state, enough to say "already
 * checked in" (or pending, rejected with attempts left, excused) before Join, without the rest of
 * the record (the list is fetched on every reconnect of a phone). Of two, the higher
 * `recordVersion` is newer, as in `CheckinView`.
 */
export interface ListedCheckin {
  status: RecordState;
  attemptsLeft: number;
  verifying: boolean;
  recordVersion: number;
}

/** A session of `session:list-active`: a student's carries `checkin` (null before any), staff's none. */
export interface ActiveSessionView extends SessionView {
  checkin?: ListedCheckin | null;
}

/** What a student learns about their own check-in (never distances, embeddings or scores). */
export interface CheckinView {
  sessionId: string;
  recordId: string;
  status: RecordState;
  reason: ReasonCode | null;
  /** Reasons that sent the check-in to review or rejected it. */
  flags: ReasonCode[];
  attempts: number;
  attemptsLeft: number;
  submittedAt: string | null;
  decidedAt: string | null;
  note: string | null;
  /** The record's version: of two views of one record, the higher is newer. */
  recordVersion: number;
  /** True while a selfie is being verified; a `checkin:decision` event follows. */
  verifying: boolean;
}

export interface CodeView {
  sessionId: string;
  code: string;
  periodS: number;
  expiresAt: string;
  /** For the QR link: accepted in place of the code for JOIN_TOKEN_TTL_MS (docs/protocol.md). */
  joinToken: string;
}

export interface LocationInput {
  lat: number;
  lon: number;
  /** Accuracy radius in metres as the device reports it. */
  accuracy: number;
  /** When the fix was taken: epoch milliseconds (at most 8.64e15, the last valid date) or an ISO string. */
  timestamp: number | string;
}

export interface SessionOpenInput {
  subjectId: string;
  /** ISO time; defaults to now. */
  startsAt?: string | undefined;
  /** ISO time; defaults to startsAt + 10 minutes. */
  lateAfter?: string | undefined;
  /** ISO time; defaults to startsAt + 60 minutes. */
  closesAt?: string | undefined;
  policy?: PolicyInput | undefined;
  /** Where this session is held, when not in the subject's classroom; left out: the subject's location. */
  location?: { lat: number; lon: number; radiusM: number } | undefined;
  /** The networks of that room (CIDR ranges); left out or empty: the subject's. */
  allowedIpRanges?: string[] | undefined;
  /**
   * One session of a subject at a time: opening one whose window overlaps another scheduled or
   * open session of the subject answers SESSION_ALREADY_OPEN unless this is true.
   */
  parallel?: boolean | undefined;
  /**
   * One session at a time per teacher: a teacher opening one whose window overlaps another
   * scheduled or open session they hold in another subject answers TEACHER_DOUBLE_BOOKED unless
   * this is true (team teaching, covering a colleague).
   */
  teacherOverlap?: boolean | undefined;
}

export interface SessionCancelInput {
  sessionId: string;
  /** Why (1..500 characters), kept in the audit log. */
  reason?: string;
}

/**
 * A later close (session:extend, session:reopen) meets session:open's two rules for the time it
 * adds: a session of the subject there answers SESSION_ALREADY_OPEN unless `parallel`, one the
 * teacher holds in another subject (their next class) TEACHER_DOUBLE_BOOKED unless `teacherOverlap`.
 */
export interface ClashOverrides {
  parallel?: boolean;
  teacherOverlap?: boolean;
}

/** At least one of the two; each keeps its value when left out. */
export interface SessionExtendInput extends ClashOverrides {
  sessionId: string;
  closesAt?: string;
  lateAfter?: string;
}

export interface SessionReopenInput extends ClashOverrides {
  sessionId: string;
  /** ISO time; defaults to 10 minutes from now. */
  closesAt?: string;
  reason?: string;
}

export interface CheckinSubmitInput {
  sessionId: string;
  /** Required when the policy has `geofence` (LOCATION_REQUIRED otherwise); optional else. */
  location?: LocationInput;
  code?: string;
  /** The QR link's signed join token, accepted in place of `code` for 5 minutes. */
  joinToken?: string;
  /** A random id the page keeps in its storage (8-64 of A-Z a-z 0-9 _ -): shared-device flag. */
  deviceId?: string;
  /** JPEG/PNG/WebP bytes when the policy requires a selfie. */
  selfie?: ArrayBuffer | Uint8Array;
  /** When the policy has `liveness`: the challenge's token and its frames (JPEG, in capture order). */
  liveness?: LivenessInput;
}

export interface LivenessInput {
  /** The token checkin:challenge gave, within its expiresAt. */
  token: string;
  /** LIVENESS_MIN_FRAMES..LIVENESS_MAX_FRAMES small images, each at most LIVENESS_MAX_FRAME_BYTES. */
  frames: Array<ArrayBuffer | Uint8Array>;
}

/** A liveness challenge to perform and send with the selfie (docs/protocol.md §5.6). */
export interface ChallengeView {
  challenge: LivenessChallenge;
  /** What the page shows the student. */
  prompt: string;
  /** Send it back in checkin:submit's `liveness.token` before this time. */
  token: string;
  expiresAt: string;
  minFrames: number;
  maxFrames: number;
  /** Capture the frames over at most this long. */
  captureMs: number;
}

export interface CheckinDecideInput {
  sessionId: string;
  studentId: string;
  decision: 'accept' | 'reject';
  note?: string;
  /** The record version the teacher saw; a stale one gets RECORD_CHANGED. */
  expectedVersion?: number;
}

export interface CheckinMarkInput {
  sessionId: string;
  studentId: string;
  status: MarkStatus;
  note?: string;
  /** Required when correcting a closed session. */
  reason?: string;
  /** With status excused only: an absence category code of the organisation. */
  absenceCategory?: string;
  expectedVersion?: number;
}

export interface SessionRef {
  sessionId: string;
}

export interface CloseResult {
  session: SessionView;
  counts: RosterCounts;
}

export interface StudentJoinResult {
  /** The student's view: no `room`. */
  session: SessionView;
  checkin: CheckinView | null;
}

type Cb<T> = (ack: Ack<T>) => void;

export interface ClientToServerEvents {
  /** Teacher: open a session now or at a set time. */
  'session:open': (input: SessionOpenInput, ack: Cb<SessionView>) => void;
  /** Teacher or admin: the roster snapshot; roster updates follow on this socket. */
  'session:watch': (input: SessionRef, ack: Cb<RosterSnapshot>) => void;
  'session:unwatch': (input: SessionRef, ack: Cb<null>) => void;
  /** Teacher or admin: the current rotating code (poll again at expiresAt). */
  'session:code': (input: SessionRef, ack: Cb<CodeView>) => void;
  'session:close': (input: SessionRef, ack: Cb<CloseResult>) => void;
  /** Teacher or admin: void a scheduled, open or closed session (no absents, out of summaries; final). */
  'session:cancel': (input: SessionCancelInput, ack: Cb<SessionView>) => void;
  /** Teacher or admin: move closesAt and/or lateAfter of a scheduled or open session. */
  'session:extend': (input: SessionExtendInput, ack: Cb<SessionView>) => void;
  /** Teacher or admin: reopen a closed session within SESSION_REOPEN_WINDOW_MS of its close. */
  'session:reopen': (input: SessionReopenInput, ack: Cb<SessionView>) => void;
  /** Open and scheduled sessions: a student's enrolled subjects (their views: no `room`; each with their own check-in's state), a teacher's own subjects. */
  'session:list-active': (input: Record<string, never>, ack: Cb<ActiveSessionView[]>) => void;
  /** Student: join a session; decisions about this student are pushed afterwards. */
  'session:join': (input: SessionRef, ack: Cb<StudentJoinResult>) => void;
  'session:leave': (input: SessionRef, ack: Cb<null>) => void;
  /** Student: a random liveness challenge for this session's check-in (policy `liveness`). */
  'checkin:challenge': (input: SessionRef, ack: Cb<ChallengeView>) => void;
  /** Student: submit a check-in; stored before the acknowledgement. */
  'checkin:submit': (input: CheckinSubmitInput, ack: Cb<CheckinView>) => void;
  /** Teacher: accept or reject a student's check-in. */
  'checkin:decide': (input: CheckinDecideInput, ack: Cb<RosterEntry>) => void;
  /** Teacher: mark by hand (open session) or correct (closed session, reason required). */
  'checkin:mark': (input: CheckinMarkInput, ack: Cb<RosterEntry>) => void;
  /** Any user: present a fresh access token before the current one expires. */
  'auth:renew': (input: { token: string }, ack: Cb<{ expiresAt: string }>) => void;
}

/** What happened to a student's face reference (the faces selfies are matched against). */
export const FACE_CHANGES = ['enrolled', 'replaced', 'removed', 'proposed', 'proposal-rejected'] as const;
export type FaceChange = (typeof FACE_CHANGES)[number];

export interface FaceChangeView {
  userId: string;
  change: FaceChange;
  /** Role of whoever made the change: a student learns that staff acted, not who. */
  byRole: Role;
  at: string;
}

/**
 * Why the server ends a socket's access: the login was ended (logout elsewhere, a revoked
 * login), the account was deactivated, or its role changed (reconnect to act in the new role).
 */
export const ACCESS_END_CODES = ['TOKEN_REVOKED', 'ACCOUNT_DISABLED', 'ROLE_CHANGED'] as const;
export type AccessEndCode = (typeof ACCESS_END_CODES)[number];

export interface ServerToClientEvents {
  /**
   * To watching screens: the roster changes of a session since the last such message, sent at
   * most once per ROSTER_BATCH_MS per session (docs/protocol.md §8).
   */
  'roster:updates': (batch: RosterUpdates) => void;
  /**
   * To watching screens: updates of this session may have been lost (Redis was unreachable);
   * call session:watch again and replace the roster with the snapshot.
   */
  'roster:resync': (notice: RosterResyncNotice) => void;
  /** To a student: their check-in was decided or changed (teacher, verification, closing). */
  'checkin:decision': (view: CheckinView) => void;
  /**
   * To watchers, joined students and students of the subject who listed its sessions: the
   * session opened, is closing (check-ins refused; the absents follow), closed, was cancelled,
   * extended or reopened. Students get their view, without `room`.
   */
  'session:status': (session: SessionView) => void;
  /**
   * To watchers: a close of the session ran past CLOSE_MAX_MS and gave it up, still `closing`;
   * the next close (a scheduler's within a pass, or the teacher's again) finishes it.
   */
  'session:close-failed': (notice: { sessionId: string; code: 'CLOSE_TIMED_OUT' }) => void;
  /** The access token expires soon (sent once, about 60 s before); renew with auth:renew. */
  'auth:expiring': (info: { expiresAt: string }) => void;
  /** The access token expired; the server disconnects this socket right after. */
  'auth:expired': () => void;
  /** The socket's access ends (see ACCESS_END_CODES); the server disconnects it right after. */
  'auth:revoked': (info: { code: AccessEndCode }) => void;
  /** The user was removed from the session's subject: the socket left the session's room. */
  'session:access-lost': (info: { sessionId: string; code: 'NOT_SUBJECT_TEACHER' | 'NOT_ENROLLED' }) => void;
  /**
   * To a student newly enrolled in the subject: the socket is in the subject's room (its
   * sessions' `session:status` reach it from now on); list the sessions again for those already live.
   */
  'subject:enrolled': (info: { subjectId: string }) => void;
  /** To a teacher newly given the subject (at its creation or a change of its teachers): list the subjects again. */
  'subject:assigned': (info: { subjectId: string }) => void;
  /** To a student: their face reference was set, replaced, removed, or a replacement proposed or rejected. */
  'face:changed': (view: FaceChangeView) => void;
  /** To a user: a new notification (an at-risk alert), with their unread count. */
  'notification:new': (push: { notification: NotificationView; unread: number }) => void;
}

export interface InterServerEvents {
  ping: () => void;
  /** A node lost track of which sessions it changed during an outage: every screen resyncs. */
  'roster:resync-all': () => void;
  /** A user's account or role changed: other nodes drop what they remember of it (CurrentActors). */
  'actor:forget': (userId: string) => void;
  /** A login was ended (logout, refresh-token reuse): each node cuts its own sockets of it. */
  'login:revoked': (sid: string) => void;
  /**
   * This node's own link to Redis is back after an outage that began at `since` (its clock, ISO
   * 8601): its pushes meanwhile reached no socket of another node, so each node tells its
   * students what changed in their sessions since then (realtime/peer-catch-up.ts). Answered
   * with the start of the receiver's own earliest outage that ended after `since` (its request
   * then could not reach the asker), or null. `id` names the request across its attempts: a node
   * that heard an attempt answers the next ones without telling its students again.
   */
  'students:catch-up': (request: { since: string; id?: string }, answer: (reply: { since: string | null }) => void) => void;
}

export interface SocketData {
  userId: string;
  orgId: string;
  role: Role;
  /** Access-token expiry in epoch ms. */
  tokenExpiresAt: number;
  /** The login the token belongs to, when it names one. */
  sid: string | null;
  ip: string | null;
  /** The handshake's User-Agent, cut to 300 characters (the headers themselves are not kept). */
  userAgent: string | null;
}

/** Room names, shared so every node computes them the same way. */
export const rooms = {
  /** Screens watching a session's roster (teachers, admins). */
  staff: (sessionId: string) => `session:${sessionId}:staff`,
  /** Students who joined a session. */
  students: (sessionId: string) => `session:${sessionId}:students`,
  /** Students enrolled in a subject who listed its sessions: told when one opens, changes or ends. */
  subjectStudents: (subjectId: string) => `subject:${subjectId}:students`,
  /** Every socket of one user (a student's phone and laptop). */
  user: (userId: string) => `user:${userId}`,
} as const;

const STAFF_ROOM = /^session:(.+):staff$/;
const STUDENT_ROOM = /^session:(.+):students$/;
const SUBJECT_ROOM = /^subject:(.+):students$/;

/** The session a room name made by `rooms.staff` belongs to; undefined for any other room. */
export function staffRoomSession(room: string): string | undefined {
  return STAFF_ROOM.exec(room)?.[1];
}

/** The session a room name made by `rooms.students` belongs to; undefined for any other room. */
export function studentRoomSession(room: string): string | undefined {
  return STUDENT_ROOM.exec(room)?.[1];
}

/** The subject a room name made by `rooms.subjectStudents` belongs to; undefined for any other room. */
export function subjectRoomSubject(room: string): string | undefined {
  return SUBJECT_ROOM.exec(room)?.[1];
}

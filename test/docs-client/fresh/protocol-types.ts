// The types of docs/protocol.md §15, copied from the page rather than imported from src/shared: a
// client written from the docs alone has only these, so a field the server sends and the page does
// not name (or the other way round) shows up in `documentedKeys` checks.

export type SessionState = 'scheduled' | 'open' | 'closing' | 'closed' | 'cancelled';
export type RecordState = 'pending' | 'present' | 'late' | 'rejected' | 'excused' | 'absent';
export type RosterStatus = RecordState | 'not-yet';

export interface PolicyView {
  preset: string;
  geofence: boolean;
  network: boolean;
  rotatingCode: boolean;
  selfie: boolean;
  liveness: boolean;
  codePeriodS: number;
  maxAttempts: number;
}
export interface SessionView {
  id: string;
  subjectId: string;
  subjectCode: string;
  subjectName: string;
  teacherId: string;
  status: SessionState;
  policy: PolicyView;
  startsAt: string;
  lateAfter: string;
  closesAt: string;
  closedAt: string | null;
  day: string;
  /** Staff only: a student's view leaves it out. */
  room?: unknown;
}
export interface RosterEntry {
  studentId: string;
  name: string;
  studentNumber: string | null;
  status: RosterStatus;
  reason: string | null;
  flags: string[];
  distanceM: number | null;
  accuracyM: number | null;
  attempts: number;
  submittedAt: string | null;
  decidedAt: string | null;
  decidedBy: string | null;
  note: string | null;
  correctionReason: string | null;
  absenceCategory: string | null;
  recordId: string | null;
  recordVersion: number;
  verification: unknown;
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
  version: number;
  entries: RosterEntry[];
  counts: RosterCounts;
}
export interface RosterUpdates {
  sessionId: string;
  updates: { version: number; entry: RosterEntry }[];
}
export interface CheckinView {
  sessionId: string;
  recordId: string;
  status: RecordState;
  reason: string | null;
  flags: string[];
  attempts: number;
  attemptsLeft: number;
  submittedAt: string | null;
  decidedAt: string | null;
  note: string | null;
  recordVersion: number;
  verifying: boolean;
}
export interface CodeView {
  sessionId: string;
  code: string;
  periodS: number;
  expiresAt: string;
  joinToken: string;
}
export interface CloseResult {
  session: SessionView;
  counts: RosterCounts;
}
export interface StudentJoinResult {
  session: SessionView;
  checkin: CheckinView | null;
}
export interface AckError {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}
export type Ack<T> = { ok: true; data: T } | { ok: false; error: AckError };

/** The keys §15 gives each view, to compare with what the server sends. */
export const documentedKeys = {
  SessionView: [
    'id',
    'subjectId',
    'subjectCode',
    'subjectName',
    'teacherId',
    'status',
    'policy',
    'startsAt',
    'lateAfter',
    'closesAt',
    'closedAt',
    'day',
    'room',
  ],
  /** §15: what a student receives of a session is a SessionView without `room`. */
  StudentSessionView: [
    'id',
    'subjectId',
    'subjectCode',
    'subjectName',
    'teacherId',
    'status',
    'policy',
    'startsAt',
    'lateAfter',
    'closesAt',
    'closedAt',
    'day',
  ],
  /** §5.5 and §15: a student's `session:list-active` entry is their SessionView with `checkin` (ListedCheckin, or null before one). */
  StudentListedSession: [
    'id',
    'subjectId',
    'subjectCode',
    'subjectName',
    'teacherId',
    'status',
    'policy',
    'startsAt',
    'lateAfter',
    'closesAt',
    'closedAt',
    'day',
    'checkin',
  ],
  ListedCheckin: ['status', 'attemptsLeft', 'verifying', 'recordVersion'],
  PolicyView: ['preset', 'geofence', 'network', 'rotatingCode', 'selfie', 'liveness', 'codePeriodS', 'maxAttempts'],
  RosterEntry: [
    'studentId',
    'name',
    'studentNumber',
    'status',
    'reason',
    'flags',
    'distanceM',
    'accuracyM',
    'attempts',
    'submittedAt',
    'decidedAt',
    'decidedBy',
    'note',
    'correctionReason',
    'absenceCategory',
    'recordId',
    'recordVersion',
    'verification',
  ],
  RosterCounts: ['present', 'late', 'pending', 'rejected', 'excused', 'absent', 'notYet', 'total'],
  RosterSnapshot: ['session', 'version', 'entries', 'counts'],
  CheckinView: [
    'sessionId',
    'recordId',
    'status',
    'reason',
    'flags',
    'attempts',
    'attemptsLeft',
    'submittedAt',
    'decidedAt',
    'note',
    'recordVersion',
    'verifying',
  ],
  CodeView: ['sessionId', 'code', 'periodS', 'expiresAt', 'joinToken'],
  CloseResult: ['session', 'counts'],
  StudentJoinResult: ['session', 'checkin'],
} as const;

/** The sorted keys of a value that are not the documented ones, and the documented ones it lacks. */
export function keyDiff(view: object, keys: readonly string[]): { extra: string[]; missing: string[] } {
  const have = Object.keys(view);
  return {
    extra: have.filter((k) => !keys.includes(k)).sort(),
    missing: keys.filter((k) => !have.includes(k)).sort(),
  };
}

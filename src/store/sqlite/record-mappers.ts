import type { AttendanceRecord, CheckinLocation, VerificationResult } from '../../domain/ports/records.js';
import type { DailySummary } from '../../domain/ports/summaries.js';
import { RECORD_STATES } from '../../shared/events.js';
import { REASON_CODES } from '../../shared/reasons.js';
import {
  date,
  dateOrNull,
  ms,
  msOrNull,
  nullOr,
  numOrNull,
  oneOf,
  parse,
  parseOrNull,
  str,
  strOrNull,
  type TableSpec,
} from './common-mappers.js';

// Rows of attendance records and daily summaries; TableSpec and the column readers are in common-mappers.ts.

const recordStatus = oneOf(RECORD_STATES, 'records.status');

const recordReason = nullOr(oneOf(REASON_CODES, 'records.reason'));
const recordFlag = oneOf(REASON_CODES, 'records.flags');
const verificationReason = nullOr(oneOf(REASON_CODES, 'records.verification.reason'));
const verificationFlag = oneOf(REASON_CODES, 'records.verification.flags');

// Nested dates are kept as epoch ms inside the JSON columns.
type StoredLocation = Omit<CheckinLocation, 'timestamp'> & { timestamp: number };
type StoredVerification = Omit<VerificationResult, 'completedAt'> & { completedAt: number | null };

export function locationToJson(l: CheckinLocation | null): string | null {
  if (l === null) return null;
  const stored: StoredLocation = { lat: l.lat, lon: l.lon, accuracyM: l.accuracyM, timestamp: ms(l.timestamp) };
  return JSON.stringify(stored);
}

export function verificationToJson(v: VerificationResult | null): string | null {
  if (v === null) return null;
  const stored: StoredVerification = { ...v, flags: [...v.flags], completedAt: msOrNull(v.completedAt) };
  return JSON.stringify(stored);
}

/**
 * A record's values in `records.columns` order, as `records.toRow` maps them: for the record
 * writer's insert, bound by position. better-sqlite3 binds a named parameter with two property
 * lookups through V8's API (`HasOwnProperty`, `Get`) on the row object, by position with one
 * element read: a check-in's two inserts bound 38 parameters by name, about a tenth of the
 * writer thread's CPU (docs/multi-node.md, "round 30, CPU").
 */
export function recordValues(x: AttendanceRecord): unknown[] {
  return [
    x.id,
    x.orgId,
    x.sessionId,
    x.subjectId,
    x.studentId,
    x.status,
    x.reason,
    JSON.stringify(x.flags),
    x.distanceM,
    locationToJson(x.location),
    x.ip,
    x.attempts,
    msOrNull(x.submittedAt),
    msOrNull(x.decidedAt),
    x.decidedBy,
    x.note,
    x.correctionReason ?? null,
    x.absenceCategory ?? null,
    x.deviceId ?? null,
    x.userAgent ?? null,
    verificationToJson(x.verification),
    x.version,
    x.rosterVersion,
    ms(x.createdAt),
    ms(x.updatedAt),
  ];
}

export const records: TableSpec<AttendanceRecord> = {
  table: 'records',
  columns: [
    'id',
    'org_id',
    'session_id',
    'subject_id',
    'student_id',
    'status',
    'reason',
    'flags',
    'distance_m',
    'location',
    'ip',
    'attempts',
    'submitted_at',
    'decided_at',
    'decided_by',
    'note',
    'correction_reason',
    'absence_category',
    'device_id',
    'user_agent',
    'verification',
    'version',
    'roster_version',
    'created_at',
    'updated_at',
  ],
  key: ['id'],
  toRow: (x) => ({
    id: x.id,
    org_id: x.orgId,
    session_id: x.sessionId,
    subject_id: x.subjectId,
    student_id: x.studentId,
    status: x.status,
    reason: x.reason,
    flags: JSON.stringify(x.flags),
    distance_m: x.distanceM,
    location: locationToJson(x.location),
    ip: x.ip,
    attempts: x.attempts,
    submitted_at: msOrNull(x.submittedAt),
    decided_at: msOrNull(x.decidedAt),
    decided_by: x.decidedBy,
    note: x.note,
    correction_reason: x.correctionReason ?? null,
    absence_category: x.absenceCategory ?? null,
    device_id: x.deviceId ?? null,
    user_agent: x.userAgent ?? null,
    verification: verificationToJson(x.verification),
    version: x.version,
    roster_version: x.rosterVersion,
    created_at: ms(x.createdAt),
    updated_at: ms(x.updatedAt),
  }),
  fromRow: (r) => {
    const loc = parseOrNull<StoredLocation>(r.location, 'records.location');
    const ver = parseOrNull<StoredVerification>(r.verification, 'records.verification');
    return {
      id: str(r.id),
      orgId: str(r.org_id),
      sessionId: str(r.session_id),
      subjectId: str(r.subject_id),
      studentId: str(r.student_id),
      status: recordStatus(r.status),
      reason: recordReason(r.reason),
      flags: parse<unknown[]>(r.flags, 'records.flags').map(recordFlag),
      distanceM: numOrNull(r.distance_m),
      location: loc && { ...loc, timestamp: new Date(loc.timestamp) },
      ip: strOrNull(r.ip),
      attempts: r.attempts as number,
      submittedAt: dateOrNull(r.submitted_at),
      decidedAt: dateOrNull(r.decided_at),
      decidedBy: strOrNull(r.decided_by),
      note: strOrNull(r.note),
      ...(r.correction_reason == null ? {} : { correctionReason: str(r.correction_reason) }),
      ...(r.absence_category == null ? {} : { absenceCategory: str(r.absence_category) }),
      ...(r.device_id == null ? {} : { deviceId: str(r.device_id) }),
      ...(r.user_agent == null ? {} : { userAgent: str(r.user_agent) }),
      verification: ver && {
        ...ver,
        flags: ver.flags.map(verificationFlag),
        reason: verificationReason(ver.reason),
        completedAt: dateOrNull(ver.completedAt),
      },
      version: r.version as number,
      rosterVersion: r.roster_version as number,
      createdAt: date(r.created_at),
      updatedAt: date(r.updated_at),
    };
  },
};

export const summaries: TableSpec<DailySummary> = {
  table: 'summaries',
  columns: ['org_id', 'subject_id', 'day', 'present', 'late', 'absent', 'excused', 'total', 'percentage', 'updated_at'],
  key: ['subject_id', 'day'],
  toRow: (s) => ({
    org_id: s.orgId,
    subject_id: s.subjectId,
    day: s.day,
    present: s.present,
    late: s.late,
    absent: s.absent,
    excused: s.excused,
    total: s.total,
    percentage: s.percentage,
    updated_at: ms(s.updatedAt),
  }),
  fromRow: (r) => ({
    orgId: str(r.org_id),
    subjectId: str(r.subject_id),
    day: str(r.day),
    present: r.present as number,
    late: r.late as number,
    absent: r.absent as number,
    excused: r.excused as number,
    total: r.total as number,
    percentage: r.percentage as number,
    updatedAt: date(r.updated_at),
  }),
};

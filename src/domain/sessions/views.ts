import type { SessionStatus } from '../ports/common.js';
import type { AttendanceRecord } from '../ports/records.js';
import type { AttendanceSession } from '../ports/sessions.js';
import type { Subject } from '../ports/subjects.js';
import type { User } from '../ports/users.js';
import type { CheckinView, ListedCheckin, Role, RosterEntry, SessionView, StaffSessionView } from '../../shared/events.js';
import { presetOf } from '../../shared/policy-presets.js';

/** A scheduled session whose start has passed is open, even before anything stored says so. */
export function effectiveStatus(session: AttendanceSession, now: Date): SessionStatus {
  if (session.status === 'scheduled' && session.startsAt.getTime() <= now.getTime()) return 'open';
  return session.status;
}

export function toSessionView(session: AttendanceSession, subject: Subject, now: Date): StaffSessionView {
  return {
    id: session.id,
    subjectId: session.subjectId,
    subjectCode: subject.code,
    subjectName: subject.name,
    teacherId: session.teacherId,
    status: effectiveStatus(session, now),
    policy: { ...session.policy, liveness: session.policy.liveness === true, preset: presetOf(session.policy) },
    startsAt: session.startsAt.toISOString(),
    lateAfter: session.lateAfter.toISOString(),
    closesAt: session.closesAt.toISOString(),
    closedAt: session.closedAt?.toISOString() ?? null,
    day: session.day,
    room: session.room
      ? {
          location: session.room.location
            ? { lat: session.room.location.lat, lon: session.room.location.lon, radiusM: session.room.location.radiusM }
            : null,
          allowedIpRanges: [...session.room.allowedIpRanges],
        }
      : null,
  };
}

/**
 * A session as a student reads it: without its room (the coordinates, radius and networks of
 * where it is held), which stay with the subject's staff. `policy` still says which checks apply.
 */
export function toStudentSessionView(view: SessionView): SessionView {
  const { room: _room, ...rest } = view;
  return rest;
}

/** The view `role` may read: staff the whole session, a student its student view. */
export function sessionViewFor(role: Role, view: SessionView): SessionView {
  return role === 'student' ? toStudentSessionView(view) : view;
}

type RosterStudent = Pick<User, 'id' | 'name' | 'studentNumber'>;

/**
 * `submittedIso`: the record's submission time as ISO text, when the caller made it already (a
 * check-in's own view, built just before its roster entry): `toISOString` costs about eight times
 * a Date's construction (1 to 3 µs on the 2-core machine), and every check-in is viewed twice.
 */
export function toRosterEntry(student: RosterStudent, record: AttendanceRecord | null, submittedIso?: string | null): RosterEntry {
  if (!record) {
    return {
      studentId: student.id,
      name: student.name,
      studentNumber: student.studentNumber,
      status: 'not-yet',
      reason: null,
      flags: [],
      distanceM: null,
      accuracyM: null,
      attempts: 0,
      submittedAt: null,
      decidedAt: null,
      decidedBy: null,
      note: null,
      correctionReason: null,
      absenceCategory: null,
      recordId: null,
      recordVersion: 0,
      verification: null,
    };
  }
  const submittedAt = submittedIso !== undefined ? submittedIso : (record.submittedAt?.toISOString() ?? null);
  return {
    studentId: student.id,
    name: student.name,
    studentNumber: student.studentNumber,
    status: record.status,
    reason: record.reason,
    flags: [...record.flags],
    distanceM: record.distanceM,
    accuracyM: record.location?.accuracyM ?? null,
    attempts: record.attempts,
    submittedAt,
    decidedAt: decidedIso(record, submittedAt),
    decidedBy: record.decidedBy,
    note: record.note,
    correctionReason: record.correctionReason ?? null,
    absenceCategory: record.absenceCategory ?? null,
    recordId: record.id,
    recordVersion: record.version,
    verification: record.verification
      ? { state: record.verification.state, band: record.verification.band, flags: [...record.verification.flags] }
      : null,
  };
}

export function toCheckinView(record: AttendanceRecord, maxAttempts: number): CheckinView {
  const rejected = record.status === 'rejected';
  const submittedAt = record.submittedAt?.toISOString() ?? null;
  return {
    sessionId: record.sessionId,
    recordId: record.id,
    status: record.status,
    reason: record.reason,
    flags: [...record.flags],
    attempts: record.attempts,
    attemptsLeft: rejected ? Math.max(0, maxAttempts - record.attempts) : 0,
    submittedAt,
    decidedAt: decidedIso(record, submittedAt),
    note: record.note,
    recordVersion: record.version,
    verifying: record.verification?.state === 'queued',
  };
}

/** The part of a student's own view the session list carries (ListedCheckin). */
export function toListedCheckin(view: CheckinView): ListedCheckin {
  return { status: view.status, attemptsLeft: view.attemptsLeft, verifying: view.verifying, recordVersion: view.recordVersion };
}

/**
 * The record's decision time as ISO text, given its submission's. A check-in decided on arrival
 * holds one Date in both (checkin-service.ts): its text is made once, not twice, per view, and
 * a check-in is viewed twice (its acknowledgement and its roster entry).
 */
function decidedIso(record: Pick<AttendanceRecord, 'submittedAt' | 'decidedAt'>, submittedIso: string | null): string | null {
  if (record.decidedAt === null) return null;
  return record.decidedAt === record.submittedAt ? submittedIso : record.decidedAt.toISOString();
}

/** Counts have one definition, shared with the pages and the summaries. */
export { countRoster } from '../../shared/counts.js';

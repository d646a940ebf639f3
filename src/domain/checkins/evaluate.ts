import { AppError } from '../../shared/app-error.js';
import { evaluateGeofence, haversineM } from '../checks/geofence.js';
import { evaluateNetwork } from '../checks/network.js';
import { verifyCode, verifyJoinToken } from '../checks/rotating-code.js';
import { evaluateTime } from '../checks/time-window.js';
import type { CheckinLocation } from '../ports/records.js';
import type { AttendanceSession } from '../ports/sessions.js';
import type { Subject } from '../ports/subjects.js';
import { sessionRoom } from '../sessions/room.js';
import type { ReasonCode } from '../../shared/reasons.js';

export interface CheckinEvidence {
  /** Null when the policy has no geofence and the student sent none. */
  location: CheckinLocation | null;
  code?: string | undefined;
  /** The signed token of the classroom QR link: stands for the code through a login. */
  joinToken?: string | undefined;
  ip: string | null;
}

export interface CheckinOutcome {
  status: 'present' | 'late' | 'pending' | 'rejected';
  reason: ReasonCode | null;
  /** Every failing or doubtful check, plus LATE. */
  flags: ReasonCode[];
  distanceM: number | null;
}

/** A fix from the future beyond this is a wrong device clock or a forged timestamp. */
const MAX_CLOCK_SKEW_MS = 30_000;

/**
 * Runs the checks the policy names. Any failing check rejects; otherwise any doubtful check
 * (an imprecise fix) sends the check-in to the teacher as pending; otherwise present, or late
 * after lateAfter. The first failing (or doubtful) check gives the reason; all go in flags.
 * The geofence and the network are the session's room's, else the subject's (room.ts).
 */
export function evaluateCheckin(
  session: AttendanceSession,
  subject: Subject,
  evidence: CheckinEvidence,
  now: Date,
  locationMaxAgeS: number,
): CheckinOutcome {
  const failures: ReasonCode[] = [];
  const doubts: ReasonCode[] = [];
  const { policy } = session;
  const { location } = evidence;
  const room = sessionRoom(session, subject);

  // The service refuses a geofence check-in without a fix before it gets here.
  if (policy.geofence && !location) throw new AppError('LOCATION_REQUIRED', undefined, { field: 'location' });
  // A fix the policy does not need is kept for staff (distance) but cannot reject the student.
  if (location && policy.geofence) {
    const age = now.getTime() - location.timestamp.getTime();
    // An invalid fix time (NaN age) fails every comparison below, so it is refused on its own.
    if (!Number.isFinite(age) || age > locationMaxAgeS * 1000 || age < -MAX_CLOCK_SKEW_MS) failures.push('LOCATION_STALE');
  }

  let distanceM: number | null = null;
  if (room.location && location) {
    if (policy.geofence) {
      const g = evaluateGeofence(room.location, location);
      distanceM = g.distanceM;
      if (g.outcome === 'fail') failures.push(g.reason);
      else if (g.outcome === 'review') doubts.push(g.reason);
    } else {
      distanceM = Math.round(haversineM(room.location, location) * 10) / 10;
    }
  }

  if (policy.network) {
    const n = evaluateNetwork(evidence.ip, room.allowedIpRanges);
    if (n.outcome === 'fail') failures.push(n.reason);
  }

  if (policy.rotatingCode) {
    const { code, joinToken } = evidence;
    const codeOk = Boolean(code) && verifyCode(session.codeSecret, policy.codePeriodS, code ?? '', now) !== 'invalid';
    const tokenOk = Boolean(joinToken) && verifyJoinToken(session.codeSecret, policy.codePeriodS, joinToken ?? '', now);
    if (!code && !joinToken) failures.push('CODE_MISSING');
    else if (!codeOk && !tokenOk) failures.push('CODE_INVALID');
  }

  const late = evaluateTime(session, now) === 'late';
  const rejected = failures.length > 0;
  const doubtful = doubts.length > 0;
  const reason = rejected ? failures[0]! : doubtful ? doubts[0]! : late ? 'LATE' : null;
  // The failures' own array becomes the flags (its reason read above), not a copy of both.
  const flags = doubtful ? failures.concat(doubts) : failures;
  if (late) flags.push('LATE');

  if (rejected) return { status: 'rejected', reason, flags, distanceM };
  if (doubtful) return { status: 'pending', reason, flags, distanceM };
  return { status: late ? 'late' : 'present', reason, flags, distanceM };
}

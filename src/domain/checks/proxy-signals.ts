/**
 * Signs that one person is checking in for another (docs/protocol.md, "Proxy signals"). Each
 * gives a flag for the teacher, never a refusal by itself: every one of them also happens to
 * honest students (a shared family phone, two phones on one desk, a GPS that jumps indoors).
 */
import { haversineM } from './geofence.js';
import type { AttendanceRecord, CheckinLocation, PeerMark } from '../ports/records.js';
import type { ReasonCode } from '../../shared/reasons.js';

export interface CheckinSignals {
  studentId: string;
  location: CheckinLocation | null;
  /** The id the student page keeps in the browser's storage; null from other clients. */
  deviceId: string | null;
  ip: string | null;
  userAgent: string | null;
}

/** Two fixes closer than this are "identical to the metre": two phones never agree so well. */
export const DUPLICATE_FIX_M = 1;
/** Faster than this between two fixes of one student (about 180 km/h) is not walking to class. */
export const MAX_PLAUSIBLE_SPEED_MPS = 50;
/** Jumps shorter than this are GPS noise whatever the time between the fixes. */
const MIN_JUMP_M = 200;
/** A reported accuracy at or under this is what mock-location apps send (real GPS reports metres). */
export const MOCK_ACCURACY_M = 1;

/**
 * Half-side, in degrees, of a box around a fix that holds every point within DUPLICATE_FIX_M of
 * it (with a margin), for the store to narrow the candidates; longitude degrees shrink with
 * latitude. Kept tight: a full classroom lies within a few metres and must not all be read.
 */
export function fixSearchBoxDeg(lat: number): number {
  const metresPerDegree = 111_320 * Math.max(Math.cos((lat * Math.PI) / 180), 0.01);
  return (1.5 * DUPLICATE_FIX_M) / metresPerDegree;
}

/** What the signals read of another record of the session. */
export type Peer = Pick<PeerMark, 'studentId' | 'location'> & Partial<Pick<PeerMark, 'deviceId' | 'ip' | 'userAgent'>>;

/**
 * The questions the signals ask of the session's other records (other students' latest attempts;
 * the student's own are never counted): answered by an index (./peer-index.ts), not a pass over
 * the session, since they are asked for every check-in.
 */
export interface PeerLookup {
  /**
   * Another student's record shares the check-in's device: the same page storage (device id) or,
   * when either side has none, the same address and the same browser build (a school network
   * puts every phone behind one address, so the address alone says nothing).
   */
  sharesDevice(current: CheckinSignals): boolean;
  /** Another student's fix lies within DUPLICATE_FIX_M of the check-in's. */
  hasDuplicateFix(current: CheckinSignals): boolean;
}

/** The flags for a check-in, given the session's other records and the student's own previous record (an earlier attempt, if any). */
export function proxySignals(current: CheckinSignals, peers: PeerLookup, previous: AttendanceRecord | null): ReasonCode[] {
  const flags: ReasonCode[] = [];
  const fix = current.location;
  if (peers.sharesDevice(current)) flags.push('SHARED_DEVICE');
  if (fix) {
    if (peers.hasDuplicateFix(current)) flags.push('LOCATION_DUPLICATE');
    if (previous?.location && impossibleJump(previous.location, fix)) flags.push('LOCATION_JUMP');
    if (fix.accuracyM <= MOCK_ACCURACY_M) flags.push('LOCATION_MOCK_SUSPECTED');
  }
  return flags;
}

function impossibleJump(a: CheckinLocation, b: CheckinLocation): boolean {
  const metres = haversineM(a, b);
  if (metres < MIN_JUMP_M) return false;
  const seconds = Math.abs(b.timestamp.getTime() - a.timestamp.getTime()) / 1000;
  return seconds === 0 || metres / seconds > MAX_PLAUSIBLE_SPEED_MPS;
}

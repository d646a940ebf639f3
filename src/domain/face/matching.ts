import type { ReasonCode } from '../../shared/reasons.js';

/**
 * Pure face-matching rules: distances between L2-normalised embeddings, the decision band
 * from configured thresholds, and the anti-proxy check. No I/O, no models.
 */

export type Embedding = ArrayLike<number>;

/** confident: accept (other checks permitting); uncertain: teacher review; mismatch: reject. */
export type Band = 'confident' | 'uncertain' | 'mismatch';

export interface Thresholds {
  /** Distance at or below which a match is confident. */
  confident: number;
  /** Distance at or below which a match is uncertain; above it, a mismatch. */
  uncertain: number;
}

/** The thresholds when FACE_CONFIDENT_DISTANCE and FACE_UNCERTAIN_DISTANCE are not set. */
export const DEFAULT_CONFIDENT_DISTANCE = 0.4;
export const DEFAULT_UNCERTAIN_DISTANCE = 0.48;

/** Returns a unit-length copy; a zero vector stays zero. */
export function normalise(v: ArrayLike<number>): Float32Array {
  let sq = 0;
  for (let i = 0; i < v.length; i++) sq += v[i]! * v[i]!;
  const out = new Float32Array(v.length);
  if (sq === 0) return out;
  const k = 1 / Math.sqrt(sq);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! * k;
  return out;
}

/** Euclidean distance. Embeddings of different models are not comparable: lengths must agree. */
export function distance(a: Embedding, b: Embedding): number {
  if (a.length !== b.length) throw new RangeError(`embedding lengths differ: ${a.length} vs ${b.length}`);
  let sq = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    sq += d * d;
  }
  return Math.sqrt(sq);
}

/** Smallest distance from a probe to any of a student's enrolled embeddings; null if none. */
export function bestDistance(probe: Embedding, enrolled: readonly Embedding[]): number | null {
  let best: number | null = null;
  for (const e of enrolled) {
    const d = distance(probe, e);
    if (best === null || d < best) best = d;
  }
  return best;
}

export function bandOf(d: number, t: Thresholds): Band {
  if (d <= t.confident) return 'confident';
  if (d <= t.uncertain) return 'uncertain';
  return 'mismatch';
}

export function bandReason(band: Band): ReasonCode {
  return band === 'confident' ? 'FACE_MATCH' : band === 'uncertain' ? 'FACE_UNCERTAIN' : 'FACE_MISMATCH';
}

/** Another face the probe is compared with for anti-proxy. */
export interface OtherFace {
  studentId: string;
  embeddings: readonly Embedding[];
  /** 'enrolled': the student's reference photos; 'session': a selfie already checked in as them. */
  source: 'enrolled' | 'session';
}

export interface ProxyCheck {
  flagged: boolean;
  /** The closest other student, when one is within the uncertain threshold. */
  closest: { studentId: string; source: OtherFace['source']; distance: number } | null;
}

/**
 * Flags a possible proxy when some other student (by enrolment, or by a selfie already
 * accepted as theirs in this session) matches the probe better than the claimed student and
 * within the uncertain threshold. A claimed student with no enrolment has no distance to beat,
 * so the other face must be a confident match: a selfie is compared with every classmate and
 * every selfie of the session, and about 1 in 13 different people fall within the uncertain
 * band, so in a class of a hundred nearly every unenrolled student was flagged.
 */
export function checkProxy(probe: Embedding, claimedDistance: number | null, others: readonly OtherFace[], t: Thresholds): ProxyCheck {
  let closest: ProxyCheck['closest'] = null;
  for (const other of others) {
    const d = bestDistance(probe, other.embeddings);
    if (d === null || d > t.uncertain) continue;
    if (closest === null || d < closest.distance) closest = { studentId: other.studentId, source: other.source, distance: d };
  }
  const flagged = closest !== null && (claimedDistance === null ? closest.distance <= t.confident : closest.distance < claimedDistance);
  return { flagged, closest };
}

export interface FaceVerdict {
  /** 'not-enrolled' when the claimed student has no embeddings of this model. */
  band: Band | 'not-enrolled';
  /** Best distance to the claimed student; internal, never sent to students. */
  distance: number | null;
  proxy: ProxyCheck;
  reasons: ReasonCode[];
}

/**
 * The whole decision for one selfie: band against the claimed student's enrolment, plus the
 * anti-proxy check against the other students. Reasons are ready for the check-in record.
 */
export function verifyFace(probe: Embedding, claimed: readonly Embedding[], others: readonly OtherFace[], t: Thresholds): FaceVerdict {
  if (!(t.confident <= t.uncertain)) throw new RangeError('thresholds: confident must not exceed uncertain');
  const d = bestDistance(probe, claimed);
  const band: FaceVerdict['band'] = d === null ? 'not-enrolled' : bandOf(d, t);
  const proxy = checkProxy(probe, d, others, t);
  const reasons: ReasonCode[] = [band === 'not-enrolled' ? 'FACE_NOT_ENROLLED' : bandReason(band)];
  if (proxy.flagged) reasons.push('POSSIBLE_PROXY');
  return { band, distance: d, proxy, reasons };
}

import { LIVENESS_MIN_FRAMES, type LivenessChallenge } from '../../shared/liveness.js';
import { distance, type Thresholds } from './matching.js';
import type { FramePose } from './face-types.js';

/**
 * The active-liveness verdict, from the face mesh of a few frames (docs/face.md §Liveness).
 * Pure: the worker measures each frame with `poseOf`, the main thread calls `evaluateLiveness`
 * with the selfie's embedding. The measures are 2-D ratios of mesh points, so a printed photo
 * moved, tilted or rolled in front of the camera keeps them (an affine image of a flat face
 * keeps ratios along a line); only a head that turns in depth moves the nose across the face.
 */

/** MediaPipe face-mesh indices (human's 468-point mesh); "right" is the subject's right, image left. */
export const MESH = {
  noseTip: 1,
  rightEdge: 234,
  leftEdge: 454,
  /** Eye contour points p1..p6 of the eye-aspect ratio: corner, two upper lid, corner, two lower lid. */
  rightEye: [33, 160, 158, 133, 153, 144],
  leftEye: [362, 385, 387, 263, 373, 380],
} as const;

/**
 * Smallest change of `turn` in the asked direction: the nose crossing a quarter of the half
 * face width, about 15-20 degrees of yaw for an adult head (nose tip 5-6 cm in front of the
 * cheek edges, half width 7-8 cm: turn ~ 0.75 tan(yaw)).
 */
export const MIN_TURN_CHANGE = 0.25;
/** A blink: one frame's eye-aspect ratio under this share of the open value in another frame. */
export const BLINK_RATIO = 0.6;
/** Open eyes measure about 0.25-0.35; under this no frame shows the eyes open. */
export const MIN_OPEN_EAR = 0.12;

export interface Pose {
  /**
   * Signed offset of the nose tip from the middle of the face, along the line between the two
   * face edges, in half face widths: 0 facing the camera, > 0 turned to the subject's own left
   * (the nose moves to the image's right in an unmirrored camera frame), < 0 to the right.
   */
  turn: number;
  /** Mean eye-aspect ratio of both eyes: lid gap over eye width, falls towards 0 when closed. */
  ear: number;
}

type MeshPoint = readonly number[];

/** The pose measures of one face mesh, or null when the mesh lacks a needed point or is degenerate. */
export function poseOf(mesh: readonly MeshPoint[]): Pose | null {
  const at = (i: number): MeshPoint | null => {
    const p = mesh[i];
    return p && p.length >= 2 && Number.isFinite(p[0]) && Number.isFinite(p[1]) ? p : null;
  };
  const nose = at(MESH.noseTip),
    r = at(MESH.rightEdge),
    l = at(MESH.leftEdge);
  if (!nose || !r || !l) return null;
  const ex = l[0]! - r[0]!,
    ey = l[1]! - r[1]!;
  const width = Math.hypot(ex, ey);
  if (width < 1e-6) return null;
  const mx = (l[0]! + r[0]!) / 2,
    my = (l[1]! + r[1]!) / 2;
  const turn = ((nose[0]! - mx) * ex + (nose[1]! - my) * ey) / width / (width / 2);
  const right = eyeAspect(MESH.rightEye.map(at)),
    left = eyeAspect(MESH.leftEye.map(at));
  if (right === null || left === null) return null;
  return { turn, ear: (right + left) / 2 };
}

function eyeAspect(p: Array<MeshPoint | null>): number | null {
  if (p.some((q) => q === null)) return null;
  const [p1, p2, p3, p4, p5, p6] = p as MeshPoint[];
  const d = (a: MeshPoint, b: MeshPoint) => Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!);
  const across = d(p1!, p4!);
  if (across < 1e-6) return null;
  return (d(p2!, p6!) + d(p3!, p5!)) / (2 * across);
}

export type LivenessFailure =
  /** Fewer than LIVENESS_MIN_FRAMES frames showed one face. */
  | 'too-few-frames'
  /** A frame showed more than one face. */
  | 'face-multiple'
  /** A frame's face is not the selfie's face. */
  | 'other-face'
  /** The head turned the other way. */
  | 'wrong-direction'
  /** No turn, or no blink, in the frames: a still image or replay. */
  | 'no-movement'
  /** The face engine cannot measure frames (no face mesh); nothing was checked. */
  | 'unavailable';

export interface LivenessVerdict {
  passed: boolean;
  failure: LivenessFailure | null;
  /** Turn change in the asked direction, or the closed share of the open eye (1 - min/max EAR). */
  motion: number;
  /** Largest distance of a frame's face to the selfie; null when no frame had a face. */
  maxDistance: number | null;
}

/**
 * Decides whether `frames` (in capture order) show the challenge performed by the selfie's
 * face. Frames without a face are skipped while enough remain (a turned head may lose the
 * detector); a second face fails. Every face must be the selfie's within the `uncertain`
 * distance and one within `confident`, so a turn by someone else in front of a still photo fails.
 */
export function evaluateLiveness(
  challenge: LivenessChallenge,
  frames: readonly FramePose[],
  selfie: readonly number[],
  thresholds: Thresholds,
): LivenessVerdict {
  if (frames.some((f) => !f.ok && f.reason === 'FACE_MULTIPLE')) return failed('face-multiple', 0, null);
  const seen = frames.filter((f): f is Extract<FramePose, { ok: true }> => f.ok);
  const distances = seen.map((f) => distance(selfie, f.embedding));
  const maxDistance = distances.length > 0 ? Math.max(...distances) : null;
  if (seen.length < LIVENESS_MIN_FRAMES) return failed('too-few-frames', 0, maxDistance);
  if (maxDistance! > thresholds.uncertain || Math.min(...distances) > thresholds.confident) {
    return failed('other-face', 0, maxDistance);
  }
  if (challenge === 'blink') {
    const motion = blinkDepth(seen.map((f) => f.ear));
    return motion >= 1 - BLINK_RATIO ? { passed: true, failure: null, motion, maxDistance } : failed('no-movement', motion, maxDistance);
  }
  const sign = challenge === 'turn-left' ? 1 : -1;
  const turns = seen.map((f) => f.turn);
  const asked = largestRise(turns.map((t) => sign * t));
  if (asked >= MIN_TURN_CHANGE) return { passed: true, failure: null, motion: asked, maxDistance };
  const other = largestRise(turns.map((t) => -sign * t));
  return failed(other >= MIN_TURN_CHANGE ? 'wrong-direction' : 'no-movement', asked, maxDistance);
}

/** The largest later-minus-earlier difference in the sequence (0 when it never rises). */
function largestRise(values: readonly number[]): number {
  let low = Number.POSITIVE_INFINITY,
    best = 0;
  for (const v of values) {
    best = Math.max(best, v - low);
    low = Math.min(low, v);
  }
  return best;
}

/** 1 - (closed EAR / open EAR) for the deepest dip against the widest-open other frame; 0 if none is open. */
function blinkDepth(ears: readonly number[]): number {
  let best = 0;
  ears.forEach((closed, i) => {
    const open = Math.max(...ears.filter((_, j) => j !== i));
    if (open >= MIN_OPEN_EAR) best = Math.max(best, 1 - closed / open);
  });
  return best;
}

function failed(failure: LivenessFailure, motion: number, maxDistance: number | null): LivenessVerdict {
  return { passed: false, failure, motion, maxDistance };
}

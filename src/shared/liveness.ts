/**
 * Active liveness (docs/face.md §Liveness): the short challenges a student may be asked to
 * perform, and how many frames the page sends. Browser-safe: no Node imports.
 */
export const LIVENESS_CHALLENGES = ['turn-left', 'turn-right', 'blink'] as const;
export type LivenessChallenge = (typeof LIVENESS_CHALLENGES)[number];

/** Frames the page sends with the selfie, captured over at most `LIVENESS_CAPTURE_MS`. */
export const LIVENESS_MIN_FRAMES = 3;
export const LIVENESS_MAX_FRAMES = 6;
export const LIVENESS_CAPTURE_MS = 3_000;
/** Largest encoded frame: the page sends small JPEGs (longest side about 320 px). */
export const LIVENESS_MAX_FRAME_BYTES = 150_000;

/** What the student page shows, by challenge. "Left" is the student's own left. */
export const LIVENESS_PROMPTS: Record<LivenessChallenge, string> = {
  'turn-left': 'Slowly turn your head to your left',
  'turn-right': 'Slowly turn your head to your right',
  blink: 'Blink once',
};

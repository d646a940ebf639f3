/**
 * What the student page adds to a selfie refused for its image: what to change before the next
 * try. The reason alone ("Another face about as large as the main one is in the selfie.") says
 * what failed, not how to take one that passes (docs/face.md "Known limits" gives how often each
 * reason refuses a photo).
 */
import type { CheckinView } from '../../shared/events.js';
import type { ReasonCode } from '../../shared/reasons.js';
import type { studentEn } from '../locales/student-en.js';

type RetakeKey = Extract<keyof typeof studentEn, `student.retake.${string}`>;

/** The refusals a better photo can cure, each with its advice; other rejections have none. */
const RETAKE: Partial<Record<ReasonCode, RetakeKey>> = {
  FACE_NOT_FOUND: 'student.retake.noFace',
  FACE_MULTIPLE: 'student.retake.oneFace',
  FACE_TOO_SMALL: 'student.retake.closer',
  FACE_LOW_QUALITY: 'student.retake.light',
  FACE_MISMATCH: 'student.retake.ownFace',
  IMAGE_INVALID: 'student.retake.camera',
  IMAGE_TOO_LARGE: 'student.retake.camera',
  IMAGE_TOO_MANY_PIXELS: 'student.retake.camera',
  IMAGE_UNSUPPORTED_TYPE: 'student.retake.camera',
};

/** The advice's catalog key for a rejected check-in that may be tried again, else null. */
export function retakeAdvice(view: Pick<CheckinView, 'status' | 'reason' | 'attemptsLeft'>): RetakeKey | null {
  if (view.status !== 'rejected' || view.attemptsLeft <= 0 || view.reason === null) return null;
  return RETAKE[view.reason] ?? null;
}

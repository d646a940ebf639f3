import type { AnalyseResult } from './face-types.js';
import { verifyFace, type OtherFace } from './matching.js';
import type { ReasonCode } from '../../shared/reasons.js';
import type { RecordStatus } from '../ports/common.js';
import type { VerificationResult } from '../ports/records.js';
import type { FaceDecisionSettings } from './face-engine.js';
import type { LivenessVerdict } from './liveness.js';

/** The non-selfie checks' verdict, kept from submission: a doubt there still needs review. */
export interface BaseOutcome {
  status: 'present' | 'late' | 'pending';
  reason: ReasonCode | null;
  flags: ReasonCode[];
}

export interface SelfieDecision {
  status: Extract<RecordStatus, 'present' | 'late' | 'pending' | 'rejected'>;
  reason: ReasonCode;
  flags: ReasonCode[];
  verification: VerificationResult;
}

/**
 * Turns an analysis and the enrolled faces into the record's new state. Rules:
 * - a refused image (no face, several, too small, blurred, unreadable) rejects with its reason;
 * - no enrolment: pending FACE_NOT_ENROLLED, the teacher decides; an enrolment made with another
 *   face model is never compared and reads FACE_REENROL_NEEDED, so the student is asked to re-enrol;
 * - mismatch rejects (a retry is allowed per maxAttempts), uncertain goes to review;
 * - antispoof/liveness under threshold and a possible proxy are review flags, never a sole reject
 *   (a proxy outranks a mismatch: the teacher should see who the face looks like);
 * - a failed liveness challenge (when the policy asks for one) sends a matching selfie to review
 *   with LIVENESS_FAILED: it is never accepted automatically, and the teacher decides;
 * - confident accepts as present/late unless another check asked for review.
 */
export function decideSelfie(
  base: BaseOutcome,
  analysis: AnalyseResult,
  claimed: readonly (readonly number[])[],
  others: readonly OtherFace[],
  settings: FaceDecisionSettings,
  at: Date,
  liveness: LivenessVerdict | null = null,
  claimedOutdated = false,
): SelfieDecision {
  if (!analysis.ok) {
    return {
      status: 'rejected',
      reason: analysis.reason,
      flags: [...base.flags, analysis.reason],
      verification: {
        state: 'done',
        band: null,
        distance: null,
        flags: [analysis.reason],
        reason: analysis.reason,
        completedAt: at,
        probe: null,
      },
    };
  }
  const face = analysis.faces[0]!;
  const probe = Array.from(face.embedding);
  const verdict = verifyFace(probe, claimed, others, settings);
  const faceFlags: ReasonCode[] = verdict.band === 'not-enrolled' && claimedOutdated ? ['FACE_REENROL_NEEDED'] : [...verdict.reasons];
  const spoof = (face.real !== null && face.real < settings.minReal) || (face.live !== null && face.live < settings.minLive);
  if (spoof) faceFlags.push('SPOOF_SUSPECTED');
  if (liveness) faceFlags.push(liveness.passed ? 'LIVENESS_OK' : 'LIVENESS_FAILED');
  const bandReason = faceFlags[0]!;
  const verification: VerificationResult = {
    state: 'done',
    band: verdict.band === 'not-enrolled' ? 'no-enrolment' : verdict.band,
    distance: verdict.distance,
    flags: faceFlags,
    reason: bandReason,
    completedAt: at,
    probe,
  };
  const flags = [...base.flags, ...faceFlags.filter((f) => f !== 'FACE_MATCH' && f !== 'LIVENESS_OK')];

  const review = (reason: ReasonCode): SelfieDecision => ({ status: 'pending', reason, flags, verification });
  if (verdict.proxy.flagged) return review('POSSIBLE_PROXY');
  if (verdict.band === 'mismatch') return { status: 'rejected', reason: 'FACE_MISMATCH', flags, verification };
  if (verdict.band === 'not-enrolled') return review(bandReason);
  if (verdict.band === 'uncertain') return review('FACE_UNCERTAIN');
  if (liveness && !liveness.passed) return review('LIVENESS_FAILED');
  if (spoof) return review('SPOOF_SUSPECTED');
  if (base.status === 'pending') return review(base.reason ?? 'FACE_MATCH');
  return { status: base.status, reason: base.status === 'late' ? 'LATE' : 'FACE_MATCH', flags, verification };
}

/** Verification of a selfie whose analysis could not run (worker crash, timeout, shutdown). */
export function failedVerification(at: Date): VerificationResult {
  return { state: 'failed', band: null, distance: null, flags: [], reason: null, completedAt: at, probe: null };
}

/**
 * A selfie of a student without a standing face consent (never given, or withdrawn before the
 * analysis ran): not analysed, and the teacher decides, visibly.
 */
export function noConsentDecision(base: BaseOutcome, at: Date): SelfieDecision {
  return {
    status: 'pending',
    reason: 'FACE_NO_CONSENT',
    flags: [...base.flags, 'FACE_NO_CONSENT'],
    verification: {
      state: 'done',
      band: null,
      distance: null,
      flags: ['FACE_NO_CONSENT'],
      reason: 'FACE_NO_CONSENT',
      completedAt: at,
      probe: null,
    },
  };
}

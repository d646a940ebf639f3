/**
 * Reason codes attached to attendance records and check-in decisions (why a check-in was
 * accepted, sent to review or rejected). Distinct from ErrorCodes: a rejected check-in is a
 * successful command whose outcome is 'rejected'. Shared with clients; no Node imports.
 */
export const ReasonCodes = {
  // geofence
  GEOFENCE_OK: 'Inside the classroom area.',
  GEOFENCE_OUTSIDE: 'The location is outside the classroom area.',
  GEOFENCE_IMPRECISE: 'The location is too imprecise to decide; the teacher reviews it.',
  LOCATION_STALE: 'The location fix is too old.',
  // network
  NETWORK_OK: 'The device is on an allowed network.',
  NETWORK_NOT_ALLOWED: 'The device is not on an allowed network.',
  // rotating code
  CODE_OK: 'The session code is correct.',
  CODE_MISSING: 'The session code is required.',
  CODE_INVALID: 'The session code is wrong or expired.',
  // time
  LATE: 'Checked in after the late-after time.',
  // proxy signals (flags for the teacher, never refusals by themselves)
  SHARED_DEVICE: 'Another student checked in from the same device in this session.',
  LOCATION_DUPLICATE: "The location is identical to another student's, to the metre.",
  LOCATION_JUMP: 'The location jumped impossibly far since the previous attempt.',
  LOCATION_MOCK_SUSPECTED: 'The reported accuracy is typical of a location-faking app.',
  // selfie
  SELFIE_REQUIRED: 'A selfie is required.',
  SELFIE_PENDING: 'The selfie is being verified.',
  FACE_CHECK_FAILED: 'The selfie could not be checked (the face engine failed or was too slow); the teacher reviews it.',
  FACE_MATCH: 'The selfie matches the enrolled face.',
  FACE_UNCERTAIN: 'The selfie match is uncertain; the teacher reviews it.',
  FACE_MISMATCH: 'The selfie does not match the enrolled face.',
  FACE_NOT_ENROLLED: 'No enrolled face; the teacher reviews it.',
  FACE_REENROL_NEEDED: 'The enrolled face was made with an earlier face model and must be enrolled again; the teacher reviews it.',
  FACE_NO_CONSENT: 'No recorded consent to face verification; the selfie was not used and the teacher reviews it.',
  FACE_NOT_FOUND: 'No face was found in the selfie.',
  FACE_MULTIPLE: 'Another face about as large as the main one is in the selfie.',
  FACE_TOO_SMALL: 'The face is too small in the selfie.',
  FACE_LOW_QUALITY: 'The selfie is too blurred or too dark.',
  IMAGE_INVALID: 'The image could not be read.',
  IMAGE_TOO_LARGE: 'The image file is too large.',
  IMAGE_TOO_MANY_PIXELS: 'The image has too many pixels.',
  IMAGE_UNSUPPORTED_TYPE: 'Only JPEG, PNG and WebP images are accepted.',
  ENROLMENT_INCONSISTENT: 'This reference photo does not look like the same person as the others.',
  POSSIBLE_PROXY: 'The selfie looks like another student.',
  SPOOF_SUSPECTED: 'The selfie may be a photo of a photo or a screen.',
  LIVENESS_OK: 'The liveness challenge was performed by the same face.',
  LIVENESS_FAILED:
    'The liveness challenge was not performed (a still photo or replay, another face, or no movement); the teacher reviews it.',
  // teacher and system decisions
  ACCEPTED_BY_TEACHER: 'Accepted by the teacher.',
  REJECTED_BY_TEACHER: 'Rejected by the teacher.',
  MARKED_BY_TEACHER: 'Marked by the teacher.',
  CORRECTED_BY_TEACHER: 'Corrected by the teacher after closing.',
  MARKED_FROM_CLASS_PHOTO: 'Marked present by the teacher from a class photo.',
  NO_CHECKIN: 'No check-in before the session closed.',
  EXCUSED: 'An approved excuse covers this session.',
  PENDING_AT_CLOSE: 'Still pending when the session closed.',
  UNRESOLVED_AT_CLOSE: 'Left unresolved when the session closed; the teacher may correct it.',
} as const;

export type ReasonCode = keyof typeof ReasonCodes;
export const REASON_CODES = Object.keys(ReasonCodes) as [ReasonCode, ...ReasonCode[]];

export function isReasonCode(value: unknown): value is ReasonCode {
  return typeof value === 'string' && Object.hasOwn(ReasonCodes, value);
}

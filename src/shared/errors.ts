/**
 * The one table of error codes shared by the HTTP API, the Socket.IO acknowledgements and
 * clients. This file must stay free of Node-only imports so browser clients can import it.
 */
export const ErrorCodes = {
  // generic
  VALIDATION_FAILED: { status: 400, message: 'The request is invalid.' },
  MALFORMED_JSON: { status: 400, message: 'The request body is not valid JSON.' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'The content type is not supported.' },
  NOT_FOUND: { status: 404, message: 'Not found.' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'This method is not allowed here; the Allow header lists those that are.' },
  CONFLICT: { status: 409, message: 'The request conflicts with the current state.' },
  RATE_LIMITED: { status: 429, message: 'Too many requests; retry later.' },
  // Also an overloaded node's refusal of a Socket.IO handshake, before it began (admission.ts).
  BUSY: { status: 503, message: 'The service is busy; retry later.' },
  UNAVAILABLE: { status: 503, message: 'A dependency is unavailable.' },
  INTERNAL: { status: 500, message: 'Internal error.' },
  // authentication and authorization
  UNAUTHENTICATED: { status: 401, message: 'Authentication is required.' },
  TOKEN_INVALID: { status: 401, message: 'The token is invalid.' },
  TOKEN_EXPIRED: { status: 401, message: 'The token has expired.' },
  TOKEN_REVOKED: { status: 401, message: 'This login was ended (logged out or revoked); log in again.' },
  INVALID_CREDENTIALS: { status: 401, message: 'Email or password is wrong.' },
  ACCOUNT_DISABLED: { status: 403, message: 'The account is deactivated.' },
  REFRESH_TOKEN_INVALID: { status: 401, message: 'The refresh token is invalid or revoked.' },
  REFRESH_TOKEN_REUSED: {
    status: 401,
    message: 'The refresh token was already used; every session of this login was revoked.',
  },
  ORGANISATION_REQUIRED: {
    status: 400,
    message: 'This email and password open accounts in several organisations; name the organisation.',
  },
  FORBIDDEN: { status: 403, message: 'You are not allowed to do this.' },
  ORGANISATION_DISABLED: { status: 403, message: 'The organisation is deactivated.' },
  PASSWORD_CHANGE_REQUIRED: {
    status: 403,
    message: 'Change your password first (POST /api/v1/me/password); until then only that and /me answer.',
  },
  CURRENT_PASSWORD_WRONG: { status: 400, message: 'The current password is wrong.' },
  LINK_INVALID: {
    status: 400,
    message: 'This link is invalid, expired or already used; ask for a new one.',
  },
  UNSUBSCRIBE_LINK_INVALID: {
    status: 400,
    message: 'This unsubscribe link is not valid; change your email preferences in the app, or ask the school if you have no account.',
  },
  // domain
  EMAIL_TAKEN: { status: 409, message: 'A user with this email already exists.' },
  ORGANISATION_SLUG_TAKEN: { status: 409, message: 'An organisation with this slug already exists.' },
  SUBJECT_CODE_TAKEN: { status: 409, message: 'A subject with this code already exists.' },
  SUBJECT_ARCHIVED: { status: 409, message: 'The subject is archived: it takes no new session, meeting or enrolment; unarchive it first.' },
  SUBJECT_HAS_SESSIONS: {
    status: 409,
    message: 'The subject has a session open or scheduled: close or cancel it before archiving the subject.',
  },
  NOT_ENROLLED: { status: 403, message: 'The student is not enrolled in this subject.' },
  NOT_SUBJECT_TEACHER: { status: 403, message: 'You do not teach this subject.' },
  SESSION_NOT_FOUND: { status: 404, message: 'No such attendance session.' },
  SESSION_NOT_OPEN: { status: 409, message: 'The session is not open yet.' },
  SESSION_CLOSED: { status: 409, message: 'The session is closed.' },
  SESSION_NOT_CLOSED: { status: 409, message: 'The session is still open.' },
  CLOSE_TIMED_OUT: { status: 503, message: 'Closing the session took too long; close it again.' },
  SESSION_NOT_JOINED: { status: 409, message: 'Join the session first.' },
  SESSION_ALREADY_OPEN: {
    status: 409,
    message: 'This subject already has a session at that time; details.sessionIds names it. Send parallel: true to open another anyway.',
  },
  TEACHER_DOUBLE_BOOKED: {
    status: 409,
    message:
      'The teacher already has a session or meeting of another subject at that time; details names it. Send teacherOverlap: true to hold both anyway.',
  },
  SESSION_CANCELLED: { status: 409, message: 'The session was cancelled.' },
  SESSION_TRANSITION_REFUSED: { status: 409, message: 'The session cannot make this change from its current status.' },
  REOPEN_WINDOW_PASSED: { status: 409, message: 'The session closed too long ago to be reopened; correct its records instead.' },
  OUTSIDE_WINDOW: { status: 409, message: 'The check-in is outside the session window.' },
  LOCATION_REQUIRED: { status: 400, message: "This session's checks need your location; share it and try again." },
  POLICY_UNSUPPORTED: { status: 400, message: 'The policy asks for a check this service cannot run.' },
  LIVENESS_REQUIRED: {
    status: 400,
    message: 'This session asks for a liveness challenge: ask for one (checkin:challenge) and send its frames.',
  },
  LIVENESS_CHALLENGE_INVALID: { status: 400, message: 'The liveness challenge is expired or not for this check-in; ask for a new one.' },
  LIVENESS_NOT_REQUIRED: { status: 409, message: 'This session does not ask for a liveness challenge.' },
  SUBJECT_LOCATION_MISSING: {
    status: 400,
    message: 'The policy requires a geofence but the subject has no classroom location.',
  },
  SUBJECT_NETWORK_MISSING: {
    status: 400,
    message: 'The policy requires a network check but the subject has no allowed IP ranges.',
  },
  RECORD_NOT_FOUND: { status: 404, message: 'No such attendance record.' },
  // excuses (docs/absences.md)
  EXCUSE_NOT_FOUND: { status: 404, message: 'No such excuse.' },
  EXCUSE_DECIDED: { status: 409, message: 'The excuse was already approved or declined.' },
  ABSENCE_CATEGORY_UNKNOWN: { status: 400, message: "The absence category is not one of the organisation's." },
  DOCUMENT_UNSUPPORTED_TYPE: { status: 415, message: 'Only PDF, JPEG and PNG documents are accepted.' },
  EXCUSES_PENDING_LIMIT: {
    status: 409,
    message: 'Too many of your excuses are waiting for a decision; send more once staff have decided some.',
  },
  RECORD_CHANGED: { status: 409, message: 'The record changed meanwhile; reload and retry.' },
  RETRY_LIMIT: { status: 409, message: 'No check-in attempts left for this session.' },
  ALREADY_DECIDED: { status: 409, message: 'The check-in was already decided.' },
  FACE_ENROLMENT_REFUSED: {
    status: 422,
    message: 'Some reference photos were refused; details.photos says which and why. Nothing was stored.',
  },
  FACE_CONSENT_REQUIRED: {
    status: 409,
    message: 'Face verification of this student needs a recorded consent first (POST /api/v1/users/{id}/consents).',
  },
  PHOTO_REFUSED: {
    status: 422,
    message: 'The photo was refused; details.reason says why (e.g. FACE_NOT_FOUND, IMAGE_INVALID).',
  },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ErrorCodes;

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  /** Extra machine-readable facts safe to show, e.g. validation issues or a retry hint. */
  details?: Record<string, unknown>;
}

/** Acknowledgement of every client command. */
export type Ack<T> = { ok: true; data: T } | { ok: false; error: ErrorBody };

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ErrorCodes, value);
}

/**
 * What the staff pages (teacher console, classroom screen, reports) say alike: record statuses,
 * counts, the session's name, and a sentence for each error code the shared catalog does not
 * word (docs/languages.md). Bundled into those pages only, beside the shared page catalog (en.ts)
 * and each page's own; another language's is dist/public/locale-staff-<lang>.js.
 */
import type { ErrorCode } from '../../shared/errors.js';
import type { pageEn } from './en.js';

/** Codes the shared page catalog already words (the student's and the login's). */
type SharedErrorCode = keyof typeof pageEn extends infer K ? (K extends `error.${infer C}` ? C : never) : never;

/**
 * Every other code of the shared table, as a teacher or an administrator reads it: with the
 * shared ones, each code a page can show has a sentence (the server's `message` stays English,
 * for API clients). A code added to the table fails typecheck until it is worded here.
 */
const errors = {
  'error.MALFORMED_JSON': 'The request could not be read.',
  'error.UNSUPPORTED_MEDIA_TYPE': 'This kind of file is not accepted here.',
  'error.NOT_FOUND': 'Not found: it may have been deleted meanwhile.',
  'error.METHOD_NOT_ALLOWED': 'This action is not possible here.',
  'error.CONFLICT': 'This conflicts with the current state; reload and try again.',
  'error.TOKEN_INVALID': 'Your login is no longer valid; log in again.',
  'error.TOKEN_EXPIRED': 'Your login has expired; log in again.',
  'error.REFRESH_TOKEN_INVALID': 'Your login is no longer valid; log in again.',
  'error.REFRESH_TOKEN_REUSED': 'This login was used elsewhere and has been ended everywhere; log in again.',
  'error.PASSWORD_CHANGE_REQUIRED': 'Choose a new password first.',
  'error.UNSUBSCRIBE_LINK_INVALID': 'This unsubscribe link is not valid.',
  'error.EMAIL_TAKEN': 'A user with this email already exists.',
  'error.ORGANISATION_SLUG_TAKEN': 'An organisation with this short name already exists.',
  'error.SUBJECT_CODE_TAKEN': 'A subject with this code already exists.',
  'error.SUBJECT_ARCHIVED': 'This subject is archived: it takes no new session, meeting or enrolment. Unarchive it first.',
  'error.SUBJECT_HAS_SESSIONS': 'A session of this subject is open or scheduled: close or cancel it before archiving.',
  'error.NOT_SUBJECT_TEACHER': 'You do not teach this subject.',
  'error.SESSION_NOT_CLOSED': 'The session is still open.',
  'error.CLOSE_TIMED_OUT': 'Closing the session took too long; close it again.',
  'error.SESSION_ALREADY_OPEN': 'This subject already has a session at that time.',
  'error.TEACHER_DOUBLE_BOOKED': 'The teacher already has a class of another subject at that time.',
  'error.SESSION_TRANSITION_REFUSED': 'The session cannot make this change from its current status.',
  'error.REOPEN_WINDOW_PASSED': 'The session closed too long ago to be reopened; correct its records instead.',
  'error.POLICY_UNSUPPORTED': 'These checks cannot be run by this service.',
  'error.LIVENESS_NOT_REQUIRED': 'This session does not ask for a liveness challenge.',
  'error.SUBJECT_LOCATION_MISSING': "The location check needs the subject's classroom location, which is not set yet.",
  'error.SUBJECT_NETWORK_MISSING': "The network check needs the subject's networks, which are not set yet.",
  'error.RECORD_NOT_FOUND': 'No such attendance record.',
  'error.EXCUSE_NOT_FOUND': 'No such excuse.',
  'error.EXCUSE_DECIDED': 'The excuse was already approved or declined.',
  'error.RECORD_CHANGED': 'The record changed meanwhile; look at it again and retry.',
  'error.FACE_ENROLMENT_REFUSED': 'Some reference photos were refused; nothing was stored.',
  'error.FACE_CONSENT_REQUIRED': 'Face checks of this student need a recorded consent first.',
  'error.PHOTO_REFUSED': 'The photo was refused.',
} as const satisfies { readonly [C in Exclude<ErrorCode, SharedErrorCode> as `error.${C}`]: string };

export const staffEn = {
  ...errors,
  'status.present': 'Present',
  'status.late': 'Late',
  'status.pending': 'Pending review',
  'status.rejected': 'Rejected',
  'status.excused': 'Excused',
  'status.absent': 'Absent',
  'status.not-yet': 'Not yet',
  'count.present': 'Present',
  'count.late': 'Late',
  'count.pending': 'Pending',
  'count.rejected': 'Rejected',
  'count.excused': 'Excused',
  'count.absent': 'Absent',
  'count.notYet': 'Not yet',
  'count.total': 'Total',
  'count.item': '{label} {count}',
  'count.line': '{items} · of {total}',
  'staff.sessionName': '{code} · {name}',
} as const;

export type StaffKey = keyof typeof staffEn;

/**
 * The source catalog of what every page says: the login form, the connection state, session
 * and record statuses, reason sentences, charts, excuses, the set-password page and the error
 * codes a student meets (docs/languages.md). Bundled into every page (it is the fallback);
 * another language's catalog is its own file, fetched only when chosen. The student page's own
 * words are in student-en.ts, so the set-password page does not carry them.
 * Keys used in the HTML (`data-i18n`) are checked by test/unit/web/page-catalog.test.ts.
 */
import { ReasonCodes, type ReasonCode } from '../../shared/reasons.js';

/** Each reason code's sentence, under `reason.CODE`. */
const reasons = Object.fromEntries(Object.entries(ReasonCodes).map(([code, text]) => [`reason.${code}`, text])) as {
  readonly [C in ReasonCode as `reason.${C}`]: (typeof ReasonCodes)[C];
};

export const pageEn = {
  'page.skip': 'Skip to content',
  'page.somethingWrong': 'Something went wrong.',

  'connection.connecting': 'Connecting…',
  'connection.online': 'Live',
  'connection.offline': 'Connection lost, reconnecting…',
  'connection.logged-out': 'Logged out',

  'login.heading': 'Log in',
  'login.email': 'Email',
  'login.password': 'Password',
  'login.organisation': 'Organisation',
  'login.onlyIfAsked': '(only if asked)',
  'login.submit': 'Log in',
  'login.forgot': 'Forgot your password?',
  'login.wrongRole': 'This page is for {roles} accounts.',
  'login.signedInAs': 'Signed in as',
  'login.logout': 'Log out',
  'language.label': 'Language',
  'language.school': 'Same as the school',

  'session.scheduled': 'scheduled',
  'session.open': 'open',
  'session.closing': 'closing',
  'session.closed': 'closed',
  'session.cancelled': 'cancelled',

  'context.insecure':
    "Check-in cannot work on this page: it was opened with an address that starts with http:// instead of https://, and phones share their location and camera only with secure (https://) pages. Open {address} instead, or ask your teacher or the school's IT for the secure address.",
  'context.noGeolocation':
    'This browser cannot share a location, so check-in cannot work here. Open this page in a current browser (Safari, Chrome, Firefox or Edge).',
  'context.cameraInsecure': 'The camera works only on secure (https://) pages. Open {address} instead.',
  'context.noCamera': 'This browser cannot use the camera. Open this page in a current browser (Safari, Chrome, Firefox or Edge).',

  'record.present': 'Present',
  'record.late': 'Late',
  'record.pending': 'Waiting for review',
  'record.rejected': 'Rejected',
  'record.excused': 'Excused',
  'record.absent': 'Absent',

  // The charts of the student's attendance and of the reports page.
  'chart.noData': 'no settled session',
  'chart.percent': '{value} %',
  'chart.empty': '{title}: no data.',
  'chart.summary': '{title}: {points} points, from {first} ({firstValue}) to {last} ({lastValue}); lowest {lowest} %, highest {highest} %',
  'chart.gaps': { one: '; # with no settled session.', other: '; # with no settled session.' },
  'chart.end': '.',
  'chart.dataTable': 'Data table: {title}',
  'chart.point': '{label}: {value} %',
  'chart.sparkline': '{title}: {points}.',
  'chart.sparkPoint': '{label} {value}',

  'excuse.title': 'Excuse an absence',
  'excuse.from': 'From',
  'excuse.to': 'To',
  'excuse.subject': 'Subject',
  'excuse.allSubjects': 'All my subjects (an admin decides)',
  'excuse.reason': 'Reason',
  'excuse.explanation': 'Explanation',
  'excuse.document': 'Document (PDF, JPEG or PNG, at most 5 MB; optional)',
  'excuse.send': 'Send excuse',
  'excuse.mine': 'My excuses',
  'excuse.period': '{from} to {to}',
  'excuse.pending': 'pending',
  'excuse.approved': 'approved',
  'excuse.declined': 'declined',

  'reset.title': 'Choose a password · Classroom attendance',
  'reset.heading': 'Choose a new password',
  'reset.welcome': 'Welcome: choose your password',
  'reset.headingChange': 'Choose a new password to continue',
  'reset.adminAsks': 'Your administrator asks you to choose a new password before you go on.',
  'reset.current': 'Current password',
  'reset.new': 'New password',
  'reset.atLeast8': '(at least 8 characters)',
  'reset.repeat': 'Repeat it',
  'reset.change': 'Change password',
  'reset.set': 'Set password',
  'reset.done': 'Your password is set.',
  'reset.doneLogin': 'Log in',
  'reset.doneWith': 'with it.',
  'reset.forgotIntro': 'Forgot your password, or your link no longer works? Ask for a new link.',
  'reset.email': 'Email',
  'reset.organisation': 'Organisation',
  'reset.optional': '(optional)',
  'reset.send': 'Email me a link',
  'reset.differ': 'The two passwords differ.',
  'reset.notSet': 'The password could not be set.',
  'reset.enterEmail': 'Enter your email.',
  'reset.sent': 'If an account has this email, a link is on its way. Check your inbox.',
  'reset.failed': 'The request failed; try again.',
  'reset.unexpected': 'The server answered in an unexpected way; try again.',

  // Error codes a student or a set-password page meets; shown instead of the server's (English) message in another language.
  'error.INVALID_CREDENTIALS': 'Email or password is wrong.',
  'error.ACCOUNT_DISABLED': 'The account is deactivated.',
  'error.ORGANISATION_REQUIRED': 'This email exists in several organisations; name the organisation.',
  'error.ORGANISATION_DISABLED': 'The organisation is deactivated.',
  'error.UNAUTHENTICATED': 'Please log in.',
  'error.TOKEN_REVOKED': 'This login was ended (logged out or revoked); log in again.',
  'error.FORBIDDEN': 'You are not allowed to do this.',
  'error.RATE_LIMITED': 'Too many requests; retry later.',
  'error.BUSY': 'The service is busy; retry later.',
  'error.UNAVAILABLE': 'The service is unavailable for a moment; retry later.',
  'error.INTERNAL': 'Internal error.',
  'error.VALIDATION_FAILED': 'The request is invalid.',
  'error.PAYLOAD_TOO_LARGE': 'What you sent is too large.',
  'error.CURRENT_PASSWORD_WRONG': 'The current password is wrong.',
  'error.LINK_INVALID': 'This link is invalid, expired or already used; ask for a new one.',
  'error.NOT_ENROLLED': 'You are not enrolled in this subject.',
  'error.SESSION_NOT_FOUND': 'No such attendance session.',
  'error.SESSION_NOT_OPEN': 'The session is not open yet.',
  'error.SESSION_CLOSED': 'The session is closed.',
  'error.SESSION_NOT_JOINED': 'Join the session first.',
  'error.SESSION_CANCELLED': 'The session was cancelled.',
  'error.OUTSIDE_WINDOW': 'The check-in is outside the session window.',
  'error.LOCATION_REQUIRED': "This session's checks need your location; share it and try again.",
  'error.LIVENESS_REQUIRED': 'This session asks for a short head turn or blink with the selfie; take the selfie again.',
  'error.LIVENESS_CHALLENGE_INVALID': 'The challenge expired; take the selfie again.',
  'error.RETRY_LIMIT': 'No check-in attempts left for this session.',
  'error.ALREADY_DECIDED': 'The check-in was already decided.',
  'error.ABSENCE_CATEGORY_UNKNOWN': "The reason is not one of the school's.",
  'error.DOCUMENT_UNSUPPORTED_TYPE': 'Only PDF, JPEG and PNG documents are accepted.',

  ...reasons,
} as const;

export type PageKey = keyof typeof pageEn;

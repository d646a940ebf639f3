/**
 * The source catalog of what every page says, the set-password page included: the page's
 * frame, the set-password forms and the error codes a student or that page meets
 * (docs/languages.md). Bundled into every page (it is the fallback); another language's
 * catalog is its own file, fetched only when chosen. What the signed-in pages say alike is in
 * pages-en.ts and the student page's own words in student-en.ts, so the set-password page
 * carries neither.
 * Keys used in the HTML (`data-i18n`) are checked by test/unit/shared/i18n.test.ts.
 */
import type { Message } from '../../shared/i18n/messages.js';
import type { IssueCode } from '../../shared/validation-issues.js';

/**
 * A refused request's bad fields (`details.issues`), each worded from its code and limits
 * (src/shared/validation-issues.ts): every code must be here, and so in every language.
 */
const issueWords = {
  'issue.required': 'required',
  'issue.notText': 'expected text',
  'issue.notNumber': 'expected a number',
  'issue.notInteger': 'expected a whole number',
  'issue.notBoolean': 'expected yes or no',
  'issue.notList': 'expected a list',
  'issue.notObject': 'expected a group of fields',
  'issue.tooShort': { one: 'at least # character', other: 'at least # characters' },
  'issue.tooLong': { one: 'at most # character', other: 'at most # characters' },
  'issue.tooFew': { one: 'at least # item', other: 'at least # items' },
  'issue.tooMany': { one: 'at most # item', other: 'at most # items' },
  'issue.tooSmall': 'at least {minimum}',
  'issue.tooBig': 'at most {maximum}',
  'issue.notAbove': 'more than {minimum}',
  'issue.notBelow': 'less than {maximum}',
  'issue.notMultiple': 'a multiple of {divisor}',
  'issue.tooManyBytes': { one: 'at most # byte (an accented letter takes two)', other: 'at most # bytes (an accented letter takes two)' },
  'issue.email': 'not an email address',
  'issue.url': 'not a web address',
  'issue.day': 'not a calendar day',
  'issue.time': 'not a time of day',
  'issue.dateTime': 'not a date and time',
  'issue.pattern': 'not in the expected form',
  'issue.cidr': 'not a network range (CIDR, such as 203.0.113.0/24) or address',
  'issue.timeZone': 'not a time zone (such as Europe/Paris)',
  'issue.language': 'not a language tag (such as en or fr-CA)',
  'issue.codeCharacters': 'letters, digits, dot, dash and underscore only',
  'issue.categoryCode': 'upper-case letters, digits and _, starting with a letter (such as MEDICAL)',
  'issue.dayOutOfRange': 'a day from {minimum} to {maximum}',
  'issue.notOneOf': 'one of {values}',
  'issue.unknownField': 'unknown field',
  'issue.endBeforeStart': 'the end is before the start',
  'issue.rangeTooLong': { one: 'at most # day', other: 'at most # days' },
  'issue.nothingToChange': 'no field to change',
  'issue.beforeStart': 'before the start',
  'issue.afterClose': 'after the close',
  'issue.windowTooLong': { one: 'at most # hour after the start', other: 'at most # hours after the start' },
  'issue.notInFuture': 'already past',
  'issue.needsSelfie': 'needs the selfie check too',
  'issue.sessionOrDays': 'either a session, or a first and a last day',
  'issue.notApplicable': 'does not apply here',
  'issue.notSubjectTeacher': 'does not teach this subject',
  'issue.noMeetingThatDay': 'the class does not meet that day',
  'issue.notFound': 'no longer exists',
  'issue.invalid': 'not a valid value',
} as const satisfies { readonly [C in IssueCode as `issue.${C}`]: Message };

export const pageEn = {
  'page.skip': 'Skip to content',
  'page.somethingWrong': 'Something went wrong.',

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
  'error.ORGANISATION_REQUIRED': 'This email and password open accounts in several organisations; name the organisation.',
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
  'error.EXCUSES_PENDING_LIMIT': 'Too many of your excuses are waiting for a decision; send more once staff have decided some.',

  // A refused request's bad fields: "field: problem", joined; a field of a list named with its item's number.
  'issues.refused': 'The request is invalid: {problems}.',
  'issues.field': '{field}: {problem}',
  'issues.item': '{field}, item {n}',
  'issues.separator': '; ',
  ...issueWords,
} as const;

export type PageKey = keyof typeof pageEn;

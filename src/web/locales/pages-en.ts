/**
 * What the signed-in pages (student, teacher console, classroom screen, reports, admin console)
 * say alike: the login form and the Language menu, the connection state, session and record
 * statuses, reason sentences, chart wording and excuses (docs/languages.md). Bundled into those
 * pages, beside the shared page catalog (en.ts), not into the set-password page; another
 * language's is dist/public/locale-pages-<lang>.js.
 */
import { ReasonCodes, type ReasonCode } from '../../shared/reasons.js';

/** Each reason code's sentence, under `reason.CODE`. */
const reasons = Object.fromEntries(Object.entries(ReasonCodes).map(([code, text]) => [`reason.${code}`, text])) as {
  readonly [C in ReasonCode as `reason.${C}`]: (typeof ReasonCodes)[C];
};

export const pagesEn = {
  'connection.connecting': 'Connecting…',
  'connection.online': 'Live',
  'connection.offline': 'Connection lost, reconnecting…',
  'connection.busy': 'Server busy, reconnecting shortly…',
  'connection.logged-out': 'Logged out',
  'login.heading': 'Log in',
  'login.email': 'Email',
  'login.password': 'Password',
  'login.organisation': 'Organisation',
  'login.onlyIfAsked': '(only if asked)',
  'login.submit': 'Log in',
  'login.forgot': 'Forgot your password?',
  'login.busy': 'Many students are logging in at once; trying again in {seconds} s…',
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
  'excuse.alreadyPending':
    'You already had a pending excuse for these days: it now carries the reason and explanation you just sent. A document you chose is attached to it.',
  ...reasons,
} as const;

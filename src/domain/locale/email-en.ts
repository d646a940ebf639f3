/**
 * The source catalog of what the server writes itself: account, alert and digest emails.
 * Every other language's catalog is typed against this one (email-fr.ts); see docs/languages.md.
 * `{subject}` is a subject's code and name; `count` picks the plural form.
 */
export const emailEn = {
  hello: 'Hello {name},',
  fallbackOrganisation: 'your school',

  'invitation.subject': 'Your attendance account at {organisation}',
  'invitation.body':
    'An account was created for you at {organisation}. Open this link to choose your password; it works once, until {expires}.',
  'reset.subject': 'Reset your attendance password at {organisation}',
  'reset.body':
    'Someone asked to reset the password of your account at {organisation}. Open this link to choose a new one; it works once, until {expires}. If it was not you, ignore this email: your password stays as it is.',
  'reset.alsoAt':
    'This address also has an account at {organisations}: each account gets its own email, and this link sets the password of your account at {organisation} only.',
  'admin-reset.body':
    'An administrator of {organisation} sent you this link to choose a new password for your account. It works once, until {expires}. Until you use it your current password still works; if you did not ask for a new one, you may ignore this email.',

  'alert.subject': { one: 'Attendance alert: # student in {subjects}', other: 'Attendance alert: # students in {subjects}' },
  'alert.intro': 'These students of {organisation} crossed an attendance alert rule:',
  'alert.consecutiveAbsences': {
    one: '{student} missed # session in a row of {subject}.',
    other: '{student} missed # sessions in a row of {subject}.',
  },
  'alert.lowAttendance': {
    one: "{student}'s attendance in {subject} is {observed}% over the last day (alert under {threshold}%).",
    other: "{student}'s attendance in {subject} is {observed}% over the last # days (alert under {threshold}%).",
  },
  'alert.repeatedLateness': {
    one: '{student} was late # time in {subject} over the last {days} days.',
    other: '{student} was late # times in {subject} over the last {days} days.',
  },
  'alert.footer': 'You receive this email as staff of {organisation}.',
  'alert.unsubscribe': 'Stop alert emails:',

  'student.subject': 'Attendance alert: {subjects}',
  'student.intro': 'Your attendance at {organisation} crossed an alert rule:',
  'student.consecutiveAbsences': {
    one: 'You missed # session in a row of {subject}.',
    other: 'You missed # sessions in a row of {subject}.',
  },
  'student.lowAttendance': {
    one: 'Your attendance in {subject} is {observed}% over the last day (alert under {threshold}%).',
    other: 'Your attendance in {subject} is {observed}% over the last # days (alert under {threshold}%).',
  },
  'student.repeatedLateness': {
    one: 'You were late # time in {subject} over the last {days} days.',
    other: 'You were late # times in {subject} over the last {days} days.',
  },
  'student.footer': 'You receive this email as a student of {organisation}. Your teachers can help you catch up.',

  'guardian.subject': 'Attendance alert: {student}',
  'guardian.intro': '{organisation} lets you know that the attendance of {student} crossed an alert rule:',
  'guardian.footer':
    'You receive this email because {organisation} lists you as a guardian contact of {student}. Please contact the school with any question.',

  'digest.subject': 'Your attendance digest for {day}',
  'digest.sessions': { one: 'Your session of the day (#):', other: 'Your sessions of the day (#):' },
  'digest.noSessions': 'No sessions today.',
  'digest.session': '{time} {subject} ({status})',
  'digest.pending': 'Check-ins waiting for your review: {count}.',
  'digest.newAlerts': 'New alerts since yesterday: {count}.',
  'digest.unsubscribe': 'Stop digest emails:',

  'unstaffed.subject': {
    one: 'A session left without a teacher: {subjects}',
    other: '# sessions left without a teacher: {subjects}',
  },
  'unstaffed.intro': {
    one: '{teacher} can no longer teach this session of {organisation}, and no teacher of its subject was free to take it:',
    other: '{teacher} can no longer teach these sessions of {organisation}, and no teacher of their subject was free to take them:',
  },
  'unstaffed.session': '{subject}, {time}',
  'unstaffed.action': 'Give each to a teacher or cancel it on the admin console: {url}',
  'unstaffed.footer': 'You receive this email as an admin of {organisation}.',

  'status.scheduled': 'scheduled',
  'status.open': 'open',
  'status.closing': 'closing',
  'status.closed': 'closed',
  'status.cancelled': 'cancelled',
} as const;

export type EmailKey = keyof typeof emailEn;

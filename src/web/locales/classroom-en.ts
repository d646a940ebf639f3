/**
 * The classroom screen's own catalog (docs/languages.md): bundled into classroom.js only, beside the
 * shared page catalog and the staff one (statuses, counts, error codes); another language's is
 * dist/public/locale-classroom-<lang>.js. Keys used in the HTML are checked by test/unit/shared/i18n.test.ts.
 */
export const classroomEn = {
  'classroom.title': 'Classroom screen · Classroom attendance',
  'classroom.brand': 'Attendance',
  'classroom.fullScreen': 'Full screen',
  'classroom.leaveFullScreen': 'Leave full screen',
  'classroom.pick': 'Choose a session to show',
  'classroom.loading': 'Loading…',
  'classroom.timeLeft': 'Time left',
  'classroom.howTo': 'How to check in',
  'classroom.code': 'Code',
  'classroom.qr': 'QR code with the check-in link',
  'classroom.scan': 'Scan the QR code, or open',
  'classroom.thenCode': 'and enter the code',
  'classroom.counts': 'Counts',
  'classroom.roster': 'Roster',
  'classroom.checkedIn': 'Checked in',
  'classroom.times': 'Late after {late} · closes {closes}',
  'classroom.closing': 'Closing…',
  'classroom.closed': 'Session closed',
  'classroom.cancelled': 'Session cancelled',
  'classroom.sessionItem': '{session} ({time})',
  'classroom.noSessions': 'No open sessions. Open one in the teacher console.',
  'classroom.more': { one: '# more student: {counts}', other: '# more students: {counts}' },
  'classroom.countsText': '{present} present, {late} late of {total}.',
  'classroom.sessionNow': 'The session is {status}.',
  'classroom.statusOf': '{name}: {status}',
} as const;

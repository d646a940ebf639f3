import type { AlertPayload, EmailLanguage } from '../../shared/alerts.js';
import { escapeHtml } from '../accounts/account-emails.js';
import { emailText, type EmailText } from '../locale/email-text.js';

/** What a templated email says, before it is addressed: the same lines as text and HTML. */
export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

export interface DigestContent {
  recipientName: string;
  organisation: string;
  /** The local day the digest is about, YYYY-MM-DD. */
  day: string;
  sessions: { subjectCode: string; subjectName: string; startsAt: string; status: string }[];
  pendingReviews: number;
  alerts: AlertPayload[];
}

const subjectOf = (a: AlertPayload): string => `${a.subjectCode} ${a.subjectName}`;

/** One alert in the words of staff and guardians (`staff`) or of the student it is about. */
function alertLine(s: EmailText, a: AlertPayload, voice: 'alert' | 'student'): string {
  const subject = subjectOf(a);
  switch (a.rule) {
    case 'consecutive-absences':
      return s.t(`${voice}.consecutiveAbsences`, { count: a.observed, student: a.studentName, subject });
    case 'low-attendance':
      return s.t(`${voice}.lowAttendance`, {
        count: a.windowDays ?? 0,
        student: a.studentName,
        subject,
        observed: a.observed,
        threshold: a.thresholdPct ?? 0,
      });
    case 'repeated-lateness':
      return s.t(`${voice}.repeatedLateness`, { count: a.observed, student: a.studentName, subject, days: a.windowDays ?? 0 });
  }
}

function render(subject: string, paragraphs: (string | string[])[], unsubscribeLabel: string, unsubscribeUrl: string): RenderedEmail {
  const text = [
    ...paragraphs.flatMap((p) => (Array.isArray(p) ? [...p.map((l) => `- ${l}`), ''] : [p, ''])),
    `${unsubscribeLabel} ${unsubscribeUrl}`,
    '',
  ].join('\n');
  const html =
    paragraphs
      .map((p) => (Array.isArray(p) ? `<ul>${p.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>` : `<p>${escapeHtml(p)}</p>`))
      .join('\n') +
    `\n<p><small>${escapeHtml(unsubscribeLabel)} <a href="${escapeHtml(unsubscribeUrl)}">${escapeHtml(unsubscribeUrl)}</a></small></p>\n`;
  return { subject, text, html };
}

const codesOf = (alerts: AlertPayload[]): string => [...new Set(alerts.map((a) => a.subjectCode))].join(', ');

export function alertEmail(
  lang: EmailLanguage,
  recipientName: string,
  organisation: string,
  alerts: AlertPayload[],
  unsubscribeUrl: string,
): RenderedEmail {
  const s = emailText(lang);
  return render(
    s.t('alert.subject', { count: new Set(alerts.map((a) => a.studentId)).size, subjects: codesOf(alerts) }),
    [
      s.t('hello', { name: recipientName }),
      s.t('alert.intro', { organisation }),
      alerts.map((a) => alertLine(s, a, 'alert')),
      s.t('alert.footer', { organisation }),
    ],
    s.t('alert.unsubscribe'),
    unsubscribeUrl,
  );
}

/** To the student concerned: only their own alerts. */
export function studentAlertEmail(
  lang: EmailLanguage,
  studentName: string,
  organisation: string,
  alerts: AlertPayload[],
  unsubscribeUrl: string,
): RenderedEmail {
  const s = emailText(lang);
  return render(
    s.t('student.subject', { subjects: codesOf(alerts) }),
    [
      s.t('hello', { name: studentName }),
      s.t('student.intro', { organisation }),
      alerts.map((a) => alertLine(s, a, 'student')),
      s.t('student.footer', { organisation }),
    ],
    s.t('alert.unsubscribe'),
    unsubscribeUrl,
  );
}

/**
 * To a guardian contact of the student: the alerts of that one student (the caller passes no
 * other), each line the student's name, the subject and the rule with the value it saw; no
 * other student, no staff name, no note.
 */
export function guardianAlertEmail(
  lang: EmailLanguage,
  guardianName: string,
  studentName: string,
  organisation: string,
  alerts: AlertPayload[],
  unsubscribeUrl: string,
): RenderedEmail {
  const s = emailText(lang);
  return render(
    s.t('guardian.subject', { student: studentName }),
    [
      s.t('hello', { name: guardianName }),
      s.t('guardian.intro', { student: studentName, organisation }),
      alerts.map((a) => alertLine(s, { ...a, studentName }, 'alert')),
      s.t('guardian.footer', { student: studentName, organisation }),
    ],
    s.t('alert.unsubscribe'),
    unsubscribeUrl,
  );
}

const STATUS_KEYS = {
  scheduled: 'status.scheduled',
  open: 'status.open',
  closing: 'status.closing',
  closed: 'status.closed',
  cancelled: 'status.cancelled',
} as const;

export function digestEmail(lang: EmailLanguage, d: DigestContent, unsubscribeUrl: string): RenderedEmail {
  const s = emailText(lang);
  const sessions = d.sessions.map((x) =>
    s.t('digest.session', {
      time: x.startsAt,
      subject: `${x.subjectCode} ${x.subjectName}`,
      status: x.status in STATUS_KEYS ? s.t(STATUS_KEYS[x.status as keyof typeof STATUS_KEYS]) : x.status,
    }),
  );
  return render(
    s.t('digest.subject', { day: s.day(d.day) }),
    [
      s.t('hello', { name: d.recipientName }),
      sessions.length > 0 ? s.t('digest.sessions', { count: sessions.length }) : s.t('digest.noSessions'),
      ...(sessions.length > 0 ? [sessions] : []),
      s.t('digest.pending', { count: d.pendingReviews }),
      s.t('digest.newAlerts', { count: d.alerts.length }),
      ...(d.alerts.length > 0 ? [d.alerts.map((a) => alertLine(s, a, 'alert'))] : []),
      s.t('alert.footer', { organisation: d.organisation }),
    ],
    s.t('digest.unsubscribe'),
    unsubscribeUrl,
  );
}

export interface UnstaffedContent {
  recipientName: string;
  organisation: string;
  /** The account that can no longer teach them. */
  teacherName: string;
  sessions: { subjectCode: string; subjectName: string; startsAt: Date }[];
  /** The admin console's list of sessions left without a teacher. */
  consoleUrl: string;
}

/** To an admin: one hand-over's sessions that no teacher of their subject was free to take, times in the organisation's zone. */
export function unstaffedEmail(lang: EmailLanguage, timeZone: string, c: UnstaffedContent, unsubscribeUrl: string): RenderedEmail {
  const s = emailText(lang, timeZone);
  const count = c.sessions.length;
  return render(
    s.t('unstaffed.subject', { count, subjects: [...new Set(c.sessions.map((x) => x.subjectCode))].join(', ') }),
    [
      s.t('hello', { name: c.recipientName }),
      s.t('unstaffed.intro', { count, teacher: c.teacherName, organisation: c.organisation }),
      c.sessions.map((x) => s.t('unstaffed.session', { subject: `${x.subjectCode} ${x.subjectName}`, time: s.dateTime(x.startsAt) })),
      s.t('unstaffed.action', { url: c.consoleUrl }),
      s.t('unstaffed.footer', { organisation: c.organisation }),
    ],
    s.t('alert.unsubscribe'),
    unsubscribeUrl,
  );
}

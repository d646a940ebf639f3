import { EMAIL_LANGUAGES, type AlertPayload, type EmailLanguage } from '../../shared/alerts.js';
import { escapeHtml } from '../accounts/account-emails.js';

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

interface Strings {
  alertSubject(count: number, subjectCode: string): string;
  hello(name: string): string;
  alertIntro(organisation: string): string;
  alertLine(a: AlertPayload): string;
  digestSubject(day: string): string;
  digestSessions(count: number): string;
  noSessions: string;
  pending(count: number): string;
  newAlerts(count: number): string;
  footer(organisation: string): string;
  unsubscribe(category: 'alert' | 'digest'): string;
  /** To the student the alert is about: their own alerts only, in the second person. */
  studentSubject(subjectCodes: string): string;
  studentIntro(organisation: string): string;
  studentLine(a: AlertPayload): string;
  studentFooter(organisation: string): string;
  /** To a guardian contact: the student's name and the rule crossed, nothing else. */
  guardianSubject(studentName: string): string;
  guardianIntro(studentName: string, organisation: string): string;
  guardianFooter(studentName: string, organisation: string): string;
}

const EN: Strings = {
  alertSubject: (n, code) => `Attendance alert: ${n} student${n === 1 ? '' : 's'} in ${code}`,
  hello: (name) => `Hello ${name},`,
  alertIntro: (org) => `These students of ${org} crossed an attendance alert rule:`,
  alertLine: (a) => {
    switch (a.rule) {
      case 'consecutive-absences':
        return `${a.studentName} missed ${a.observed} sessions in a row of ${a.subjectCode} ${a.subjectName}.`;
      case 'low-attendance':
        return `${a.studentName}'s attendance in ${a.subjectCode} ${a.subjectName} is ${a.observed}% over the last ${a.windowDays} days (alert under ${a.thresholdPct}%).`;
      case 'repeated-lateness':
        return `${a.studentName} was late ${a.observed} times in ${a.subjectCode} ${a.subjectName} over the last ${a.windowDays} days.`;
    }
  },
  digestSubject: (day) => `Your attendance digest for ${day}`,
  digestSessions: (n) => `Your sessions of the day (${n}):`,
  noSessions: 'No sessions today.',
  pending: (n) => `Check-ins waiting for your review: ${n}.`,
  newAlerts: (n) => `New alerts since yesterday: ${n}.`,
  footer: (org) => `You receive this email as staff of ${org}.`,
  unsubscribe: (c) => (c === 'alert' ? 'Stop alert emails:' : 'Stop digest emails:'),
  studentSubject: (codes) => `Attendance alert: ${codes}`,
  studentIntro: (org) => `Your attendance at ${org} crossed an alert rule:`,
  studentLine: (a) => {
    switch (a.rule) {
      case 'consecutive-absences':
        return `You missed ${a.observed} sessions in a row of ${a.subjectCode} ${a.subjectName}.`;
      case 'low-attendance':
        return `Your attendance in ${a.subjectCode} ${a.subjectName} is ${a.observed}% over the last ${a.windowDays} days (alert under ${a.thresholdPct}%).`;
      case 'repeated-lateness':
        return `You were late ${a.observed} times in ${a.subjectCode} ${a.subjectName} over the last ${a.windowDays} days.`;
    }
  },
  studentFooter: (org) => `You receive this email as a student of ${org}. Your teachers can help you catch up.`,
  guardianSubject: (student) => `Attendance alert: ${student}`,
  guardianIntro: (student, org) => `${org} lets you know that the attendance of ${student} crossed an alert rule:`,
  guardianFooter: (student, org) =>
    `You receive this email because ${org} lists you as a guardian contact of ${student}. Please contact the school with any question.`,
};

const FR: Strings = {
  alertSubject: (n, code) => `Alerte d'assiduité : ${n} élève${n === 1 ? '' : 's'} en ${code}`,
  hello: (name) => `Bonjour ${name},`,
  alertIntro: (org) => `Ces élèves de ${org} ont franchi une règle d'alerte d'assiduité :`,
  alertLine: (a) => {
    switch (a.rule) {
      case 'consecutive-absences':
        return `${a.studentName} a manqué ${a.observed} séances de suite en ${a.subjectCode} ${a.subjectName}.`;
      case 'low-attendance':
        return `L'assiduité de ${a.studentName} en ${a.subjectCode} ${a.subjectName} est de ${a.observed} % sur les ${a.windowDays} derniers jours (alerte sous ${a.thresholdPct} %).`;
      case 'repeated-lateness':
        return `${a.studentName} est arrivé·e en retard ${a.observed} fois en ${a.subjectCode} ${a.subjectName} sur les ${a.windowDays} derniers jours.`;
    }
  },
  digestSubject: (day) => `Votre récapitulatif d'assiduité du ${day}`,
  digestSessions: (n) => `Vos séances du jour (${n}) :`,
  noSessions: "Aucune séance aujourd'hui.",
  pending: (n) => `Pointages en attente de votre vérification : ${n}.`,
  newAlerts: (n) => `Nouvelles alertes depuis hier : ${n}.`,
  footer: (org) => `Vous recevez cet e-mail en tant que membre du personnel de ${org}.`,
  unsubscribe: (c) => (c === 'alert' ? 'Ne plus recevoir les alertes :' : 'Ne plus recevoir le récapitulatif :'),
  studentSubject: (codes) => `Alerte d'assiduité : ${codes}`,
  studentIntro: (org) => `Votre assiduité à ${org} a franchi une règle d'alerte :`,
  studentLine: (a) => {
    switch (a.rule) {
      case 'consecutive-absences':
        return `Vous avez manqué ${a.observed} séances de suite en ${a.subjectCode} ${a.subjectName}.`;
      case 'low-attendance':
        return `Votre assiduité en ${a.subjectCode} ${a.subjectName} est de ${a.observed} % sur les ${a.windowDays} derniers jours (alerte sous ${a.thresholdPct} %).`;
      case 'repeated-lateness':
        return `Vous êtes arrivé·e en retard ${a.observed} fois en ${a.subjectCode} ${a.subjectName} sur les ${a.windowDays} derniers jours.`;
    }
  },
  studentFooter: (org) => `Vous recevez cet e-mail en tant qu'élève de ${org}. Vos enseignants peuvent vous aider à rattraper.`,
  guardianSubject: (student) => `Alerte d'assiduité : ${student}`,
  guardianIntro: (student, org) => `${org} vous informe que l'assiduité de ${student} a franchi une règle d'alerte :`,
  guardianFooter: (student, org) =>
    `Vous recevez cet e-mail car ${org} vous indique comme contact responsable de ${student}. Pour toute question, contactez l'établissement.`,
};

export const EMAIL_STRINGS: Record<EmailLanguage, Strings> = { en: EN, fr: FR };

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

export function alertEmail(
  lang: EmailLanguage,
  recipientName: string,
  organisation: string,
  alerts: AlertPayload[],
  unsubscribeUrl: string,
): RenderedEmail {
  const s = EMAIL_STRINGS[lang];
  const codes = [...new Set(alerts.map((a) => a.subjectCode))].join(', ');
  return render(
    s.alertSubject(new Set(alerts.map((a) => a.studentId)).size, codes),
    [s.hello(recipientName), s.alertIntro(organisation), alerts.map(s.alertLine), s.footer(organisation)],
    s.unsubscribe('alert'),
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
  const s = EMAIL_STRINGS[lang];
  return render(
    s.studentSubject([...new Set(alerts.map((a) => a.subjectCode))].join(', ')),
    [s.hello(studentName), s.studentIntro(organisation), alerts.map(s.studentLine), s.studentFooter(organisation)],
    s.unsubscribe('alert'),
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
  const s = EMAIL_STRINGS[lang];
  return render(
    s.guardianSubject(studentName),
    [
      s.hello(guardianName),
      s.guardianIntro(studentName, organisation),
      alerts.map((a) => s.alertLine({ ...a, studentName })),
      s.guardianFooter(studentName, organisation),
    ],
    s.unsubscribe('alert'),
    unsubscribeUrl,
  );
}

/** The email language of a BCP 47 tag: its primary subtag when the templates have it, else English. */
export function emailLanguageOf(tag: string): EmailLanguage {
  const primary = tag.trim().toLowerCase().split('-')[0];
  return EMAIL_LANGUAGES.find((l) => l === primary) ?? 'en';
}

export function digestEmail(lang: EmailLanguage, d: DigestContent, unsubscribeUrl: string): RenderedEmail {
  const s = EMAIL_STRINGS[lang];
  const sessions = d.sessions.map((x) => `${x.startsAt} ${x.subjectCode} ${x.subjectName} (${x.status})`);
  return render(
    s.digestSubject(d.day),
    [
      s.hello(d.recipientName),
      sessions.length > 0 ? s.digestSessions(sessions.length) : s.noSessions,
      ...(sessions.length > 0 ? [sessions] : []),
      s.pending(d.pendingReviews),
      s.newAlerts(d.alerts.length),
      ...(d.alerts.length > 0 ? [d.alerts.map(s.alertLine)] : []),
      s.footer(d.organisation),
    ],
    s.unsubscribe('digest'),
    unsubscribeUrl,
  );
}

import type { AlertPayload, EmailLanguage } from '../../shared/alerts.js';
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

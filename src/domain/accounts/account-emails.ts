import type { Language } from '../../shared/i18n/languages.js';
import { emailText } from '../locale/email-text.js';
import type { MailMessage } from './mailer.js';

export interface LinkEmail {
  to: string;
  name: string;
  organisation: string;
  link: string;
  expiresAt: Date;
  /** The organisation's time zone: the reader's clock, not the server's. */
  timezone: string;
  /** The recipient's language (theirs, else the organisation's). */
  language: Language;
}

/** e.g. "Friday 11 December 2026 at 17:53 CET": the zone is named, so a reader elsewhere is not misled. */
export function linkExpiry(at: Date, timeZone: string, language: Language = 'en'): string {
  return emailText(language, timeZone).longDateTime(at);
}

export const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function message(to: string, subject: string, lines: string[], link: string): MailMessage {
  const text = [...lines, '', link, ''].join('\n');
  const html = lines.map((l) => `<p>${escapeHtml(l)}</p>`).join('\n') + `\n<p><a href="${escapeHtml(link)}">${escapeHtml(link)}</a></p>\n`;
  return { to, subject, text, html };
}

/** The subject of an invitation, as the outbox row shows it before the email is made. */
export const invitationSubject = (organisation: string, language: Language = 'en'): string =>
  emailText(language).t('invitation.subject', { organisation });
export const resetSubject = (organisation: string, language: Language = 'en'): string =>
  emailText(language).t('reset.subject', { organisation });

/** An invitation or reset: a link to choose a password, valid once until `expiresAt`. */
function linkEmail(kind: 'invitation' | 'reset', e: LinkEmail): MailMessage {
  const s = emailText(e.language, e.timezone);
  return message(
    e.to,
    s.t(`${kind}.subject`, { organisation: e.organisation }),
    [s.t('hello', { name: e.name }), s.t(`${kind}.body`, { organisation: e.organisation, expires: s.longDateTime(e.expiresAt) })],
    e.link,
  );
}

/** The invitation: a link to choose a first password. */
export const invitationEmail = (e: LinkEmail): MailMessage => linkEmail('invitation', e);

/** The forgot-password answer: a link to choose a new password. */
export const resetEmail = (e: LinkEmail): MailMessage => linkEmail('reset', e);

import type { AccountEmailCategory } from '../../shared/alerts.js';
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
  /**
   * A reset's other organisations where the address has an active account: each gets its own
   * email, and the text says this link sets the password here only. Absent or empty: none.
   */
  alsoAt?: readonly string[];
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

/**
 * The account emails: an invitation (no password yet), a reset the user asked for on the login
 * page, and a reset an admin sent (a user who forgot, asking IT): each says who asked.
 */
export type AccountEmailKind = AccountEmailCategory;

/** An account email's subject, as the outbox row shows it before the email is made. An admin's reset is a reset. */
export const accountSubject = (kind: AccountEmailKind, organisation: string, language: Language = 'en'): string =>
  emailText(language).t(kind === 'invitation' ? 'invitation.subject' : 'reset.subject', { organisation });

/** An invitation or reset: a link to choose a password, valid once until `expiresAt`. */
export function accountEmail(kind: AccountEmailKind, e: LinkEmail): MailMessage {
  const s = emailText(e.language, e.timezone);
  const lines = [
    s.t('hello', { name: e.name }),
    s.t(`${kind}.body`, { organisation: e.organisation, expires: s.longDateTime(e.expiresAt) }),
  ];
  if (kind === 'reset' && e.alsoAt && e.alsoAt.length > 0) {
    lines.push(s.t('reset.alsoAt', { organisations: e.alsoAt.join(', '), organisation: e.organisation }));
  }
  return message(e.to, accountSubject(kind, e.organisation, e.language), lines, e.link);
}

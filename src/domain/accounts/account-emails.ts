import type { MailMessage } from './mailer.js';

export interface LinkEmail {
  to: string;
  name: string;
  organisation: string;
  link: string;
  expiresAt: Date;
  /** The organisation's time zone: the reader's clock, not the server's. */
  timezone: string;
}

/** e.g. "Fri, 11 Dec 2026, 17:53 CET": the zone is named, so a reader elsewhere is not misled. */
export function linkExpiry(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    timeZoneName: 'short',
  }).format(at);
}

export const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function message(to: string, subject: string, lines: string[], link: string): MailMessage {
  const text = [...lines, '', link, ''].join('\n');
  const html = lines.map((l) => `<p>${escapeHtml(l)}</p>`).join('\n') + `\n<p><a href="${escapeHtml(link)}">${escapeHtml(link)}</a></p>\n`;
  return { to, subject, text, html };
}

export const invitationSubject = (organisation: string): string => `Your attendance account at ${organisation}`;
export const resetSubject = (organisation: string): string => `Reset your attendance password at ${organisation}`;

/** The invitation: a link to choose a first password. */
export function invitationEmail(e: LinkEmail): MailMessage {
  return message(
    e.to,
    invitationSubject(e.organisation),
    [
      `Hello ${e.name},`,
      `An account was created for you at ${e.organisation}. Open this link to choose your password; ` +
        `it works once, until ${linkExpiry(e.expiresAt, e.timezone)}.`,
    ],
    e.link,
  );
}

/** The forgot-password answer: a link to choose a new password. */
export function resetEmail(e: LinkEmail): MailMessage {
  return message(
    e.to,
    resetSubject(e.organisation),
    [
      `Hello ${e.name},`,
      `Someone asked to reset the password of your account at ${e.organisation}. Open this link to choose a new one; ` +
        `it works once, until ${linkExpiry(e.expiresAt, e.timezone)}. If it was not you, ignore this email: your password stays as it is.`,
    ],
    e.link,
  );
}

/** One email. Both bodies say the same; `html` is for clients that show it. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Extra headers, e.g. List-Unsubscribe. */
  headers?: Record<string, string>;
}

/**
 * Where the domain hands email over (SMTP, or the development outbox). `send` resolves once
 * the message was accepted for delivery and rejects otherwise; it never drops one silently.
 * It rejects with a PermanentSendError when no retry can deliver the message (the mail server
 * refused the recipient for good).
 */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
  close(): Promise<void>;
}

/** A send that no retry can mend (the recipient is refused for good, or gone): the email fails at once. */
export class PermanentSendError extends Error {}

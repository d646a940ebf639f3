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
 */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
  close(): Promise<void>;
}

import nodemailer, { type Transporter } from 'nodemailer';
import { PermanentSendError, type MailMessage, type Mailer } from '../../domain/accounts/mailer.js';

/** Sends through the school's SMTP server (SMTP_URL, e.g. smtps://user:pass@mail.school.example). */
export class SmtpMailer implements Mailer {
  private readonly transport: Transporter;

  constructor(
    smtpUrl: string,
    private readonly from: string,
  ) {
    this.transport = nodemailer.createTransport(smtpUrl);
  }

  async send(message: MailMessage): Promise<void> {
    try {
      await this.transport.sendMail({ from: this.from, ...message });
    } catch (err) {
      if (recipientRefused(err)) throw new PermanentSendError((err as Error).message, { cause: err });
      throw err;
    }
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}

/**
 * A 5xx answer to RCPT TO (no such mailbox, unknown domain): the address is wrong, and retrying
 * for hours would only delay the admin's fix. Other refusals (4xx, or 5xx to the login or the
 * sender, which a fixed SMTP_URL or MAIL_FROM mends) stay retried.
 */
function recipientRefused(err: unknown): boolean {
  const { command, responseCode } = err as { command?: unknown; responseCode?: unknown };
  return command === 'RCPT TO' && typeof responseCode === 'number' && responseCode >= 500 && responseCode < 600;
}

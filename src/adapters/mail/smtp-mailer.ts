import nodemailer, { type Transporter } from 'nodemailer';
import type { MailMessage, Mailer } from '../../domain/accounts/mailer.js';

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
    await this.transport.sendMail({ from: this.from, ...message });
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}

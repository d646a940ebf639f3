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

/** What the start log says about the server; a Logger fits. */
export interface SmtpCheckLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/**
 * Connects to the SMTP server once (STARTTLS and login as configured) and logs whether it took
 * them: a wrong host, port, certificate or password otherwise shows only as emails waiting in
 * the outbox. Never throws; the start goes on either way (the server may just be down).
 */
export async function checkSmtp(smtpUrl: string, log: SmtpCheckLog): Promise<boolean> {
  const { hostname, port } = new URL(smtpUrl);
  const server = { host: hostname, port: port || (smtpUrl.startsWith('smtps:') ? '465' : '587') };
  const transport = nodemailer.createTransport(smtpUrl);
  try {
    await transport.verify();
    log.info({ smtp: server }, 'SMTP server accepted the connection and login of SMTP_URL');
    return true;
  } catch (err) {
    log.warn(
      { smtp: server, reason: (err as Error).message },
      'SMTP server of SMTP_URL refused or did not answer: emails wait in the outbox and are retried; check SMTP_URL (docs/deploy.md)',
    );
    return false;
  } finally {
    transport.close();
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

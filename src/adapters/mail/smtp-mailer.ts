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
  if (!URL.canParse(smtpUrl)) {
    // Its error would carry the whole address, password included; the configuration refuses it anyway.
    log.warn({}, 'SMTP_URL is not a URL: percent-encode the special characters of its user name and password (docs/deploy.md)');
    return false;
  }
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
 * A refusal of RCPT TO that says the address itself is wrong (no such mailbox, unknown domain,
 * bad syntax, mailbox disabled): retrying for hours would only delay the admin's fix. Postfix
 * (smtpd_delay_reject, its default) and qmail answer a refused client, relay or sender at RCPT
 * TO as well, with 550, 553 or 554: those are a wrong SMTP_URL or MAIL_FROM, which the admin
 * mends, so only an enhanced status code about the recipient's address (RFC 3463: 5.1.x but the
 * sender's 5.1.7 and 5.1.8, or 5.2.1) or a bare 550/551 fails the email at once. 552 there is
 * "too many recipients", temporary (RFC 5321, 4.5.3.1.10); 4xx is always retried.
 */
function recipientRefused(err: unknown): boolean {
  const { command, responseCode, response } = err as { command?: unknown; responseCode?: unknown; response?: unknown };
  if (command !== 'RCPT TO' || typeof responseCode !== 'number' || responseCode < 500 || responseCode >= 600) return false;
  const enhanced = typeof response === 'string' ? /^\d{3}[ -]5\.(\d{1,3})\.(\d{1,3})\b/.exec(response) : null;
  if (enhanced === null) return responseCode === 550 || responseCode === 551;
  const [, subject, detail] = enhanced;
  return (subject === '1' && detail !== '7' && detail !== '8') || (subject === '2' && detail === '1');
}

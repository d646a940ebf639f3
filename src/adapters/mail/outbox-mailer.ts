import { randomBytes } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import type { MailMessage, Mailer } from '../../domain/accounts/mailer.js';
import type { Logger } from '../../logger.js';

/**
 * Without SMTP: each message becomes an .eml file in the outbox folder (DATA_DIR/outbox),
 * readable only by the service's user since it holds a set-password link, and its path is
 * logged so a developer (or an admin before SMTP is set up) can open it. Nothing is dropped.
 */
export class OutboxMailer implements Mailer {
  private readonly composer: Transporter;

  constructor(
    private readonly dir: string,
    private readonly from: string,
    private readonly logger: Logger,
  ) {
    // nodemailer's stream transport only builds the RFC 5322 message; nothing leaves the machine.
    this.composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  }

  async send(message: MailMessage): Promise<void> {
    const info = (await this.composer.sendMail({ from: this.from, ...message })) as { message: Buffer };
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const name = `${stamp}-${randomBytes(4).toString('hex')}.eml`;
    const file = path.join(this.dir, name);
    // Written under a hidden name, then renamed: a script handing links over from the folder
    // never reads an .eml before its link is in it.
    const partial = path.join(this.dir, `.${name}.partial`);
    await writeFile(partial, info.message, { mode: 0o600 });
    await rename(partial, file);
    this.logger.info({ file, to: message.to, subject: message.subject }, 'email written to the outbox (no SMTP_URL)');
  }

  async close(): Promise<void> {
    this.composer.close();
  }
}

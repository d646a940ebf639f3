import type { MailSettings } from '../../config.js';
import type { Mailer } from '../../domain/accounts/mailer.js';
import type { Logger } from '../../logger.js';
import { OutboxMailer } from './outbox-mailer.js';
import { SmtpMailer } from './smtp-mailer.js';

/** SMTP when SMTP_URL is set, else the outbox folder. */
export function createMailer(mail: MailSettings, logger: Logger): Mailer {
  if (mail.smtpUrl) return new SmtpMailer(mail.smtpUrl, mail.from);
  return new OutboxMailer(mail.outboxDir, mail.from, logger);
}

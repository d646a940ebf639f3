import { expect } from 'chai';
import { SmtpMailer } from '../../../src/adapters/mail/smtp-mailer.js';
import { PermanentSendError } from '../../../src/domain/accounts/mailer.js';
import { startSmtpServer, type TestSmtpServer } from '../../support/mail.js';

/**
 * Which refusals of RCPT TO fail an email at once. Postfix (smtpd_delay_reject, its default) and
 * others answer a refused client, relay or sender at RCPT TO too: those mean a wrong SMTP_URL or
 * MAIL_FROM, which the admin fixes, and must stay retried, or every invitation of the class
 * fails at once. RFC 5321 (4.5.3.1.10) asks that 552 there be taken as temporary.
 */
describe('SMTP refusals of a recipient: permanent or retried', function () {
  this.timeout(15_000);
  let smtp: TestSmtpServer;
  let mailer: SmtpMailer;

  before(async () => {
    smtp = await startSmtpServer();
    mailer = new SmtpMailer(smtp.url, 'Example School <attendance@school.example>');
  });
  after(async () => {
    await mailer.close();
    await smtp.close();
  });

  /** The error sending to an address the server answers `code text` at RCPT TO. */
  async function refusal(code: number, text: string): Promise<unknown> {
    const to = `r${code}-${text.replace(/\W+/g, '-').toLowerCase()}@school.example`;
    smtp.refuseRecipient(to, code, text);
    try {
      await mailer.send({ to, subject: 'Invitation', text: 'Hello', html: '<p>Hello</p>' });
    } catch (err) {
      return err;
    }
    throw new Error(`sent to ${to} despite ${code}`);
  }

  for (const [code, text] of [
    [550, '5.1.1 No such user here'],
    [550, 'No such user here'],
    [553, '5.1.3 Bad recipient address syntax'],
    [550, '5.1.2 Host unknown'],
  ] as const) {
    it(`fails at once on ${code} ${text} (the address is wrong)`, async () => {
      expect(await refusal(code, text)).to.be.instanceOf(PermanentSendError);
    });
  }

  for (const [code, text] of [
    [552, '5.5.3 Too many recipients'],
    [554, '5.7.1 Relay access denied'],
    [550, '5.7.1 Client host rejected: Access denied'],
    [553, '5.7.1 Sender address rejected: not owned by user'],
    [550, '5.1.8 Sender address rejected: Domain not found'],
    [553, "sorry, that domain isn't in my list of allowed rcpthosts"],
    [450, '4.1.1 Recipient address rejected: unverified address'],
  ] as const) {
    it(`keeps retrying on ${code} ${text} (not the recipient's fault, or not for good)`, async () => {
      const err = await refusal(code, text);
      expect(err).to.be.instanceOf(Error);
      expect(err).to.not.be.instanceOf(PermanentSendError);
    });
  }
});

import { expect } from 'chai';
import type { Page } from 'playwright-core';
import type { Organisation } from '../../../src/domain/ports/organisations.js';
import { openAdminConsole, showSection, type AdminConsole } from '../../support/admin-page.js';
import { refusal, type TestServer } from '../../support/http.js';
import { decodedMail, startSmtpServer, tokenFromMail, type TestSmtpServer } from '../../support/mail.js';
import { waitFor } from '../../support/sockets.js';

// Inviting the users a CSV import made when the organisation's email outbox fills up
// (MAIL_OUTBOX_MAX): the page says how many were queued and how many were not, offers the
// rest again, and never invites a user twice (a second invitation would void the first's link).
// While the school's SMTP server refuses, an invitation is said to be queued, never sent; once it
// accepts, "Send again" on the outbox page delivers a new link, the refused one working no more.

describe('admin console: invitations while the SMTP server refuses and the outbox fills up (Chromium)', function () {
  this.timeout(60_000);

  let smtp: TestSmtpServer;
  let srv: TestServer;
  let org: Organisation;
  let page: Page;
  let admin: AdminConsole | undefined;

  before(async () => {
    smtp = await startSmtpServer();
    // Refused and retried only an hour later: the invitations stay waiting, two fill the outbox.
    smtp.refuse(true);
    admin = await openAdminConsole({ env: { SMTP_URL: smtp.url, MAIL_OUTBOX_MAX: '2', MAIL_RETRY_BASE_MS: '3600000' } });
    ({ srv, org, page } = admin);
  });

  after(async () => {
    await admin?.close();
    await smtp?.close();
  });

  const invitations = async () =>
    (await srv.store.outbox.list(org.id, { limit: 100, offset: 0 })).items.filter((m) => m.category === 'invitation').map((m) => m.to);

  it('says how many invitations were queued and how many not, and offers only those left', async () => {
    await showSection(page, 'import');
    const csv = [
      'name,email,role,student_number',
      'Ada One,ada@new.test,student,N1',
      'Ben Two,ben@new.test,student,N2',
      'Cy Three,cy@new.test,teacher,',
      '',
    ];
    await page.setInputFiles('#import-file', { name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(csv.join('\n')) });
    await page.click('#import-form button[type="submit"]');
    await page.click('#import-go');
    await page.waitForFunction(() => /Imported 3 of 3 users/.test(document.getElementById('import-progress-text')?.textContent ?? ''));
    expect(await page.textContent('#import-invite')).to.equal('Email invitations to the imported users');

    await page.click('#import-invite');
    await page.waitForFunction(() => /queued/.test(document.getElementById('import-progress-text')?.textContent ?? ''));
    expect(await page.textContent('#import-progress-text')).to.equal(
      '2 invitations queued. They are sent in the background; the Email outbox shows each one’s delivery. ' +
        '1 user not invited yet: the organisation’s email outbox is full (or they were deactivated since). Send the invitation later with the button below.',
    );
    expect(await page.isVisible('#import-invite')).to.equal(true);
    expect(await page.textContent('#import-invite')).to.equal('Email an invitation to the 1 user not invited yet');
    const queued = await invitations();
    expect(queued).to.have.length(2);

    // Still full: refused BUSY, said so; the two invited are not invited again.
    await page.click('#import-invite');
    await page.waitForFunction(() => /^0 invitation/.test(document.getElementById('import-progress-text')?.textContent ?? ''));
    expect(await page.textContent('#import-progress-text')).to.match(/1 user not invited yet/);
    expect(await page.textContent('#import-error')).to.equal('');
    expect(await invitations()).to.have.members(queued);
    expect(await page.textContent('#import-invite')).to.equal('Email an invitation to the 1 user not invited yet');
  });

  it("the Users page offers a user who has a password a reset, not an invitation, and says it was queued, not sent, while the school's SMTP server refuses it", async () => {
    // Room in the outbox: the invitations of the test before are given up.
    const later = new Date(Date.now() + 86_400_000);
    for (const m of await srv.store.outbox.claimDue(later, 'test', new Date(later.getTime() + 60_000), 100)) {
      await srv.store.outbox.markFailed(m.id, 'test', 'given up by the test', null);
    }
    await showSection(page, 'users');
    await page.fill('#user-q', 'student01@demo.school');
    await page.click('#user-search button[type="submit"]');
    await page.waitForFunction(() => document.querySelectorAll('#users-body tr').length === 1);
    // The demo's students have passwords: a welcome to an account they have would mislead them.
    expect(await page.locator('#users-body button:has-text("Invite")').count()).to.equal(0);
    await page.click('#users-body button:has-text("Send password reset")');
    await page.waitForFunction(() => (document.getElementById('users-status')?.textContent ?? '') !== '');
    expect(await page.textContent('#users-status')).to.equal(
      'Password reset link to student01@demo.school queued; the Email outbox shows its delivery.',
    );
  });

  it('an invitation failed for good leaves no working link; "Send again" delivers a new one that works', async () => {
    const to = 'student01@demo.school';
    await waitFor(async () => smtp.refusedMails.some((m) => m.to.includes(to)));
    // Given up: the row the refused attempt left queued for an hour is failed for good.
    const later = new Date(Date.now() + 86_400_000);
    for (const m of await srv.store.outbox.claimDue(later, 'test', new Date(later.getTime() + 60_000), 100)) {
      await srv.store.outbox.markFailed(m.id, 'test', '451 Mailbox busy', null);
    }
    // Failed for good, it leaves no working link: the refused message's works no more.
    const setPassword = (raw: string, password: string) =>
      srv.request('POST', '/api/v1/auth/reset-password', { body: { token: tokenFromMail(raw), password } });
    const refused = smtp.refusedMails.find((m) => m.to.includes(to))!;
    expect(refusal(await setPassword(refused.raw, 'from-the-refused-one'))).to.deep.equal([400, 'LINK_INVALID']);

    smtp.refuse(false);
    await showSection(page, 'outbox');
    await page.selectOption('#outbox-status', 'failed');
    await page.click('#outbox-filter button[type="submit"]');
    await page.waitForSelector(`#outbox-body button[aria-label^="Send again the email to ${to}"]`);
    await page.click(`#outbox-body button[aria-label^="Send again the email to ${to}"]`);
    const delivered = await smtp.next(to);
    expect(decodedMail(delivered.raw)).to.include('An administrator of Demo School sent you this link to choose a new password');
    expect((await setPassword(delivered.raw, 'from-the-delivered-one')).status).to.equal(204);
  });
});

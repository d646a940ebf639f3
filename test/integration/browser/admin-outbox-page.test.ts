import { expect } from 'chai';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { openAdminPage, screenshotAdmin, showSection, startDemoServer } from '../../support/admin-page.js';
import { expectAccessible, launchChromium } from '../../support/browser.js';
import type { TestServer } from '../../support/http.js';

// The admin console's email outbox: newest first, paged, filtered by status, with the SMTP
// server's last answer of a failed email.

describe('admin console: email outbox (Chromium)', function () {
  this.timeout(60_000);

  let srv: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  before(async () => {
    // No pass of the outbox during the test: the emails stay as the test leaves them.
    const started = await startDemoServer({ MAIL_OUTBOX_POLL_MS: '3600000' });
    srv = started.srv;
    const org = started.org;
    const mail = (to: string, subject: string) =>
      srv.store.outbox.enqueue({ orgId: org.id, category: 'alert', to, subject, text: 'body', html: '<p>body</p>', headers: {} }, 1_000);
    // One at a time, so each claim takes the email meant.
    const claim = async () => {
      const now = new Date();
      return (await srv.store.outbox.claimDue(now, 'test-node', new Date(now.getTime() + 60_000), 1))[0]!;
    };
    await mail('sent@home.test', 'Alert: Student 01 missed 3 sessions');
    expect(await srv.store.outbox.markSent((await claim()).id, 'test-node', new Date())).to.equal(true);
    await mail('bounced@home.test', 'Alert: Student 02 missed 3 sessions');
    expect(await srv.store.outbox.markFailed((await claim()).id, 'test-node', '550 5.1.1 mailbox unavailable', null)).to.equal(true);
    for (let n = 1; n <= 50; n += 1) {
      await mail(`queued${n}@home.test`, `Digest ${n}`);
    }
    browser = await launchChromium();
    ({ context, page } = await openAdminPage(browser, srv.baseUrl));
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    await srv?.cleanup();
  });

  const recipients = () => page.locator('#outbox-body td:nth-child(2)').allTextContents();

  it('lists the emails newest first, a page of 50, then the older ones with their status', async () => {
    await showSection(page, 'outbox');
    await page.waitForFunction(() => document.querySelectorAll('#outbox-body tr').length === 50);
    expect(await page.textContent('#outbox-caption')).to.equal('Emails 1 to 50 of 52, newest first');
    expect(await page.isDisabled('#outbox-prev')).to.equal(true);
    await page.click('#outbox-next');
    await page.waitForFunction(() => document.querySelectorAll('#outbox-body tr').length === 2);
    expect(await recipients()).to.have.members(['sent@home.test', 'bounced@home.test']);
    const failed = page.locator('#outbox-body tr[data-status="failed"] td');
    expect(await failed.allTextContents()).to.deep.equal([
      'bounced@home.test',
      'Alert: Student 02 missed 3 sessions',
      'Alert',
      'Failed for good',
      '1',
      '550 5.1.1 mailbox unavailable',
      'Send again',
    ]);
    expect(await page.locator('#outbox-body tr[data-status="sent"] td:nth-child(5)').textContent()).to.match(/^Sent /);
    await expectAccessible(page, 'email outbox');
    await screenshotAdmin(page, 'outbox-older');
  });

  it('shows only the failed emails when asked, from the first page again', async () => {
    await showSection(page, 'outbox');
    await page.selectOption('#outbox-status', 'failed');
    await page.click('#outbox-filter button[type="submit"]');
    await page.waitForFunction(() => document.getElementById('outbox-caption')?.textContent === 'Emails 1 to 1 of 1, newest first');
    expect(await recipients()).to.deep.equal(['bounced@home.test']);
    expect(await page.isDisabled('#outbox-next')).to.equal(true);
    await page.selectOption('#outbox-status', 'queued');
    await page.click('#outbox-filter button[type="submit"]');
    await page.waitForFunction(() => document.getElementById('outbox-caption')?.textContent === 'Emails 1 to 50 of 50, newest first');
    expect((await recipients())[0]).to.equal('queued50@home.test');
    expect(await page.locator('#outbox-body tr').first().locator('td:nth-child(5)').textContent()).to.equal('Queued');
  });

  it('finds the emails of one recipient by their address or its start, any case, with the status filter', async () => {
    await showSection(page, 'outbox');
    await page.selectOption('#outbox-status', '');
    await page.fill('#outbox-recipient', 'QUEUED1');
    await page.click('#outbox-filter button[type="submit"]');
    // queued1, queued10 to queued19: a prefix, not queued21 (which holds "ueued1" further in).
    await page.waitForFunction(() => document.getElementById('outbox-caption')?.textContent === 'Emails 1 to 11 of 11, newest first');
    expect((await recipients()).every((to) => to.startsWith('queued1'))).to.equal(true);
    await page.fill('#outbox-recipient', 'Bounced@Home.test');
    await page.click('#outbox-filter button[type="submit"]');
    await page.waitForFunction(() => document.getElementById('outbox-caption')?.textContent === 'Emails 1 to 1 of 1, newest first');
    expect(await recipients()).to.deep.equal(['bounced@home.test']);
    await page.selectOption('#outbox-status', 'sent');
    await page.click('#outbox-filter button[type="submit"]');
    await page.waitForFunction(() => document.getElementById('outbox-caption')?.textContent === 'No emails.');
    await page.selectOption('#outbox-status', '');
    await page.fill('#outbox-recipient', '');
    await page.click('#outbox-filter button[type="submit"]');
    await page.waitForFunction(() => document.getElementById('outbox-caption')?.textContent === 'Emails 1 to 50 of 52, newest first');
  });

  it('sends a failed email again: queued at once, then sent, its attempts counted on', async () => {
    await showSection(page, 'outbox');
    await page.selectOption('#outbox-status', 'failed');
    await page.click('#outbox-filter button[type="submit"]');
    await page.waitForFunction(() => document.getElementById('outbox-caption')?.textContent === 'Emails 1 to 1 of 1, newest first');
    // Only a failed email offers it.
    expect(await page.locator('#outbox-body button').count()).to.equal(1);
    const id = (await page.locator('#outbox-body tr').getAttribute('data-mail-id'))!;
    await page.click('#outbox-body button[aria-label^="Send again the email to bounced@home.test"]');
    await page.waitForFunction(() =>
      /The email to bounced@home\.test is queued again\./.test(document.getElementById('outbox-live')?.textContent ?? ''),
    );
    expect(await page.locator('#outbox-body tr').count(), 'no longer failed').to.equal(0);
    // The retry started a pass at once; stopping the dispatcher waits for it and its outcome.
    await srv.app.outbox.stop();
    const [mail] = (
      await srv.store.outbox.list((await srv.store.organisations.getBySlug('demo'))!.id, { limit: 100, offset: 0 })
    ).items.filter((m) => m.id === id);
    expect(mail).to.deep.include({ status: 'sent', attempts: 2 });
  });
});

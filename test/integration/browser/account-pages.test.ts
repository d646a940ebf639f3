import { expect } from 'chai';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { User } from '../../../src/domain/ports/users.js';
import { createOrg, createUser, PASSWORD } from '../../support/fixtures.js';
import { startTestServer, type TestServer } from '../../support/http.js';
import { startSmtpServer, tokenFromMail, type TestSmtpServer } from '../../support/mail.js';
import { launchChromium, ensurePagesBuilt, logIn } from '../../support/browser.js';

const PHONE = { width: 390, height: 844 };

// What a student meets around their account, in the browser: a link from the email, a password
// change an admin asked for, and a login that ends elsewhere.
describe('account pages (Chromium): set-password link, forced change, ended login', function () {
  this.timeout(40_000);
  let smtp: TestSmtpServer;
  let srv: TestServer;
  let browser: Browser;
  let student: User;
  const contexts: BrowserContext[] = [];

  before(async function () {
    await ensurePagesBuilt('reset.js');
    smtp = await startSmtpServer();
    srv = await startTestServer({ SMTP_URL: smtp.url });
    const org = await createOrg(srv.store);
    student = await createUser(srv.store, org.id, 'student');
    browser = await launchChromium();
  });
  after(async () => {
    for (const ctx of contexts) await ctx.close();
    await browser?.close();
    await srv?.cleanup();
    await smtp?.close();
  });

  async function phone(): Promise<Page> {
    const ctx = await browser.newContext({ baseURL: srv.baseUrl, viewport: PHONE });
    contexts.push(ctx);
    return ctx.newPage();
  }

  it('asks for a link from the login form, sets a password from the emailed link, and logs in with it', async () => {
    const page = await phone();
    await page.goto('/student.html');
    await page.click('#forgot-link');
    await page.waitForSelector('#forgot-section:not([hidden])');
    const before = smtp.received.length;
    await page.fill('#forgot-email', student.email);
    await page.click('#forgot-form button[type="submit"]');
    await page.waitForSelector('#forgot-status:has-text("on its way")');
    const token = tokenFromMail((await smtp.next(student.email, before)).raw);

    // As from the email: a fresh load of the page (not a same-document hash change).
    await page.goto('about:blank');
    await page.goto(`${srv.baseUrl}/reset.html#token=${token}`);
    expect(new URL(page.url()).hash, 'the token leaves the address bar').to.equal('');
    await page.fill('#new-password', 'from-the-link-123');
    await page.fill('#repeat-password', 'from-the-link-123');
    await page.click('#set-form button[type="submit"]');
    await page.waitForSelector('#done-section:not([hidden])');

    await page.goto('/student.html');
    await logIn(page, student.email, 'from-the-link-123', { waitForApp: false });
    await page.waitForSelector('#app:not([hidden])');
  });

  it('sends a user an admin asked for a new password to the change form first, then back to the page', async () => {
    const other = await createUser(srv.store, student.orgId, 'student');
    await srv.store.users.update(other.orgId, other.id, { mustChangePassword: true });
    const page = await phone();
    await page.goto('/student.html');
    await logIn(page, other.email, PASSWORD, { waitForApp: false });
    await page.waitForURL('**/reset.html');
    await page.waitForSelector('#change-section:not([hidden])');
    await page.fill('#change-current', 'not-the-password');
    await page.fill('#change-new', 'brand-new-pass-1');
    await page.fill('#change-repeat', 'brand-new-pass-1');
    await page.click('#change-form button[type="submit"]');
    await page.waitForSelector('#change-error:not(:empty)');
    await page.fill('#change-current', PASSWORD);
    await page.click('#change-form button[type="submit"]');
    await page.waitForURL('**/student.html');
    await page.waitForSelector('#app:not([hidden])');
    expect((await srv.store.users.get(other.orgId, other.id))!.mustChangePassword).to.equal(false);
  });

  it('returns to the login form when the login is ended on another device', async () => {
    const other = await createUser(srv.store, student.orgId, 'student');
    const page = await phone();
    await page.goto('/student.html');
    await logIn(page, other.email, PASSWORD, { waitForApp: false });
    await page.waitForSelector('#connection[data-state="online"]');
    const refreshToken = await page.evaluate(
      () => (JSON.parse(localStorage.getItem('attendance.auth')!) as { refreshToken: string }).refreshToken,
    );
    const out = await srv.request('POST', '/api/v1/auth/logout', { body: { refreshToken } });
    expect(out.status).to.equal(204);
    await page.waitForSelector('#login:not([hidden])');
    expect(await page.evaluate(() => localStorage.getItem('attendance.auth'))).to.equal(null);
  });
});

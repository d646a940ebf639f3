import { expect } from 'chai';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { guardianEmailKey } from '../../../src/domain/guardians/guardian-unsubscribes.js';
import type { Organisation } from '../../../src/domain/ports/organisations.js';
import type { User } from '../../../src/domain/ports/users.js';
import { openAdminPage, screenshotAdmin, showSection, startDemoServer } from '../../support/admin-page.js';
import { expectAccessible, launchChromium } from '../../support/browser.js';
import type { TestServer } from '../../support/http.js';

// One student's guardian contacts from the users table: shown with what each address
// unsubscribed from, edited, added, removed and saved whole; a refused row is named by number.

describe('admin console: guardian contacts of a student (Chromium)', function () {
  this.timeout(60_000);

  let srv: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let org: Organisation;
  let student: User;

  before(async () => {
    ({ srv, org } = await startDemoServer());
    student = (await srv.store.users.getByEmail(org.id, 'student03@demo.school'))!;
    await srv.store.guardians.put(org.id, student.id, [
      { name: 'Maria Costa', relation: 'mother', email: 'maria@home.test', language: 'pt' },
      { name: 'João Costa', relation: 'father', email: 'joao@home.test', language: 'pt' },
    ]);
    await srv.store.guardians.unsubscribe(org.id, student.id, guardianEmailKey('joao@home.test'), 'digest');
    browser = await launchChromium();
    ({ context, page } = await openAdminPage(browser, srv.baseUrl));
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    await srv?.cleanup();
  });

  async function openStudent(): Promise<void> {
    // Shown already (by the test before), the panel would count as open before this opening has
    // fetched and drawn the contacts again.
    if (await page.isVisible('#guardians-panel')) await page.click('#guardian-close');
    await showSection(page, 'users');
    await page.fill('#user-q', 'student03');
    await page.click('#user-search button[type="submit"]');
    await page.waitForFunction(() => document.querySelectorAll('#users-body tr').length === 1);
    await page.click('#users-body button[aria-label="Guardians of Student 03"]');
    await page.waitForSelector('#guardians-panel:not([hidden])');
  }

  const rows = () => page.locator('#guardian-body tr');
  const values = (name: string) =>
    page.locator(`#guardian-body input[name="${name}"]`).evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value));

  it("shows a student's contacts, edits one, removes one, adds one, and saves the list whole", async () => {
    await openStudent();
    expect(await page.textContent('#guardians-title')).to.equal('Guardian contacts of Student 03');
    expect(await page.evaluate(() => document.activeElement?.id)).to.equal('guardians-title');
    expect(await values('name')).to.deep.equal(['Maria Costa', 'João Costa']);
    expect(await rows().nth(1).locator('td').nth(4).textContent()).to.equal('digests');
    // Teachers have no guardian contacts: no button on their rows.
    await page.fill('#user-q', 'ada@demo.school');
    await page.click('#user-search button[type="submit"]');
    await page.waitForSelector('#users-body th:has-text("Ada Lovelace")');
    expect(await page.locator('#users-body button:has-text("Guardians")').count()).to.equal(0);

    await page.getByLabel('Language 1', { exact: true }).fill('en');
    await page.click('#guardian-body button[aria-label="Remove the contact João Costa"]');
    await page.click('#guardian-add');
    const added = rows().last();
    expect(await page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.name)).to.equal('name');
    await added.locator('input[name="name"]').fill('Ana Lima');
    await added.locator('input[name="relation"]').fill('guardian');
    await added.locator('input[name="email"]').fill('ana@home.test');
    await page.click('#guardian-form button[type="submit"]');
    await page.waitForFunction(() =>
      /Saved 2 contacts of Student 03\./.test(document.getElementById('guardian-status')?.textContent ?? ''),
    );
    expect(await srv.store.guardians.get(org.id, student.id)).to.deep.equal([
      { name: 'Maria Costa', relation: 'mother', email: 'maria@home.test', language: 'en' },
      { name: 'Ana Lima', relation: 'guardian', email: 'ana@home.test', language: 'en' },
    ]);
    const audit = await srv.store.audit.listForEntity(org.id, 'user', student.id);
    expect(audit.map((e) => e.action)).to.deep.equal(['user.guardians']);
    await expectAccessible(page, 'guardian contacts');
    await screenshotAdmin(page, 'guardians');
  });

  it('names a refused row by its number and writes nothing; an empty list removes every contact', async () => {
    await openStudent();
    await page
      .locator('#guardian-body input[name="language"]')
      .nth(1)
      .evaluate((e) => ((e as HTMLInputElement).value = 'Not a tag'));
    await page.locator('#guardian-form').evaluate((f) => ((f as HTMLFormElement).noValidate = true));
    await page.click('#guardian-form button[type="submit"]');
    await page.waitForFunction(() => (document.getElementById('guardian-error')?.textContent ?? '') !== '');
    expect(await page.textContent('#guardian-error')).to.equal('Row 2, Language: not a language tag (such as en or fr-CA).');
    expect(await srv.store.guardians.get(org.id, student.id)).to.have.length(2);

    await page.click('#guardian-body button[aria-label="Remove the contact Maria Costa"]');
    await page.click('#guardian-body button[aria-label="Remove the contact Ana Lima"]');
    expect(await page.textContent('#guardian-caption')).to.equal('No contacts');
    await page.click('#guardian-form button[type="submit"]');
    await page.waitForFunction(() =>
      /Student 03 has no guardian contacts now/.test(document.getElementById('guardian-status')?.textContent ?? ''),
    );
    expect(await srv.store.guardians.get(org.id, student.id)).to.deep.equal([]);
    await page.click('#guardian-close');
    expect(await page.isHidden('#guardians-panel')).to.equal(true);
  });
});

import { expect } from 'chai';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Organisation } from '../../../src/domain/ports/organisations.js';
import { openAdminPage, screenshotAdmin, showSection, startDemoServer } from '../../support/admin-page.js';
import { expectAccessible, launchChromium } from '../../support/browser.js';
import type { TestServer } from '../../support/http.js';
import { sampleBundle } from '../../support/oneroster-bundle.js';

// The admin console's OneRoster import: the bundle's files chosen together are checked (a dry
// run writes nothing) and the report shown; then imported. A bundle refused whole lists why.

describe('admin console: OneRoster import (Chromium)', function () {
  this.timeout(60_000);

  let srv: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let org: Organisation;

  before(async () => {
    ({ srv, org } = await startDemoServer());
    browser = await launchChromium();
    ({ context, page } = await openAdminPage(browser, srv.baseUrl));
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    await srv?.cleanup();
  });

  const files = (bundle: Record<string, string | undefined>) =>
    Object.entries(bundle).map(([name, text]) => ({ name: `${name}.csv`, mimeType: 'text/csv', buffer: Buffer.from(text ?? '') }));
  const springfield = async () =>
    (await srv.store.users.list(org.id, { q: 'springfield.test', limit: 100, offset: 0 })).items.map((u) => u.email).sort();
  const usersCounts = () => page.locator('#oneroster-counts-body tr[data-file="users"] td').allTextContents();

  it('refuses a bundle with a missing column whole, naming the file and line, and writes nothing', async () => {
    await showSection(page, 'oneroster');
    const bundle = sampleBundle();
    await page.setInputFiles('#oneroster-files', files({ ...bundle, classes: bundle.classes!.replace('termSourcedIds', 'terms') }));
    await page.click('#oneroster-form button[type="submit"]');
    await page.waitForSelector('#oneroster-refused-block:not([hidden])');
    expect(await page.locator('#oneroster-refused-body td').allTextContents()).to.deep.equal([
      'classes.csv',
      '1',
      'missing column(s): termSourcedIds',
    ]);
    expect(await page.textContent('#oneroster-error')).to.match(/^The bundle was refused as a whole and nothing was written/);
    expect(await page.isHidden('#oneroster-go')).to.equal(true);
    expect(await springfield()).to.deep.equal([]);
  });

  it('checks a bundle (nothing written), shows what it would do, then imports it', async () => {
    await showSection(page, 'oneroster');
    await page.setInputFiles('#oneroster-files', files(sampleBundle()));
    await page.click('#oneroster-form button[type="submit"]');
    await page.waitForSelector('#oneroster-go:not([hidden])');
    // The status is announced a moment after the report shows (a separate task for screen readers).
    await page.waitForFunction(() => /^Checked, nothing written: /.test(document.getElementById('oneroster-status')?.textContent ?? ''));
    expect(await page.isHidden('#oneroster-refused-block')).to.equal(true);
    expect(await page.locator('#oneroster-counts-head th').allTextContents()).to.deep.equal([
      'File',
      'Would create',
      'Would update',
      'Unchanged',
      'Would skip',
      'Would refuse',
    ]);
    expect(await usersCounts()).to.deep.equal(['3', '0', '0', '1', '1']);
    // The refused row comes first, with its line and reason.
    const refused = page.locator('#oneroster-rows-body tr').first();
    expect(await refused.getAttribute('data-action')).to.equal('error');
    expect(await refused.locator('td').allTextContents()).to.include.members(['users.csv', 's-3', 'Would refuse']);
    expect(await springfield()).to.deep.equal([]);
    await expectAccessible(page, 'OneRoster dry run');
    await screenshotAdmin(page, 'oneroster-dry-run');

    await page.click('#oneroster-go');
    await page.waitForFunction(() => /^Imported: /.test(document.getElementById('oneroster-status')?.textContent ?? ''));
    expect(await page.isHidden('#oneroster-go')).to.equal(true);
    expect(await page.locator('#oneroster-counts-head th').nth(1).textContent()).to.equal('Created');
    expect(await usersCounts()).to.deep.equal(['3', '0', '0', '1', '1']);
    expect(await springfield()).to.deep.equal(['ada@springfield.test', 'ben@springfield.test', 'cleo@springfield.test']);
  });

  it('says which chosen file is not part of a bundle, before sending anything', async () => {
    await showSection(page, 'oneroster');
    await page.setInputFiles('#oneroster-files', [
      ...files({ users: sampleBundle().users }),
      { name: 'students.csv', mimeType: 'text/csv', buffer: Buffer.from('name\n') },
    ]);
    await page.click('#oneroster-form button[type="submit"]');
    await page.waitForFunction(() => (document.getElementById('oneroster-error')?.textContent ?? '') !== '');
    expect(await page.textContent('#oneroster-error')).to.match(/^Not a file of a OneRoster bundle: students\.csv\./);
  });

  it("says when the bundle is over the server's request limit, and how to import it instead", async () => {
    await showSection(page, 'oneroster');
    // Over the test server's BODY_LIMIT_BYTES (1 MiB by default).
    await page.setInputFiles('#oneroster-files', files({ users: `${sampleBundle().users}${'x'.repeat(1_100_000)}` }));
    await page.click('#oneroster-form button[type="submit"]');
    await page.waitForFunction(() => (document.getElementById('oneroster-error')?.textContent ?? '') !== '');
    expect(await page.textContent('#oneroster-error')).to.match(/larger than the server takes in one request .* oneroster import\.$/);
  });
});

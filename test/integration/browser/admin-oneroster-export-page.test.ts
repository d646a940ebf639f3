import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Organisation } from '../../../src/domain/ports/organisations.js';
import { DEMO_PASSWORDS, seedDemo } from '../../../src/domain/seed.js';
import { openAdminPage, screenshotAdmin, showSection } from '../../support/admin-page.js';
import { ensurePagesBuilt, expectAccessible, launchChromium } from '../../support/browser.js';
import { startTestServer, type TestServer } from '../../support/http.js';
import { cheapPasswordHasher } from '../../support/passwords.js';

// The admin console's OneRoster attendance export, beside the import: a range of days and
// optionally a subject, downloaded exactly as GET /oneroster/attendance.csv answers it.

describe('admin console: OneRoster attendance export (Chromium)', function () {
  this.timeout(60_000);

  // The demo's term of past sessions ends the day before this.
  const NOW = new Date('2026-03-16T12:00:00Z');
  let srv: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let org: Organisation;
  let token: string;

  before(async () => {
    await ensurePagesBuilt('admin.js');
    srv = await startTestServer({ HTTP_HEAVY_RATE_PER_MINUTE: '1000' });
    await seedDemo(srv.store, { passwords: cheapPasswordHasher(), history: true, now: NOW });
    org = (await srv.store.organisations.getBySlug('demo'))!;
    token = (await srv.login('admin@demo.school', DEMO_PASSWORDS.admin)).accessToken;
    browser = await launchChromium();
    ({ context, page } = await openAdminPage(browser, srv.baseUrl));
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    await srv?.cleanup();
  });

  /** The file the page downloads after choosing these, and what the API answers for the same query. */
  async function exportBoth(from: string, to: string, subjectLabel: string | null): Promise<[string, string]> {
    await showSection(page, 'oneroster');
    await page.fill('#oneroster-export-from', from);
    await page.fill('#oneroster-export-to', to);
    await page.selectOption('#oneroster-export-subject', subjectLabel === null ? { value: '' } : { label: subjectLabel });
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#oneroster-export-form button[type="submit"]')]);
    expect(download.suggestedFilename()).to.equal(`attendance-${from}-to-${to}.csv`);
    const file = readFileSync((await download.path())!, 'utf8');
    const subjectId = await page.inputValue('#oneroster-export-subject');
    const query = new URLSearchParams({ from, to, ...(subjectId ? { subjectId } : {}) });
    const api = await srv.request('GET', `/api/v1/oneroster/attendance.csv?${query}`, { token });
    expect(api.status).to.equal(200);
    return [file, String(api.body)];
  }

  it('downloads the attendance of a range of days, all subjects or one, as the API answers it', async () => {
    const [all, allApi] = await exportBoth('2026-03-02', '2026-03-06', null);
    expect(all).to.equal(allApi);
    const lines = all.trim().split(/\r?\n/);
    expect(lines[0]).to.match(/^classSourcedId,classCode,sessionId,sessionDate,/);
    expect(lines.length).to.be.greaterThan(30);
    const codes = new Set(lines.slice(1).map((l) => l.split(',')[1]));
    expect([...codes].sort()).to.deep.equal(['CS101', 'CS102']);
    await page.waitForFunction(() =>
      /^Downloaded the attendance of 2026-03-02 to 2026-03-06/.test(document.getElementById('oneroster-export-status')?.textContent ?? ''),
    );

    const subject = (await srv.store.subjects.list(org.id, { limit: 10, offset: 0 })).items.find((s) => s.code === 'CS102')!;
    const [one, oneApi] = await exportBoth('2026-03-02', '2026-03-06', `${subject.code} ${subject.name}`);
    expect(one).to.equal(oneApi);
    const oneLines = one.trim().split(/\r?\n/);
    expect(oneLines.length).to.be.greaterThan(1);
    expect(oneLines.slice(1).every((l) => l.split(',')[1] === 'CS102')).to.equal(true);
    await expectAccessible(page, 'OneRoster export');
    await screenshotAdmin(page, 'oneroster-export');
  });

  it('says in words when the days are the wrong way round, and downloads nothing', async () => {
    await showSection(page, 'oneroster');
    await page.fill('#oneroster-export-from', '2026-03-06');
    await page.fill('#oneroster-export-to', '2026-03-02');
    let downloaded = false;
    page.once('download', () => (downloaded = true));
    await page.click('#oneroster-export-form button[type="submit"]');
    await page.waitForFunction(() => (document.getElementById('oneroster-export-error')?.textContent ?? '') !== '');
    expect(await page.textContent('#oneroster-export-error')).to.equal('The “From” day must not be after the “To” day.');
    expect(downloaded).to.equal(false);
  });
});

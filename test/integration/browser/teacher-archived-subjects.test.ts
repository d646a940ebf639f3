import { expect } from 'chai';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { DEMO_PASSWORDS, seedDemo } from '../../../src/domain/seed.js';
import { startTestServer, type TestServer } from '../../support/http.js';
import { ensurePagesBuilt, launchChromium, logIn } from '../../support/browser.js';
import { cheapPasswordHasher } from '../../support/passwords.js';

// A teacher in September: last year's subjects are archived, so the console's list holds this
// year's only; the "also archived" box brings last year's back, marked, to read their sessions
// and records, in the page's language, and takes them away again.
describe('teacher console: archived subjects listed only on request (Chromium)', function () {
  this.timeout(60_000);

  let srv: TestServer;
  let browser: Browser;
  let context: BrowserContext;

  before(async function () {
    await ensurePagesBuilt('locale-teacher-fr.js');
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    srv = await startTestServer();
    await seedDemo(srv.store, { passwords: cheapPasswordHasher() });
  });
  afterEach(async () => {
    await context?.close();
    await srv?.cleanup();
  });

  /** Ada teaches a subject of last year, archived; she already teaches others in use. */
  async function lastYear(): Promise<{ code: string; id: string }> {
    const org = (await srv.store.organisations.getBySlug('demo'))!;
    const ada = (await srv.store.users.getByEmail(org.id, 'ada@demo.school'))!;
    const old = await srv.store.subjects.create(org.id, {
      code: 'OLD-2025',
      name: 'Last year’s maths',
      teacherIds: [ada.id],
      location: null,
      allowedIpRanges: [],
    });
    await srv.store.subjects.update(org.id, old.id, { archivedAt: new Date() });
    return old;
  }

  const options = (page: Page) =>
    page.$$eval('#subject-select option', (os) => os.map((o) => [(o as HTMLOptionElement).value, o.textContent ?? '']));

  async function adaConsole(locale: string): Promise<Page> {
    context = await browser.newContext({ baseURL: srv.baseUrl, locale, viewport: { width: 1366, height: 900 }, bypassCSP: true });
    context.setDefaultTimeout(8_000);
    const page = await context.newPage();
    await page.goto('/teacher.html');
    await logIn(page, 'ada@demo.school', DEMO_PASSWORDS.teacher);
    await page.waitForSelector('#subject-select option', { state: 'attached' });
    return page;
  }

  it('lists last year’s subject, marked archived, only while the box is ticked', async () => {
    const old = await lastYear();
    const page = await adaConsole('en-GB');
    const inUse = await options(page);
    expect(inUse.length).to.be.greaterThan(0);
    expect(inUse.map(([id]) => id)).to.not.include(old.id);
    expect(await page.isChecked('#subjects-archived')).to.equal(false);

    await page.check('#subjects-archived');
    await page.waitForFunction(
      (id) => [...document.querySelectorAll('#subject-select option')].some((o) => (o as HTMLOptionElement).value === id),
      old.id,
    );
    const all = await options(page);
    expect(all.slice(0, inUse.length), 'the subjects in use first, unchanged').to.deep.equal(inUse);
    expect(all.slice(inUse.length)).to.deep.equal([[old.id, 'OLD-2025 · Last year’s maths (archived)']]);

    // Chosen, it stays chosen; unticked, it goes and the choice falls back to a subject in use.
    await page.selectOption('#subject-select', old.id);
    await page.uncheck('#subjects-archived');
    await page.waitForFunction(
      (id) => ![...document.querySelectorAll('#subject-select option')].some((o) => (o as HTMLOptionElement).value === id),
      old.id,
    );
    expect(await options(page)).to.deep.equal(inUse);
    expect(inUse.map(([id]) => id)).to.include(await page.$eval('#subject-select', (el) => (el as HTMLSelectElement).value));
  });

  it('marks it in French on a French console', async () => {
    const old = await lastYear();
    // The school's language: Ada's console after sign-in.
    const org = (await srv.store.organisations.getBySlug('demo'))!;
    await srv.store.organisations.update(org.id, { settings: { ...org.settings, language: 'fr' } });
    const page = await adaConsole('fr-FR');
    await page.check('#subjects-archived');
    await page.waitForFunction(
      (id) => [...document.querySelectorAll('#subject-select option')].some((o) => (o as HTMLOptionElement).value === id),
      old.id,
    );
    const label = (await options(page)).find(([id]) => id === old.id)![1];
    expect(label).to.equal('OLD-2025 · Last year’s maths (archivée)');
  });
});

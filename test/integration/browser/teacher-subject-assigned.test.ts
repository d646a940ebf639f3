import { expect } from 'chai';
import { type Browser, type BrowserContext } from 'playwright-core';
import { DEMO_PASSWORDS, seedDemo } from '../../../src/domain/seed.js';
import { startTestServer, type TestServer } from '../../support/http.js';
import { ensurePagesBuilt, launchChromium, logIn } from '../../support/browser.js';
import { cheapPasswordHasher } from '../../support/passwords.js';

// An admin adds a teacher to a subject while the teacher's console is open: the subject joins
// its list at once (no reload), the subject the teacher had chosen stays chosen, and the change
// is announced in the page's language.
describe('teacher console: a subject given while open is listed at once (Chromium)', function () {
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
    context = await browser.newContext({ baseURL: srv.baseUrl, locale: 'en-GB', viewport: { width: 1366, height: 900 }, bypassCSP: true });
    context.setDefaultTimeout(8_000);
  });
  afterEach(async () => {
    await context?.close();
    await srv?.cleanup();
  });

  for (const [language, words] of [
    ['en', 'You now teach AA100'],
    ['fr', 'Vous enseignez désormais AA100'],
  ] as const) {
    it(`lists the subject an admin gives Ada, and says so (${language})`, async () => {
      const org = (await srv.store.organisations.getBySlug('demo'))!;
      const ada = (await srv.store.users.getByEmail(org.id, 'ada@demo.school'))!;
      const alan = (await srv.store.users.getByEmail(org.id, 'alan@demo.school'))!;
      const admin = (await srv.store.users.getByEmail(org.id, 'admin@demo.school'))!;
      // The school's language: the console's before sign-in and Ada's after.
      await srv.store.organisations.update(org.id, { settings: { ...org.settings, language } });
      // Alan's, first in code order: a list rebuilt without keeping the choice would pick it.
      const given = await srv.store.subjects.create(org.id, {
        code: 'AA100',
        name: 'Algorithms',
        teacherIds: [alan.id],
        location: null,
        allowedIpRanges: [],
      });
      const page = await context.newPage();
      await page.goto('/teacher.html');
      await logIn(page, 'ada@demo.school', DEMO_PASSWORDS.teacher);
      // Online: the socket is in Ada's room, where the notice goes.
      await page.waitForSelector('#connection[data-state="online"]');
      const before = await page.$$eval('#subject-select option', (os) => os.map((o) => (o as HTMLOptionElement).value));
      expect(before).to.have.length(1);
      expect(before).to.not.include(given.id);

      const res = await fetch(`${srv.baseUrl}/api/v1/subjects/${given.id}`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${srv.app.tokenService.signAccess(admin).token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ teacherIds: [alan.id, ada.id] }),
      });
      expect(res.status, await res.clone().text()).to.equal(200);

      await page.waitForSelector(`#subject-select option[value="${given.id}"]`, { state: 'attached' });
      expect(await page.$eval('#subject-select', (el) => (el as HTMLSelectElement).value)).to.equal(before[0]);
      await page.waitForFunction((text) => document.getElementById('live')?.textContent?.includes(text), words);
    });
  }
});

import { expect } from 'chai';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { DEMO_PASSWORDS, seedDemo } from '../../../src/domain/seed.js';
import { startTestServer, type TestServer } from '../../support/http.js';
import { ensurePagesBuilt, launchChromium, logIn } from '../../support/browser.js';
import { cheapPasswordHasher } from '../../support/passwords.js';
import { command, connectClient, ok } from '../../support/sockets.js';

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

  /**
   * Ada, Alan, and AA100: Alan's, Ada's too after `give()` (an admin's PATCH). First in code
   * order: a list rebuilt without keeping the choice would pick it.
   */
  async function cast() {
    const org = (await srv.store.organisations.getBySlug('demo'))!;
    const ada = (await srv.store.users.getByEmail(org.id, 'ada@demo.school'))!;
    const alan = (await srv.store.users.getByEmail(org.id, 'alan@demo.school'))!;
    const admin = (await srv.store.users.getByEmail(org.id, 'admin@demo.school'))!;
    const given = await srv.store.subjects.create(org.id, {
      code: 'AA100',
      name: 'Algorithms',
      teacherIds: [alan.id],
      location: null,
      allowedIpRanges: [],
    });
    const give = async () => {
      const res = await fetch(`${srv.baseUrl}/api/v1/subjects/${given.id}`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${srv.app.tokenService.signAccess(admin).token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ teacherIds: [alan.id, ada.id] }),
      });
      expect(res.status, await res.clone().text()).to.equal(200);
    };
    return { org, ada, alan, given, give };
  }

  const optionValues = (page: Page) => page.$$eval('#subject-select option', (os) => os.map((o) => (o as HTMLOptionElement).value));
  const chosen = (page: Page) => page.$eval('#subject-select', (el) => (el as HTMLSelectElement).value);

  /** Ada's `path`, signed in and `ready`, with the subjects it lists then. */
  async function adaOn(path: string, ready: string): Promise<{ page: Page; before: string[] }> {
    const page = await context.newPage();
    await page.goto(path);
    await logIn(page, 'ada@demo.school', DEMO_PASSWORDS.teacher);
    await page.waitForSelector(ready);
    return { page, before: await optionValues(page) };
  }

  // Online: the socket is in Ada's room, where the notice goes.
  const ONLINE = '#connection[data-state="online"]';

  it('lists a subject given while the console was offline once it is back, the choice kept', async () => {
    const { given, give } = await cast();
    const { page, before } = await adaOn('/teacher.html', ONLINE);
    // The link drops: the notice goes to Ada's room while her console is in none.
    await context.setOffline(true);
    await page.waitForSelector('#connection[data-state="offline"]');
    await give();
    await context.setOffline(false);
    await page.waitForSelector(ONLINE);
    await page.waitForSelector(`#subject-select option[value="${given.id}"]`, { state: 'attached' });
    expect(await chosen(page)).to.equal(before[0]);
    await page.waitForFunction(() => document.getElementById('live')?.textContent?.includes('You now teach AA100'));
  });

  it("the projector's session list shows the open session of a subject given while it is open", async () => {
    const { alan, given, give } = await cast();
    const staff = await connectClient(srv.baseUrl, srv.app.tokenService.signAccess(alan).token);
    try {
      const session = ok(
        await command(staff, 'session:open', {
          subjectId: given.id,
          policy: { geofence: false, network: false, rotatingCode: true, selfie: false },
        }),
      );
      const { page } = await adaOn('/classroom.html', '#session-list li');
      expect(await page.locator(`#session-list a[href*="${session.id}"]`).count()).to.equal(0);
      await give();
      await page.waitForSelector(`#session-list a[href*="${session.id}"]`);
    } finally {
      staff.disconnect();
    }
  });

  it('the reports page lists a subject given while it is open, the chosen one kept', async () => {
    const { given, give } = await cast();
    const { page, before } = await adaOn('/reports.html', 'body[data-ready="true"]');
    expect(before).to.not.include(given.id);
    await give();
    await page.waitForSelector(`#subject-select option[value="${given.id}"]`, { state: 'attached' });
    expect(await chosen(page)).to.equal(before[0]);
  });

  for (const [language, words] of [
    ['en', 'You now teach AA100'],
    ['fr', 'Vous enseignez désormais AA100'],
  ] as const) {
    it(`lists the subject an admin gives Ada, and says so (${language})`, async () => {
      const { org, given, give } = await cast();
      // The school's language: the console's before sign-in and Ada's after.
      await srv.store.organisations.update(org.id, { settings: { ...org.settings, language } });
      const { page, before } = await adaOn('/teacher.html', ONLINE);
      expect(before).to.have.length(1);
      expect(before).to.not.include(given.id);
      await give();
      await page.waitForSelector(`#subject-select option[value="${given.id}"]`, { state: 'attached' });
      expect(await chosen(page)).to.equal(before[0]);
      await page.waitForFunction((text) => document.getElementById('live')?.textContent?.includes(text), words);
    });
  }
});

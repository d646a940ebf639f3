import { expect } from 'chai';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { DEMO_PASSWORDS, seedDemo } from '../../../src/domain/seed.js';
import { startTestServer, type TestServer } from '../../support/http.js';
import { ensurePagesBuilt, expectAccessible, launchChromium, logIn } from '../../support/browser.js';
import { cheapPasswordHasher } from '../../support/passwords.js';

// A teacher corrects a record after the class: the next day a student says their phone died. The
// console lists the subject's latest closed sessions; one opens with its correction form (a
// reason asked), where before only that session's own address led back to it.
describe('teacher console: correcting a closed session after the class (Chromium)', function () {
  this.timeout(60_000);

  let srv: TestServer;
  let browser: Browser;
  let context: BrowserContext | undefined;

  before(async () => {
    await ensurePagesBuilt('locale-teacher-fr.js');
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    await context?.close();
    context = undefined;
    await srv?.cleanup();
  });

  async function adaConsole(): Promise<Page> {
    context = await browser.newContext({ baseURL: srv.baseUrl, locale: 'en-GB', viewport: { width: 1366, height: 900 }, bypassCSP: true });
    context.setDefaultTimeout(8_000);
    const page = await context.newPage();
    page.on('dialog', (dialog) => void dialog.accept());
    await page.goto('/teacher.html');
    await logIn(page, 'ada@demo.school', DEMO_PASSWORDS.teacher);
    await page.waitForSelector('#subject-select option', { state: 'attached' });
    return page;
  }

  const closedLines = (page: Page) => page.$$eval('#closed-list li', (lis) => lis.map((li) => li.textContent ?? ''));

  it('lists the session closed in class, and a fresh console opens it to correct a record with a reason', async () => {
    srv = await startTestServer();
    await seedDemo(srv.store, { passwords: cheapPasswordHasher() });
    let page = await adaConsole();
    await page.waitForFunction(() => document.querySelector('#closed-list li')?.textContent === 'No closed session yet.');

    await page.selectOption('#policy-preset', 'manual');
    await page.click('#open-form button[type="submit"]');
    await page.waitForSelector('#close-session:not([disabled])');
    await page.click('#close-session');
    await page.waitForFunction(() => /Open to correct/.test(document.querySelector('#closed-list li')?.textContent ?? ''));
    const sessionId = new URL(page.url()).searchParams.get('session')!;
    const day = (await srv.store.sessions.get((await srv.store.organisations.getBySlug('demo'))!.id, sessionId))!.day;
    expect(await closedLines(page)).to.have.length(1);
    expect((await closedLines(page))[0]).to.match(new RegExp(`^${day}, from \\d\\d:\\d\\d \\(closed\\) Open to correct$`));

    // The next day: the console opened afresh, no session in its address.
    await context!.close();
    page = await adaConsole();
    await page.waitForSelector('#closed-list li button');
    expect(await page.isHidden('#session-section')).to.equal(true);
    await expectAccessible(page, 'teacher console with closed sessions');
    await page.click('#closed-list li button');
    await page.waitForSelector('#session-section:not([hidden])');
    expect(new URL(page.url()).searchParams.get('session')).to.equal(sessionId);
    expect(await page.textContent('#mark-legend')).to.equal('Correct a record (session closed: a reason is required)');
    expect(await page.evaluate(() => document.activeElement?.id)).to.equal('session-title');

    const org = (await srv.store.organisations.getBySlug('demo'))!;
    const student = (await srv.store.users.getByEmail(org.id, 'student01@demo.school'))!;
    await page.waitForSelector(`#mark-student option[value="${student.id}"]`, { state: 'attached' });
    await page.selectOption('#mark-student', student.id);
    await page.selectOption('#mark-status', 'present');
    await page.fill('#mark-reason', 'Phone battery died; seen in class');
    await page.click('#mark-form button[type="submit"]');

    const { accessToken } = await srv.login('ada@demo.school', DEMO_PASSWORDS.teacher);
    const corrected = async () => {
      const res = await srv.request('GET', `/api/v1/sessions/${sessionId}/records`, { token: accessToken });
      return (res.body.entries as { studentId: string; status: string }[]).find((e) => e.studentId === student.id)?.status;
    };
    const deadline = Date.now() + 5_000;
    while ((await corrected()) !== 'present' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await corrected()).to.equal('present');
  });

  it('lists the five latest closed sessions, newest first', async () => {
    srv = await startTestServer();
    await seedDemo(srv.store, { passwords: cheapPasswordHasher(), history: true });
    const page = await adaConsole();
    await page.waitForFunction(() => document.querySelectorAll('#closed-list li button').length > 0);
    const org = (await srv.store.organisations.getBySlug('demo'))!;
    const cs101 = (await srv.store.subjects.list(org.id, { limit: 10, offset: 0 })).items.find((s) => s.code === 'CS101')!;
    expect(await page.inputValue('#subject-select')).to.equal(cs101.id);
    const days = (await closedLines(page)).map((line) => line.slice(0, 10));
    expect(days).to.have.length(5);
    expect([...days].sort().reverse(), 'newest first').to.deep.equal(days);
    const { accessToken } = await srv.login('ada@demo.school', DEMO_PASSWORDS.teacher);
    const all = await srv.request('GET', `/api/v1/subjects/${cs101.id}/sessions?status=closed&limit=1`, { token: accessToken });
    expect(all.body.total).to.be.greaterThan(5);
    expect(days[0]).to.equal(all.body.items[0].day);
  });
});

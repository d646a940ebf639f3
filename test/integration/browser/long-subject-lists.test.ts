import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { createOrg, createSubject, createUser, PASSWORD } from '../../support/fixtures.js';
import { startTestServer, type TestServer } from '../../support/http.js';
import { ensurePagesBuilt, launchChromium, logIn } from '../../support/browser.js';

/** Past the API's largest page (PAGE_MAX, 200). */
const SUBJECTS = 250;

/**
 * The teacher's and the reports page's subject choosers, and the student's excuse form, read one
 * page of 200 subjects: a school with 350 could not pick the rest. Each follows the pages now.
 */
describe('subject choosers list every subject past one page (Chromium)', function () {
  this.timeout(120_000);
  let srv: TestServer;
  let browser: Browser;
  let teacherEmail: string;
  let studentEmail: string;
  let adminEmail: string;

  before(async () => {
    await ensurePagesBuilt('reports.js');
    srv = await startTestServer();
    const org = await createOrg(srv.store);
    const [teacher, student, admin] = await Promise.all([
      createUser(srv.store, org.id, 'teacher'),
      createUser(srv.store, org.id, 'student'),
      createUser(srv.store, org.id, 'admin'),
    ]);
    [teacherEmail, studentEmail, adminEmail] = [teacher.email, student.email, admin.email];
    for (let i = 0; i < SUBJECTS; i += 1) await createSubject(srv.store, org.id, [teacher.id], [student.id]);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await srv?.cleanup();
  });

  for (const [page, select, who] of [
    ['/teacher.html', '#subject-select', 'teacher'],
    ['/reports.html', '#subject-select', 'admin'],
    ['/student.html', '#excuse-subject', 'student'],
  ] as const) {
    it(`${page} as ${who}: ${select} offers all ${SUBJECTS}`, async () => {
      const context = await browser.newContext({ baseURL: srv.baseUrl, locale: 'en-GB', bypassCSP: true });
      try {
        const tab = await context.newPage();
        await tab.goto(page);
        await logIn(tab, { teacher: teacherEmail, admin: adminEmail, student: studentEmail }[who], PASSWORD);
        await tab.waitForSelector(`${select} option`, { state: 'attached' });
        // Drawn once, from the whole list: the first option attached means all of them are.
        const options = await tab.$$eval(`${select} option`, (os) => os.map((o) => (o as HTMLOptionElement).value).filter(Boolean));
        expect(options).to.have.length(SUBJECTS);
      } finally {
        await context.close();
      }
    });
  }
});

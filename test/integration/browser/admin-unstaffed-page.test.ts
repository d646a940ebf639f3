import { expect } from 'chai';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Organisation } from '../../../src/domain/ports/organisations.js';
import { acceptingDialogs, openAdminPage, screenshotAdmin, showSection, startDemoServer } from '../../support/admin-page.js';
import { expectAccessible, launchChromium } from '../../support/browser.js';
import { createCodeSession } from '../../support/fixtures.js';
import type { TestServer } from '../../support/http.js';

// The admin console's sessions left without a teacher (docs/authorization.md): each upcoming
// session whose teacher can no longer run it, given to a teacher of its subject or cancelled.

describe('admin console: sessions left without a teacher (Chromium)', function () {
  this.timeout(60_000);

  let srv: TestServer;
  let org: Organisation;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const dialogs: string[] = [];
  const sessionIds: string[] = [];
  let goneId = '';
  let subjectId = '';

  before(async () => {
    ({ srv, org } = await startDemoServer());
    const teacher = (name: string, active: boolean) =>
      srv.store.users.create(org.id, {
        email: `${name.toLowerCase()}@demo.school`,
        name,
        role: 'teacher',
        studentNumber: null,
        passwordHash: null,
        active,
      });
    const gone = await teacher('Gone', false);
    const cover = await teacher('Cover', true);
    const subject = await srv.store.subjects.create(org.id, {
      code: 'UNS1',
      name: 'Unstaffed',
      teacherIds: [gone.id, cover.id],
      location: null,
      allowedIpRanges: [],
    });
    goneId = gone.id;
    subjectId = subject.id;
    for (const days of [1, 2]) {
      const startsAt = new Date(Date.now() + days * 86_400_000);
      sessionIds.push((await createCodeSession(srv.store, org.id, subject.id, gone.id, { status: 'scheduled', startsAt })).id);
    }
    browser = await launchChromium();
    ({ context, page } = await openAdminPage(browser, srv.baseUrl, { watch: acceptingDialogs(dialogs) }));
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    await srv?.cleanup();
  });

  const rows = () => page.locator('#unstaffed-body tr');

  it("says on every section how many wait, beside the section's tab and in a line leading to it", async () => {
    // The console opened on Users (openAdminPage): the count is read on load, as the alert email goes out.
    await page.waitForSelector('#unstaffed-notice:not([hidden])');
    expect(await page.textContent('#unstaffed-notice')).to.equal(
      '2 upcoming sessions have no teacher who can run them: give each to a teacher or cancel it.',
    );
    expect(await page.textContent('#unstaffed-count')).to.equal('(2)');
    await expectAccessible(page, 'the console with sessions left without a teacher');
    await page.click('#unstaffed-notice-link');
    await page.waitForSelector('#tab-unstaffed:not([hidden]):not([aria-busy="true"])');
  });

  it('lists them earliest first with who holds them and why, and gives one to the teacher picked', async () => {
    await showSection(page, 'unstaffed');
    await page.waitForFunction(() => document.querySelectorAll('#unstaffed-body tr').length === 2);
    const first = await rows().first().locator('td').allTextContents();
    expect(first.slice(1, 4)).to.deep.equal(['UNS1 Unstaffed', 'Gone', 'Deactivated']);
    expect(await page.isHidden('#unstaffed-none')).to.equal(true);
    await expectAccessible(page, 'sessions left without a teacher');
    await screenshotAdmin(page, 'unstaffed');
    await rows()
      .first()
      .getByRole('button', { name: /^Give UNS1/ })
      .click();
    await page.waitForFunction(() => document.querySelectorAll('#unstaffed-body tr').length === 1);
    // The status is announced in a task of its own (announce: screen readers notice the change).
    await page.waitForFunction(() => (document.querySelector('#unstaffed-status')?.textContent ?? '') !== '');
    expect(await page.textContent('#unstaffed-status')).to.match(/given to Cover\.$/);
    const given = await srv.store.sessions.get(org.id, sessionIds[0]!);
    expect([given?.status, (await srv.store.users.get(org.id, given!.teacherId))?.name]).to.deep.equal(['scheduled', 'Cover']);
  });

  it('cancels one after asking, and says when none is left', async () => {
    await showSection(page, 'unstaffed');
    await rows()
      .first()
      .getByRole('button', { name: /^Cancel UNS1/ })
      .click();
    await page.waitForSelector('#unstaffed-none:not([hidden])');
    expect(dialogs.at(-1)).to.match(/^Cancel UNS1 .*\? Its students will not be marked for it\.$/);
    expect((await srv.store.sessions.get(org.id, sessionIds[1]!))?.status).to.equal('cancelled');
    expect(await rows().count()).to.equal(0);
    // None left: neither the badge nor the line says any.
    expect([await page.textContent('#unstaffed-count'), await page.isHidden('#unstaffed-notice')]).to.deep.equal(['', true]);
  });

  it('shows 50 at a time, the rest one more page away, and reads the total again after a give', async () => {
    for (let n = 0; n < 52; n += 1) {
      const startsAt = new Date(Date.now() + 3 * 86_400_000 + n * 3_600_000);
      await createCodeSession(srv.store, org.id, subjectId, goneId, { status: 'scheduled', startsAt });
    }
    await showSection(page, 'users');
    await showSection(page, 'unstaffed');
    await page.waitForFunction(() => document.querySelectorAll('#unstaffed-body tr').length === 50);
    expect(await page.textContent('#unstaffed-shown')).to.equal('Showing 50 of 52, earliest first');
    expect(await page.textContent('#unstaffed-count')).to.equal('(52)');
    await page.getByRole('button', { name: 'Show more sessions' }).click();
    await page.waitForFunction(() => document.querySelectorAll('#unstaffed-body tr').length === 52);
    expect([await page.isHidden('#unstaffed-more'), await page.textContent('#unstaffed-shown')]).to.deep.equal([true, '']);
    await expectAccessible(page, 'sessions left without a teacher, every page shown');
    // The last one given: the rows shown are read again (all of them), the count follows.
    await rows()
      .last()
      .getByRole('button', { name: /^Give UNS1/ })
      .click();
    await page.waitForFunction(() => document.querySelectorAll('#unstaffed-body tr').length === 51);
    await page.waitForFunction(() => document.querySelector('#unstaffed-count')?.textContent === '(51)');
    expect(await page.textContent('#unstaffed-notice')).to.match(/^51 upcoming sessions have no teacher/);
  });
});

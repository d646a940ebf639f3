import { expect } from 'chai';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Organisation } from '../../../src/domain/ports/organisations.js';
import adminFr from '../../../src/web/locales/admin-fr.js';
import { openAdminPage, showSection, startDemoServer } from '../../support/admin-page.js';
import { ensurePagesBuilt, expectAccessible, launchChromium } from '../../support/browser.js';
import { createCodeSession } from '../../support/fixtures.js';
import type { TestServer } from '../../support/http.js';

// The count of sessions left without a teacher (admin-unstaffed-page.test.ts) on a console that
// reads in French: the line and the paging say it with the French catalog's words, plural
// chosen by the count and a no-break space before the colon (french-typography.test.ts).

const NBSP = '\u00a0';
const notice = adminFr['unstaffed.notice'] as { one: string; other: string };

describe('admin console in French: sessions left without a teacher, their count and pages (Chromium)', function () {
  this.timeout(240_000);

  let srv: TestServer;
  let org: Organisation;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let goneId = '';
  let subjectId = '';

  const addUnstaffed = async (count: number, fromDays: number) => {
    for (let n = 0; n < count; n += 1) {
      const startsAt = new Date(Date.now() + fromDays * 86_400_000 + n * 3_600_000);
      await createCodeSession(srv.store, org.id, subjectId, goneId, { status: 'scheduled', startsAt });
    }
  };

  before(async () => {
    await ensurePagesBuilt('locale-admin-fr.js');
    ({ srv, org } = await startDemoServer());
    await srv.store.organisations.update(org.id, { settings: { ...org.settings, language: 'fr' } });
    const gone = await srv.store.users.create(org.id, {
      email: 'partie@demo.school',
      name: 'Partie',
      role: 'teacher',
      studentNumber: null,
      passwordHash: null,
      active: false,
    });
    const subject = await srv.store.subjects.create(org.id, {
      code: 'UNS1',
      name: 'Sans enseignant',
      teacherIds: [gone.id],
      location: null,
      allowedIpRanges: [],
    });
    goneId = gone.id;
    subjectId = subject.id;
    // One at first: the line's singular form is read on the console's first paint.
    await addUnstaffed(1, 1);
    browser = await launchChromium();
    // Bounded waits, wide enough for a machine shared by a CI run and several test runs.
    ({ context, page } = await openAdminPage(browser, srv.baseUrl, { waitMs: 30_000 }));
    await page.waitForFunction(() => document.documentElement.lang === 'fr');
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    await srv?.cleanup();
  });

  it('says on every section that one session waits, in the singular, with French spacing', async () => {
    await page.waitForSelector('#unstaffed-notice:not([hidden])');
    const line = await page.textContent('#unstaffed-notice');
    expect(line).to.equal(notice.one.replace('#', '1'));
    expect(line).to.equal(`1 séance à venir n’a aucun enseignant qui puisse l’assurer${NBSP}: confiez-la à un enseignant ou annulez-la.`);
    expect(await page.textContent('#unstaffed-count')).to.equal('(1)');
    expect(await page.textContent('a[href="#unstaffed"]')).to.equal(`${adminFr['admin.nav.unstaffed']} (1)`);
    await expectAccessible(page, 'the console in French with a session left without a teacher');
  });

  it('shows 50 at a time with the French paging line, then the rest one more page away', async () => {
    await addUnstaffed(51, 3);
    await showSection(page, 'unstaffed');
    await page.waitForFunction(() => document.querySelectorAll('#unstaffed-body tr').length === 50);
    expect(await page.textContent('#unstaffed-shown')).to.equal('50 affichées sur 52, les plus proches d’abord');
    expect(await page.textContent('#unstaffed-count')).to.equal('(52)');
    expect(await page.textContent('#unstaffed-notice')).to.equal(notice.other.replace('#', '52'));
    expect(await page.textContent('#unstaffed-notice')).to.contain(`les assurer${NBSP}: confiez chacune`);
    await page.getByRole('button', { name: adminFr['unstaffed.more'] as string }).click();
    await page.waitForFunction(() => document.querySelectorAll('#unstaffed-body tr').length === 52);
    expect([await page.isHidden('#unstaffed-more'), await page.textContent('#unstaffed-shown')]).to.deep.equal([true, '']);
    const first = await page.locator('#unstaffed-body tr').first().locator('td').allTextContents();
    expect(first.slice(1, 4)).to.deep.equal(['UNS1 Sans enseignant', 'Partie', 'Désactivé']);
    await expectAccessible(page, 'sessions left without a teacher in French, every page shown');
  });
});

import { expect } from 'chai';
import type { Page } from 'playwright-core';
import type { Organisation } from '../../../src/domain/ports/organisations.js';
import { openAdminConsole, showSection, type AdminConsole } from '../../support/admin-page.js';
import { expectAccessible } from '../../support/browser.js';
import type { TestServer } from '../../support/http.js';

// At the start of a year the IT person adds the school's subjects, their teachers and classes
// from one spreadsheet on the Subjects page, instead of one at a time: the file is checked whole
// (the bad rows by line, nothing written), then its good rows go in chunks with a progress bar,
// and the list shows the new subjects. Then a refused row in French.

const HEADER = 'code,name,teacher_email,co_teacher_emails,student_numbers';
const GOOD_ROWS = 60;

function yearCsv(): string {
  const rows = [HEADER];
  for (let i = 1; i <= GOOD_ROWS; i += 1) {
    const code = `Y7-${String(i).padStart(2, '0')}`;
    rows.push(`${code},Year 7 group ${i},ada@demo.school,alan@demo.school,S0001 S0002`);
    // Line 32: a teacher nobody has; line 63: a student number nobody has.
    if (i === 30) rows.push('Y7-BAD1,Nobody teaches,nobody@demo.school,,');
  }
  rows.push('Y7-BAD2,Unknown pupil,ada@demo.school,,S9999');
  return `${rows.join('\n')}\n`;
}

const progressText = (page: Page) => page.textContent('#subject-import-progress-text');

async function chooseAndCheck(page: Page, csv: string): Promise<void> {
  await page.setInputFiles('#subject-import-file', { name: 'subjects.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await page.click('#subject-import-form button[type="submit"]');
  await page.waitForSelector('#subject-import-errors-block:not([hidden])');
}

async function chooseAndCheckFine(page: Page, csv: string): Promise<void> {
  await page.setInputFiles('#subject-import-file', { name: 'subjects.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await page.click('#subject-import-form button[type="submit"]');
  await page.waitForSelector('#subject-import-go:not([hidden])');
}

describe('admin console: a year’s subjects imported from CSV on the Subjects page (Chromium)', function () {
  this.timeout(90_000);

  let srv: TestServer;
  let org: Organisation;
  let page: Page;
  let admin: AdminConsole | undefined;

  afterEach(() => admin?.close());

  it('lists the bad rows by line, imports the good ones in chunks with progress, and lists the new subjects', async () => {
    admin = await openAdminConsole();
    ({ srv, org, page } = admin);
    await showSection(page, 'subjects');
    await page.waitForSelector('#subjects-body tr[data-subject-id]');
    expect(await page.textContent('#subject-import-title')).to.equal('Import subjects from CSV');

    await chooseAndCheck(page, yearCsv());
    expect(await page.locator('#subject-import-errors-body th').allTextContents()).to.deep.equal(['32', '63']);
    expect(await page.locator('#subject-import-errors-body td:nth-child(2)').allTextContents()).to.deep.equal(['Y7-BAD1', 'Y7-BAD2']);
    expect(await page.locator('#subject-import-errors-body td:last-child').allTextContents()).to.deep.equal([
      '1 email(s) of no user in this organisation: nobody@demo.school',
      '1 student number(s) of no student: S9999',
    ]);
    expect(await progressText(page)).to.equal(
      `2 of ${GOOD_ROWS + 2} rows have problems. You can import the ${GOOD_ROWS} other rows, or fix the file and check it again.`,
    );
    expect(await page.textContent('#subject-import-go')).to.equal(`Import the ${GOOD_ROWS} rows without problems`);
    const before = (await srv.store.subjects.list(org.id, { limit: 1, offset: 0 })).total;
    expect(await srv.store.subjects.getByCodes(org.id, ['Y7-01'])).to.deep.equal([]);
    await expectAccessible(page, 'admin subjects import checked');

    const sent: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/subjects/import')) sent.push(r.url().replace(/^.*\/api\/v1/, ''));
    });
    await page.click('#subject-import-go');
    await page.waitForFunction(() => /^Imported/.test(document.getElementById('subject-import-progress-text')?.textContent ?? ''));
    expect(await progressText(page)).to.equal(`Imported ${GOOD_ROWS} of ${GOOD_ROWS} subjects.`);
    const bar = await page.$eval('#subject-import-progress', (p) => [(p as HTMLProgressElement).value, (p as HTMLProgressElement).max]);
    expect(bar).to.deep.equal([GOOD_ROWS, GOOD_ROWS]);
    expect(await page.isVisible('#subject-import-go')).to.equal(false);
    // 60 rows in chunks of 25 (chunkSize): three requests inside the heavy-route budget.
    expect(sent).to.deep.equal(['/subjects/import', '/subjects/import', '/subjects/import']);
    expect((await srv.store.subjects.list(org.id, { limit: 1, offset: 0 })).total).to.equal(before + GOOD_ROWS);
    const [last] = await srv.store.subjects.getByCodes(org.id, [`Y7-${GOOD_ROWS}`]);
    const [ada, alan] = [
      await srv.store.users.getByEmail(org.id, 'ada@demo.school'),
      await srv.store.users.getByEmail(org.id, 'alan@demo.school'),
    ];
    expect(last!.teacherIds).to.deep.equal([ada!.id, alan!.id]);
    expect(await srv.store.subjects.listEnrolled(org.id, last!.id)).to.have.length(2);
    expect(await srv.store.subjects.getByCodes(org.id, ['Y7-BAD1', 'Y7-BAD2'])).to.deep.equal([]);
    await page.waitForSelector(`#subjects-body th:text-is("Y7-${GOOD_ROWS}")`);
  });

  const inPart = {
    en: {
      reason: 'imported without: 1 student number(s) of a deactivated student: S0002',
      summary: 'Imported 2 of 2 subjects. 1 row was imported only in part (see the table).',
    },
    fr: {
      reason: 'importée sans\u00a0: 1 numéro(s) d’un élève désactivé\u00a0: S0002',
      summary: '2 matières importées sur 2. 1 ligne n’a été importée qu’en partie (voir le tableau).',
    },
  };
  for (const language of ['en', 'fr'] as const) {
    it(`says which row was imported without a student another admin deactivated meanwhile (${language})`, async () => {
      admin = await openAdminConsole({ language });
      ({ srv, org, page } = admin);
      await showSection(page, 'subjects');
      await chooseAndCheckFine(page, `${HEADER}\nRC-1,Raced,ada@demo.school,,S0001\nRC-2,Raced too,ada@demo.school,,S0001 S0002\n`);
      // Another admin deactivates S0002 after the server checked the file, before it enrols the
      // subjects' students: played inside the store's write.
      const [late] = (await srv.store.users.list(org.id, { limit: 1, offset: 0, q: 'S0002' })).items;
      const enrolMany = srv.store.subjects.enrolMany.bind(srv.store.subjects);
      srv.store.subjects.enrolMany = async (orgId, bySubject, entry) => {
        if ([...bySubject.values()].some((ids) => ids.includes(late!.id))) await srv.store.users.update(orgId, late!.id, { active: false });
        return enrolMany(orgId, bySubject, entry);
      };
      await page.click('#subject-import-go');
      await page.waitForSelector('#subject-import-errors-block:not([hidden])');
      expect(await page.locator('#subject-import-errors-body th').allTextContents()).to.deep.equal(['3']);
      expect(await page.locator('#subject-import-errors-body td:nth-child(2)').allTextContents()).to.deep.equal(['RC-2']);
      expect(await page.locator('#subject-import-errors-body td:last-child').allTextContents()).to.deep.equal([inPart[language].reason]);
      expect(await progressText(page)).to.equal(inPart[language].summary);
      const [raced] = await srv.store.subjects.getByCodes(org.id, ['RC-2']);
      expect(await srv.store.subjects.listEnrolled(org.id, raced!.id)).to.have.length(1);
      await expectAccessible(page, `admin subjects import in part (${language})`);
    });
  }

  it('says a refused row in French', async () => {
    admin = await openAdminConsole({ language: 'fr' });
    ({ page } = admin);
    await showSection(page, 'subjects');
    expect(await page.textContent('#subject-import-title')).to.equal('Importer des matières depuis un CSV');
    await chooseAndCheck(page, `${HEADER}\nFR-1,Français,ada@demo.school,,S9999\nFR-2,Histoire,ada@demo.school,,\n`);
    expect(await page.locator('#subject-import-errors-body td:last-child').allTextContents()).to.deep.equal([
      '1 numéro(s) d’élève d’aucun élève\u00a0: S9999',
    ]);
    expect(await page.textContent('#subject-import-go')).to.equal('Importer la ligne sans erreur');
    await expectAccessible(page, 'admin subjects import in French');
  });
});

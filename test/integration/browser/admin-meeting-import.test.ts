import { expect } from 'chai';
import type { Page } from 'playwright-core';
import type { Organisation } from '../../../src/domain/ports/organisations.js';
import { openAdminConsole, showSection, type AdminConsole } from '../../support/admin-page.js';
import { expectAccessible } from '../../support/browser.js';
import type { TestServer } from '../../support/http.js';

// The IT person sets up the week from one spreadsheet on the Subjects page instead of one form a
// meeting: the example file shows the columns, the file is checked whole (the bad rows by line,
// nothing written), the good rows are added, a double-booked teacher is said on its row, and the
// same file sent again adds nothing, each row said skipped.

const HEADER = 'subject_code,term,weekday,start,end,teacher_email';

const progressText = (page: Page) => page.textContent('#meeting-import-progress-text');
const tableRows = async (page: Page) => {
  const lines = await page.locator('#meeting-import-errors-body th').allTextContents();
  const codes = await page.locator('#meeting-import-errors-body td:nth-child(2)').allTextContents();
  const problems = await page.locator('#meeting-import-errors-body td:last-child').allTextContents();
  return lines.map((line, i) => [line, codes[i], problems[i]]);
};

async function check(page: Page, csv: string, waitFor: 'errors' | 'go'): Promise<void> {
  await page.setInputFiles('#meeting-import-file', { name: 'meetings.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await page.click('#meeting-import-form button[type="submit"]');
  await page.waitForSelector(waitFor === 'errors' ? '#meeting-import-errors-block:not([hidden])' : '#meeting-import-go:not([hidden])');
}

describe('admin console: the week’s meetings imported from CSV on the Subjects page (Chromium)', function () {
  this.timeout(90_000);

  let srv: TestServer;
  let org: Organisation;
  let page: Page;
  let admin: AdminConsole | undefined;

  afterEach(() => admin?.close());

  it('offers an example file, lists bad rows, adds the good ones with a double-booking warning, and skips them when sent again', async () => {
    admin = await openAdminConsole();
    ({ srv, org, page } = admin);
    await srv.store.timetable.createTerm(org.id, { name: 'Autumn', startDay: '2026-09-01', endDay: '2026-12-18' });
    const ada = (await srv.store.users.getByEmail(org.id, 'ada@demo.school'))!;
    await srv.store.subjects.create(org.id, { code: 'CS103', name: 'Networks', teacherIds: [ada.id], location: null, allowedIpRanges: [] });
    const cs101 = (await srv.store.subjects.getByCodes(org.id, ['CS101']))[0]!;
    await showSection(page, 'subjects');
    expect(await page.textContent('#meeting-import-title')).to.equal('Import weekly meetings from CSV');

    const example = await page.$eval('#meeting-import-example', (a) => fetch((a as HTMLAnchorElement).href).then((r) => r.text()));
    expect(example.split('\n')[0]).to.equal(
      'subject_code,term,weekday,start,end,teacher_email,preset,latitude,longitude,radius_m,allowed_networks',
    );

    const good = [HEADER, 'CS101,Autumn,1,09:00,10:00,', 'CS101,Autumn,Thursday,11:00,12:00,', 'CS103,Autumn,1,09:30,10:30,'];
    await check(page, [...good, 'NOPE,Autumn,1,09:00,10:00,'].join('\n'), 'errors');
    expect(await tableRows(page)).to.deep.equal([['5', 'NOPE', 'subject_code is the code of no subject']]);
    expect(await page.textContent('#meeting-import-go')).to.equal('Import the 3 rows without problems');
    expect(await srv.store.timetable.listMeetings(org.id, cs101.id)).to.deep.equal([]);
    await expectAccessible(page, 'admin meetings import checked');

    await page.click('#meeting-import-go');
    await page.waitForFunction(() => /^Added/.test(document.getElementById('meeting-import-progress-text')?.textContent ?? ''));
    expect(await progressText(page)).to.equal('Added 3 meeting(s) from 3 rows.');
    expect(await tableRows(page)).to.deep.equal([
      ['4', 'CS103', "the teacher has 1 other subject's meeting(s) at that time: added anyway"],
    ]);
    expect(await srv.store.timetable.listMeetings(org.id, cs101.id)).to.have.length(2);

    await check(page, good.join('\n'), 'go');
    expect(await progressText(page)).to.equal(
      '0 meetings to add, 3 already there (skipped), 0 with their teacher double-booked. Nothing is imported yet.',
    );
    expect((await tableRows(page)).map(([line, , problem]) => [line, problem])).to.deep.equal([
      ['2', 'skipped: the subject already has this meeting'],
      ['3', 'skipped: the subject already has this meeting'],
      ['4', 'skipped: the subject already has this meeting'],
    ]);
    await page.click('#meeting-import-go');
    await page.waitForFunction(() => /^Added/.test(document.getElementById('meeting-import-progress-text')?.textContent ?? ''));
    expect(await progressText(page)).to.equal('Added 0 meeting(s) from 3 rows.');
    expect(await srv.store.timetable.listMeetings(org.id, cs101.id)).to.have.length(2);
  });
});

import { expect } from 'chai';
import { type Browser, type BrowserContext } from 'playwright-core';
import { PASSWORD, createCodeSession, createOrg, createSubject, createUser } from '../../support/fixtures.js';
import { startTestServer, type TestServer } from '../../support/http.js';
import { ensurePagesBuilt, expectAccessible, launchChromium, logIn } from '../../support/browser.js';

// A student sends an excuse with a document from the phone page; the teacher approves it on the
// teacher page; the absence becomes excused and the day's summary follows.

describe('excuse pages (Chromium)', function () {
  this.timeout(60_000);

  let srv: TestServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  before(async function () {
    await ensurePagesBuilt('student.js');
    srv = await startTestServer();
    browser = await launchChromium();
  });

  after(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await srv?.cleanup();
  });

  it('the student submits an excuse on the phone page, the teacher approves it, and the record and summary change', async () => {
    const org = await createOrg(srv.store);
    const teacher = await createUser(srv.store, org.id, 'teacher');
    const student = await createUser(srv.store, org.id, 'student');
    const subject = await createSubject(srv.store, org.id, [teacher.id], [student.id]);
    const day = '2026-01-12';
    const session = await createCodeSession(srv.store, org.id, subject.id, teacher.id, { startsAt: new Date(`${day}T09:00:00Z`) });
    await srv.app.attendance.closer.close(org.id, session.id, teacher.id);
    expect(await srv.store.summaries.get(org.id, subject.id, day)).to.include({ absent: 1, excused: 0 });

    const phone = await browser.newContext({ baseURL: srv.baseUrl, viewport: { width: 390, height: 844 }, bypassCSP: true });
    contexts.push(phone);
    phone.setDefaultTimeout(8_000);
    const page = await phone.newPage();
    await page.goto('/student.html');
    await logIn(page, student.email, PASSWORD);
    await page.waitForSelector('#excuse-category option', { state: 'attached' });
    await page.waitForSelector(`#excuse-subject option[value="${subject.id}"]`, { state: 'attached' });
    await page.fill('#excuse-from', day);
    await page.fill('#excuse-to', day);
    await page.selectOption('#excuse-subject', subject.id);
    await page.selectOption('#excuse-category', 'MEDICAL');
    await page.fill('#excuse-text', 'Flu');
    await page.setInputFiles('#excuse-document', { name: 'note.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n%%EOF') });
    await page.click('#excuse-form button[type="submit"]');
    await page.waitForSelector('#excuse-list li[data-status="pending"]');
    await expectAccessible(page, 'student excuse form');
    const [excuse] = (await srv.store.excuses.list(org.id, { limit: 10, offset: 0, studentId: student.id })).items;
    expect(excuse).to.include({ subjectId: subject.id, category: 'MEDICAL', text: 'Flu' });
    expect(excuse!.document).to.include({ contentType: 'application/pdf' });

    // Sent again while it waits, with more to say: the page says the pending excuse now carries it,
    // and staff still have one to decide, with its document.
    await page.fill('#excuse-from', day);
    await page.fill('#excuse-to', day);
    await page.selectOption('#excuse-subject', subject.id);
    await page.selectOption('#excuse-category', 'MEDICAL');
    await page.fill('#excuse-text', 'Flu, two days in bed');
    await page.click('#excuse-form button[type="submit"]');
    await page.waitForSelector('#excuse-notice:has-text("already had a pending excuse for these days: it now carries")');
    const mine = await srv.store.excuses.list(org.id, { limit: 10, offset: 0, studentId: student.id });
    expect(mine.total).to.equal(1);
    expect(mine.items[0]).to.include({ id: excuse!.id, text: 'Flu, two days in bed' });
    expect(mine.items[0]!.document).to.include({ contentType: 'application/pdf' });

    const desk = await browser.newContext({ baseURL: srv.baseUrl, viewport: { width: 1366, height: 900 }, bypassCSP: true });
    contexts.push(desk);
    desk.setDefaultTimeout(8_000);
    const console = await desk.newPage();
    await console.goto('/teacher.html');
    await logIn(console, teacher.email, PASSWORD);
    const row = console.locator(`#pending-excuses li[data-excuse="${excuse!.id}"]`);
    await row.waitFor();
    await expectAccessible(console, 'teacher excuses');
    await row.getByRole('button', { name: /^Approve the excuse/ }).click();
    await console.waitForSelector('#pending-excuses li.muted');

    expect(await srv.store.records.getForStudent(org.id, session.id, student.id)).to.include({
      status: 'excused',
      absenceCategory: 'MEDICAL',
    });
    expect(await srv.store.summaries.get(org.id, subject.id, day)).to.include({ absent: 0, excused: 1 });
  });

  it('pages the pending excuses, saying how many wait in all', async () => {
    const org = await createOrg(srv.store);
    const teacher = await createUser(srv.store, org.id, 'teacher');
    const student = await createUser(srv.store, org.id, 'student');
    const subject = await createSubject(srv.store, org.id, [teacher.id], [student.id]);
    for (let i = 1; i <= 53; i += 1) {
      // A day each: a student has one pending excuse per scope.
      const d = new Date(Date.UTC(2026, 1, i)).toISOString().slice(0, 10);
      await srv.store.excuses.create(org.id, {
        studentId: student.id,
        submittedBy: student.id,
        subjectId: subject.id,
        sessionId: null,
        fromDay: d,
        toDay: d,
        category: 'MEDICAL',
        text: `note ${i}`,
      });
    }

    const desk = await browser.newContext({ baseURL: srv.baseUrl, viewport: { width: 1366, height: 900 }, bypassCSP: true });
    contexts.push(desk);
    desk.setDefaultTimeout(8_000);
    const page = await desk.newPage();
    await page.goto('/teacher.html');
    await logIn(page, teacher.email, PASSWORD);
    const rows = page.locator('#pending-excuses li[data-excuse]');
    await page.waitForFunction(() => document.querySelectorAll('#pending-excuses li[data-excuse]').length === 50);
    expect(await page.textContent('#excuses-shown')).to.equal('50 shown of the 53 waiting');
    expect(await page.isDisabled('#excuses-prev')).to.equal(true);
    await expectAccessible(page, 'teacher excuses, paged');
    const oldest = (await srv.store.excuses.list(org.id, { limit: 3, offset: 50, status: 'pending' })).items.map((e) => e.id);
    const decide = async (id: string) =>
      srv.request('POST', `/api/v1/excuses/${id}/decline`, { token: (await srv.login(teacher.email, PASSWORD)).accessToken, body: {} });
    // One of the first page decided on another screen before Next: the rest still shows, none skipped.
    const shownFirst = await rows.evaluateAll((li) => li.map((x) => x.getAttribute('data-excuse')!));
    await decide(shownFirst[0]!);

    await page.click('#excuses-next');
    await page.waitForFunction(() => document.querySelectorAll('#pending-excuses li[data-excuse]').length === 3);
    expect(await page.textContent('#excuses-shown')).to.equal('3 shown of the 52 waiting');
    expect(await page.isDisabled('#excuses-next')).to.equal(true);
    expect(await rows.evaluateAll((li) => li.map((x) => x.getAttribute('data-excuse')))).to.deep.equal(oldest);

    // The last three decided: the page before, not an empty list.
    for (const id of oldest) await decide(id);
    await page.click('#refresh-excuses');
    await page.waitForFunction(() => document.querySelectorAll('#pending-excuses li[data-excuse]').length === 49);
    expect(await page.textContent('#excuses-shown')).to.equal('');
    expect(await page.isHidden('#excuses-pager')).to.equal(true);
  });
});

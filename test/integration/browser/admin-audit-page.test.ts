import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Organisation } from '../../../src/domain/ports/organisations.js';
import type { User } from '../../../src/domain/ports/users.js';
import { DEMO_PASSWORDS } from '../../../src/domain/seed.js';
import { openAdminPage, screenshotAdmin, showSection, startDemoServer } from '../../support/admin-page.js';
import { expectAccessible, launchChromium } from '../../support/browser.js';
import type { TestServer } from '../../support/http.js';
import { newRecord, newSession } from '../../contract/fixtures.js';

// The admin console's audit trail: the organisation's whole trail (its default), what was done to
// a user (newest first, paged back), what a user did, what changed in the organisation's
// settings; opened from a user's row too.

describe('admin console: audit trail (Chromium)', function () {
  this.timeout(60_000);

  let srv: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let org: Organisation;
  let admin: User;
  let student: User;

  before(async () => {
    ({ srv, org } = await startDemoServer());
    admin = (await srv.store.users.getByEmail(org.id, 'admin@demo.school'))!;
    student = (await srv.store.users.getByEmail(org.id, 'student07@demo.school'))!;
    // 60 renames of one student a minute apart (more than one page of 50), then one by the system.
    const start = Date.parse('2026-03-02T08:00:00Z');
    for (let n = 1; n <= 60; n += 1) {
      await srv.store.audit.append({
        orgId: org.id,
        entityType: 'user',
        entityId: student.id,
        sessionId: null,
        actorId: admin.id,
        action: 'user.update',
        from: { name: `Name ${n - 1}` },
        to: { name: `Name ${n}` },
        reason: null,
        ip: '203.0.113.9',
        at: new Date(start + n * 60_000),
      });
    }
    await srv.store.audit.append({
      orgId: org.id,
      entityType: 'user',
      entityId: student.id,
      sessionId: null,
      actorId: null,
      action: 'tokens.purge',
      from: null,
      to: null,
      reason: 'expired',
      ip: null,
      at: new Date(start + 61 * 60_000),
    });
    await srv.store.audit.append({
      orgId: org.id,
      entityType: 'organisation',
      entityId: org.id,
      sessionId: null,
      actorId: admin.id,
      action: 'organisation.update',
      from: { timezone: 'UTC' },
      to: { timezone: 'Europe/Paris' },
      reason: null,
      ip: null,
      at: new Date(start + 62 * 60_000),
    });
    browser = await launchChromium();
    ({ context, page } = await openAdminPage(browser, srv.baseUrl));
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    await srv?.cleanup();
  });

  // Each row names its action in words; the cell keeps the action's code for the tests.
  const actions = () => page.locator('#audit-body td[data-action]').evaluateAll((tds) => tds.map((td) => td.getAttribute('data-action')));
  const changes = () => page.locator('#audit-body td:nth-child(5)').allTextContents();

  it("opens on the organisation's whole trail, newest first; narrowed to an action and a day, its CSV is the API's", async () => {
    const all = await srv.store.reports.audit(org.id, { limit: 10_000, offset: 0 });
    expect(all.total).to.equal(62);
    const newest = all.items.at(-1)!;
    await showSection(page, 'audit');
    // Nothing chosen or sent: the section shows the organisation's latest entries by itself.
    await page.waitForFunction(
      (n) =>
        document.getElementById('audit-caption')?.textContent === `Everything in the organisation: entries 1 to 50 of ${n}, newest first`,
      all.total,
    );
    expect(await page.inputValue('#audit-kind')).to.equal('all');
    expect(await page.isHidden('#audit-user-field')).to.equal(true);
    expect(await page.isHidden('#audit-subject-field')).to.equal(true);
    expect(await page.getAttribute('#audit-body tr:first-child', 'data-audit-id')).to.equal(newest.id);
    const times = await page.locator('#audit-body time').evaluateAll((ts) => ts.map((t) => t.getAttribute('datetime') ?? ''));
    expect(times).to.deep.equal([...times].sort().reverse());

    // Shown again after work in another section, the view holds what was done meanwhile.
    // (About nothing the other tests count: a subject, by the server.)
    const renamed = await srv.store.audit.append({
      orgId: org.id,
      entityType: 'subject',
      entityId: 'a-subject',
      sessionId: null,
      actorId: null,
      action: 'subject.update',
      from: { name: 'Maths' },
      to: { name: 'Mathematics' },
      reason: null,
      ip: null,
      at: new Date(),
    });
    await showSection(page, 'users');
    await showSection(page, 'audit');
    await page.waitForFunction(
      (n) => (document.getElementById('audit-caption')?.textContent ?? '').includes(`of ${n}, newest first`),
      all.total + 1,
    );
    expect(await page.getAttribute('#audit-body tr:first-child', 'data-audit-id')).to.equal(renamed.id);

    // Every user's and the organisation's entries at once, narrowed to one action over a day.
    const zone = (await srv.store.organisations.get(org.id))!.timezone;
    const day = new Intl.DateTimeFormat('en-CA', { timeZone: zone }).format(new Date('2026-03-02T08:10:00Z'));
    await page.selectOption('#audit-actions', ['tokens.purge', 'organisation.update']);
    await page.fill('#audit-from', day);
    await page.fill('#audit-to', day);
    await page.click('#audit-form button[type="submit"]');
    await page.waitForFunction(() =>
      /^Everything in the organisation \(Sign-in tokens purged, Settings changed; .*\): entries 1 to 2 of 2/.test(
        document.getElementById('audit-caption')?.textContent ?? '',
      ),
    );
    expect(await actions()).to.deep.equal(['organisation.update', 'tokens.purge']);
    expect(await page.locator('#audit-body td:nth-child(2)').allTextContents()).to.deep.equal([
      'Settings changed',
      'Sign-in tokens purged',
    ]);
    expect(await page.locator('#audit-body td:nth-child(4)').allTextContents()).to.deep.equal(['The organisation', 'Student 07']);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#audit-csv')]);
    const csv = readFileSync((await download.path())!, 'utf8');
    const token = (await srv.login('admin@demo.school', DEMO_PASSWORDS.admin)).accessToken;
    // The file for a person, in the page's language (text() drops the byte order mark the file keeps).
    const api = await srv.request(
      'GET',
      `/api/v1/reports/audit.csv?action=tokens.purge,organisation.update&from=${day}&to=${day}&lang=en`,
      {
        token,
      },
    );
    expect(csv).to.equal(`\uFEFF${api.body}`);
    expect(csv).to.include(',Settings changed,').and.include(',Sign-in tokens purged,');
    expect(csv.trim().split(/\r?\n/)).to.have.length(3);
    await expectAccessible(page, 'audit trail of the organisation');
    await page.fill('#audit-from', '');
    await page.fill('#audit-to', '');
    await page.selectOption('#audit-actions', []);
  });

  it('lists what was done to a user, newest first, and pages back to the oldest; the CSV holds the same entries', async () => {
    await showSection(page, 'audit');
    await page.selectOption('#audit-kind', 'user');
    await page.fill('#audit-user', 'student07@demo.school');
    await page.click('#audit-form button[type="submit"]');
    await page.waitForFunction(() => /61 entries found/.test(document.getElementById('audit-status')?.textContent ?? ''));
    expect(await page.textContent('#audit-caption')).to.equal('Changes to Student 07: entries 1 to 50 of 61, newest first');
    expect(await page.locator('#audit-body tr').count()).to.equal(50);
    const first = page.locator('#audit-body tr').first();
    expect(await first.locator('td').allTextContents()).to.deep.equal(['Sign-in tokens purged', 'The server', 'Student 07', '', 'expired']);
    expect((await changes())[1]).to.equal('Name: Name 59 → Name 60');
    expect(await page.isDisabled('#audit-newer')).to.equal(true);
    expect(await page.locator('#audit-body td:nth-child(3)').nth(1).textContent()).to.equal('Demo Admin');

    await page.click('#audit-older');
    await page.waitForFunction(() => document.querySelectorAll('#audit-body tr').length === 11);
    expect(await page.textContent('#audit-caption')).to.equal('Changes to Student 07: entries 51 to 61 of 61, newest first');
    expect((await changes()).at(-1)).to.equal('Name: Name 0 → Name 1');
    expect(await page.isDisabled('#audit-older')).to.equal(true);
    await page.click('#audit-newer');
    await page.waitForFunction(() => document.querySelectorAll('#audit-body tr').length === 50);
    expect((await actions())[0]).to.equal('tokens.purge');

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#audit-csv')]);
    const lines = readFileSync((await download.path())!, 'utf8')
      .trim()
      .split(/\r?\n/);
    expect(lines).to.have.length(62);
    // In the page's language (trim() took the byte order mark).
    expect(lines[0]).to.match(/^When,About,About \(id\),/);
    await expectAccessible(page, 'audit trail');
    await screenshotAdmin(page, 'audit-entries');
  });

  it('lists what a user did and what changed in the organisation; an unknown user is said in words', async () => {
    await showSection(page, 'audit');
    await page.selectOption('#audit-kind', 'actor');
    await page.fill('#audit-user', 'admin@demo.school');
    await page.click('#audit-form button[type="submit"]');
    await page.waitForFunction(() =>
      /What Demo Admin did: entries 1 to 50 of 61/.test(document.getElementById('audit-caption')?.textContent ?? ''),
    );
    expect((await actions())[0]).to.equal('organisation.update');

    await page.selectOption('#audit-kind', 'organisation');
    expect(await page.isHidden('#audit-user-field')).to.equal(true);
    await page.click('#audit-form button[type="submit"]');
    await page.waitForFunction(() =>
      /Changes to the organisation: entries 1 to 1 of 1/.test(document.getElementById('audit-caption')?.textContent ?? ''),
    );
    expect(await changes()).to.deep.equal(['Time zone: UTC → Europe/Paris']);

    await page.selectOption('#audit-kind', 'user');
    await page.fill('#audit-user', 'nobody@demo.school');
    await page.click('#audit-form button[type="submit"]');
    await page.waitForFunction(() => (document.getElementById('audit-error')?.textContent ?? '') !== '');
    expect(await page.textContent('#audit-error')).to.equal('No user matches "nobody@demo.school".');
  });

  it('narrows the entries to chosen actions and days, the CSV holding what the API answers for them', async () => {
    await showSection(page, 'audit');
    await page.selectOption('#audit-kind', 'user');
    await page.fill('#audit-user', 'student07@demo.school');
    await page.selectOption('#audit-actions', ['tokens.purge']);
    await page.click('#audit-form button[type="submit"]');
    // The caption and the status together: the organisation's view before also said "1 entry found".
    await page.waitForFunction(
      () =>
        /^Changes to Student 07 \(Sign-in tokens purged\)/.test(document.getElementById('audit-caption')?.textContent ?? '') &&
        /1 entry found/.test(document.getElementById('audit-status')?.textContent ?? ''),
    );
    expect(await page.textContent('#audit-caption')).to.equal(
      'Changes to Student 07 (Sign-in tokens purged): entries 1 to 1 of 1, newest first',
    );
    expect(await actions()).to.deep.equal(['tokens.purge']);

    // The renames 10 to 15 fell on 2 March 08:10-08:15; the organisation's day is what counts.
    const zone = (await srv.store.organisations.get(org.id))!.timezone;
    const day = new Intl.DateTimeFormat('en-CA', { timeZone: zone }).format(new Date('2026-03-02T08:10:00Z'));
    await page.selectOption('#audit-actions', ['user.update', 'tokens.purge']);
    await page.fill('#audit-from', day);
    await page.fill('#audit-to', day);
    await page.click('#audit-form button[type="submit"]');
    await page.waitForFunction(() => /61 entries found/.test(document.getElementById('audit-status')?.textContent ?? ''));
    expect(await page.textContent('#audit-caption')).to.equal(
      `Changes to Student 07 (User changed, Sign-in tokens purged; ${day} to ${day}): entries 1 to 50 of 61, newest first`,
    );
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#audit-csv')]);
    const csv = readFileSync((await download.path())!, 'utf8');
    const token = (await srv.login('admin@demo.school', DEMO_PASSWORDS.admin)).accessToken;
    const api = await srv.request(
      'GET',
      `/api/v1/reports/audit.csv?entityType=user&entityId=${student.id}&action=user.update,tokens.purge&from=${day}&to=${day}&lang=en`,
      { token },
    );
    expect(csv).to.equal(`\uFEFF${api.body}`);
    expect(csv.trim().split(/\r?\n/)).to.have.length(62);

    // The day after: nothing; a range the wrong way round is refused in words, nothing shown changes.
    const next = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    await page.fill('#audit-from', next);
    await page.fill('#audit-to', next);
    await page.click('#audit-form button[type="submit"]');
    await page.waitForFunction(() => /No entries\./.test(document.getElementById('audit-status')?.textContent ?? ''));
    await page.fill('#audit-to', day);
    await page.click('#audit-form button[type="submit"]');
    await page.waitForFunction(() => (document.getElementById('audit-error')?.textContent ?? '') !== '');
    expect(await page.textContent('#audit-error')).to.equal('The "From" day must not be after the "To" day.');
    expect(await page.textContent('#audit-status')).to.equal('No entries.');
    await expectAccessible(page, 'audit trail with filters');

    await page.fill('#audit-from', '');
    await page.fill('#audit-to', '');
    await page.selectOption('#audit-actions', []);
  });

  it("opens a user's history from the History button of their row", async () => {
    await showSection(page, 'users');
    await page.fill('#user-q', 'student07');
    await page.click('#user-search button[type="submit"]');
    await page.waitForFunction(() => document.querySelectorAll('#users-body tr').length === 1);
    await page.click('#users-body button[aria-label="History of Student 07"]');
    await page.waitForSelector('#tab-audit:not([hidden])');
    await page.waitForFunction(() =>
      /Changes to Student 07: entries 1 to 50 of 61/.test(document.getElementById('audit-caption')?.textContent ?? ''),
    );
  });

  it("names a record's student, subject and session time and its actor as the server named them, and an erased one by no name", async () => {
    const ada = (await srv.store.users.getByEmail(org.id, 'ada@demo.school'))!;
    const cs101 = (await srv.store.subjects.list(org.id, { limit: 10, offset: 0 })).items.find((s) => s.code === 'CS101')!;
    const startsAt = new Date('2026-03-03T08:00:00Z');
    const session = await srv.store.sessions.create(org.id, newSession(cs101.id, ada.id, { status: 'closed', startsAt }));
    const erasedStudent = (await srv.store.users.getByEmail(org.id, 'student08@demo.school'))!;
    const recordOf = async (studentId: string) =>
      (await srv.store.records.insertIfAbsent(org.id, newRecord(session.id, cs101.id, studentId, { status: 'absent' }))).record;
    const [ofStudent07, ofErased] = [await recordOf(student.id), await recordOf(erasedStudent.id)];
    const correct = (recordId: string, actorId: string, minute: number) =>
      srv.store.audit.append({
        orgId: org.id,
        entityType: 'record',
        entityId: recordId,
        sessionId: session.id,
        actorId,
        action: 'record.correct',
        from: { status: 'absent' },
        to: { status: 'excused' },
        reason: 'note',
        ip: null,
        at: new Date(Date.parse('2026-03-03T08:00:00Z') + minute * 60_000),
      });
    await correct(ofStudent07.id, ada.id, 0);
    await correct(ofErased.id, erasedStudent.id, 1);
    const token = (await srv.login('admin@demo.school', DEMO_PASSWORDS.admin)).accessToken;
    expect(
      (await srv.request('POST', `/api/v1/users/${erasedStudent.id}/erase`, { token, body: { reason: 'a test erasure' } })).status,
    ).to.equal(200);

    await showSection(page, 'audit');
    await page.selectOption('#audit-kind', 'all');
    await page.selectOption('#audit-actions', ['record.correct']);
    await page.click('#audit-form button[type="submit"]');
    await page.waitForFunction(() => /2 entries found/.test(document.getElementById('audit-status')?.textContent ?? ''));
    const rowsText = await page
      .locator('#audit-body tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    // Newest first: the erased student's own correction, then Ada's. The session's time is in the page's format.
    const [[, erasedWho, erasedAbout], [, adaWho, adaAbout]] = rowsText as [[string, string, string], [string, string, string]];
    expect(erasedWho).to.match(/^An erased user \(erased-/);
    expect(erasedAbout).to.match(new RegExp(`^Record of an erased student, CS101 ${cs101.name}, \\S`));
    expect(adaWho).to.equal(ada.name);
    expect(adaAbout).to.equal(erasedAbout.replace('an erased student', 'Student 07'));
    expect(JSON.stringify(rowsText)).not.to.contain(erasedStudent.name);
    await page.selectOption('#audit-actions', []);
  });
});

import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { repoRoot } from '../../../scripts/lib/repo-root.js';
import { DEMO_PASSWORDS, seedDemo } from '../../../src/domain/seed.js';
import type { AuditEntry } from '../../../src/domain/ports/audit.js';
import type { Organisation } from '../../../src/domain/ports/organisations.js';
import type { AttendanceRecord } from '../../../src/domain/ports/records.js';
import { startTestServer, type TestServer } from '../../support/http.js';
import { launchChromium, ensurePagesBuilt, expectAccessible } from '../../support/browser.js';
import { cheapPasswordHasher } from '../../support/passwords.js';
import { createOrg, createUser, PASSWORD } from '../../support/fixtures.js';

const ROOT = repoRoot(import.meta.url);
const SHOTS = path.join(ROOT, 'test-results', 'screenshots', 'reports');
const LAPTOP = { width: 1366, height: 768 };
const PHONE = { width: 390, height: 844 };

/** How the pages name each status (src/web/locales/staff-en.ts). */
const STATUS_WORDS: Record<string, string> = {
  present: 'Present',
  late: 'Late',
  pending: 'Pending review',
  rejected: 'Rejected',
  excused: 'Excused',
  absent: 'Absent',
  'not-yet': 'Not yet',
};

/** The text of every body row of a table, cell by cell. */
function rows(page: Page, selector: string): Promise<string[][]> {
  return page.$$eval(`${selector} tbody tr`, (trs) => trs.map((tr) => Array.from(tr.children, (c) => (c.textContent ?? '').trim())));
}

describe('report pages (Chromium, axe-core)', function () {
  this.timeout(60_000);

  let srv: TestServer;
  let browser: Browser;
  let org: Organisation;
  const contexts: BrowserContext[] = [];

  before(async function () {
    await ensurePagesBuilt('reports.js');
    srv = await startTestServer({ HTTP_HEAVY_RATE_PER_MINUTE: '1000' });
    await seedDemo(srv.store, { passwords: cheapPasswordHasher(), history: true });
    org = (await srv.store.organisations.getBySlug('demo'))!;
    browser = await launchChromium();
    mkdirSync(SHOTS, { recursive: true });
  });

  after(async () => {
    for (const ctx of contexts) await ctx.close();
    await browser?.close();
    await srv?.cleanup();
  });

  /** axe is injected as an inline script, which the pages' CSP refuses: the context bypasses it. */
  async function openAs(
    url: string,
    email: string,
    password: string,
    viewport: { width: number; height: number },
    timezoneId = 'UTC',
  ): Promise<Page> {
    const ctx = await browser.newContext({ baseURL: srv.baseUrl, viewport, timezoneId, bypassCSP: true });
    ctx.setDefaultTimeout(10_000);
    contexts.push(ctx);
    const page = await ctx.newPage();
    await page.goto(url);
    await page.fill('#login-email', email);
    await page.fill('#login-password', password);
    await page.click('#login-form button[type="submit"]');
    await page.waitForSelector('#app:not([hidden])');
    return page;
  }

  /** An audit entry about `record` in its session, with no IP: the demo history is seeded without a trail. */
  function auditRecord(
    record: AttendanceRecord,
    entry: Pick<AuditEntry, 'actorId' | 'action' | 'from' | 'to' | 'reason' | 'at'>,
  ): Promise<AuditEntry> {
    return srv.store.audit.append({
      orgId: record.orgId,
      entityType: 'record',
      entityId: record.id,
      sessionId: record.sessionId,
      ip: null,
      ...entry,
    });
  }

  async function subjectByCode(code: string): Promise<{ id: string }> {
    const found = (await srv.store.subjects.list(org.id, { limit: 10, offset: 0 })).items.find((s) => s.code === code);
    if (!found) throw new Error(`no subject ${code}`);
    return found;
  }

  async function api<T>(token: string, url: string): Promise<T> {
    const res = await srv.request<T>('GET', url, { token });
    expect(res.status, url).to.equal(200);
    return res.body;
  }

  it("a teacher's trend, risk tables and a student's profile show the API's numbers", async () => {
    const page = await openAs('/reports.html', 'ada@demo.school', DEMO_PASSWORDS.teacher, LAPTOP);
    await page.waitForSelector('body[data-ready="true"]');
    const from = await page.inputValue('#range-from');
    const to = await page.inputValue('#range-to');
    const { accessToken } = await srv.login('ada@demo.school', DEMO_PASSWORDS.teacher);
    const cs101 = await subjectByCode('CS101');
    expect(await page.inputValue('#subject-select')).to.equal(cs101.id);

    const trend = await api<{ items: { from: string; percentage: number }[] }>(
      accessToken,
      `/api/v1/reports/subjects/${cs101.id}/trend?from=${from}&to=${to}&bucket=week`,
    );
    expect(trend.items.length).to.be.at.least(12);
    expect(await rows(page, '#trend-chart .chart-data table')).to.deep.equal(trend.items.map((b) => [b.from, String(b.percentage)]));
    expect(await page.locator('#trend-chart circle.chart-dot').count()).to.equal(trend.items.length);
    expect(await page.getAttribute('#trend-chart svg', 'aria-label')).to.contain(`${trend.items.length} points`);

    const risky = await api<{ items: { name: string; percentage: number; absent: number }[] }>(
      accessToken,
      `/api/v1/reports/subjects/${cs101.id}/at-risk?from=${from}&to=${to}&threshold=75`,
    );
    expect(risky.items.map((s) => s.name)).to.have.members(['Student 01', 'Student 02', 'Student 03']);
    const shown = await rows(page, '#risk-students-table');
    expect(shown.map((r) => [r[0], r[2], r[3]])).to.deep.equal(risky.items.map((s) => [s.name, String(s.percentage), String(s.absent)]));

    const riskSubjects = await api<{ items: { subjectCode: string; percentage: number }[] }>(
      accessToken,
      `/api/v1/reports/at-risk/subjects?from=${from}&to=${to}&threshold=75`,
    );
    const subjectRows = await rows(page, '#risk-subjects-table');
    if (riskSubjects.items.length === 0) expect(subjectRows).to.have.length(1);
    else expect(subjectRows.map((r) => r[1])).to.deep.equal(riskSubjects.items.map((s) => String(s.percentage)));

    // A higher threshold lists the subject; the table follows the API again.
    await page.fill('#range-threshold', '99');
    await page.click('#range-form button[type="submit"]');
    await page.waitForSelector('#risk-subjects-table tbody tr[data-subject-id]');
    const all = await api<{ items: { subjectId: string; percentage: number }[] }>(
      accessToken,
      `/api/v1/reports/at-risk/subjects?from=${from}&to=${to}&threshold=99`,
    );
    expect((await rows(page, '#risk-subjects-table')).map((r) => r[1])).to.deep.equal(all.items.map((s) => String(s.percentage)));
    // Each listed subject carries its weekly line, read out as the API's weeks.
    await page.waitForFunction((n) => document.querySelectorAll('#risk-subjects-table svg.sparkline').length === n, all.items.length);
    const first = all.items[0]!;
    const weeks = await api<{ items: { from: string; percentage: number }[] }>(
      accessToken,
      `/api/v1/reports/subjects/${first.subjectId}/trend?from=${from}&to=${to}&bucket=week`,
    );
    expect(await page.getAttribute(`#risk-subjects-table tr[data-subject-id="${first.subjectId}"] svg.sparkline`, 'aria-label')).to.contain(
      weeks.items.map((b) => `${b.from} ${b.percentage} %`).join(', '),
    );

    // Daily trend.
    await page.selectOption('#bucket-select', 'day');
    const daily = await api<{ items: { from: string; percentage: number }[] }>(
      accessToken,
      `/api/v1/reports/subjects/${cs101.id}/trend?from=${from}&to=${to}&bucket=day`,
    );
    await page.waitForFunction((n) => document.querySelectorAll('#trend-chart .chart-data tbody tr').length === n, daily.items.length);
    expect(await rows(page, '#trend-chart .chart-data table')).to.deep.equal(daily.items.map((b) => [b.from, String(b.percentage)]));

    // Session history: the newest closed session's records, and the counts they add up to.
    const sessions = await api<{ items: { id: string; day: string }[]; total: number }>(
      accessToken,
      `/api/v1/subjects/${cs101.id}/sessions?status=closing,closed&from=${from}&to=${to}&limit=50`,
    );
    expect((await rows(page, '#sessions-table')).map((r) => r[0])).to.deep.equal(sessions.items.map((s) => s.day));
    const newest = sessions.items[0]!;
    await page.click(`#sessions-table tr[data-session-id="${newest.id}"] button`);
    await page.waitForSelector('#session-detail:not([hidden])');
    const records = await api<{ entries: { name: string; status: string }[] }>(accessToken, `/api/v1/sessions/${newest.id}/records`);
    // Statuses in words (the staff pages' labels), never as the API's codes.
    expect((await rows(page, '#session-records')).map((r) => [r[0], r[2]])).to.deep.equal(
      records.entries.map((e) => [e.name, STATUS_WORDS[e.status]]),
    );
    const summary = daily.items.find((b) => b.from === newest.day) as unknown as { present: number; total: number };
    expect(await page.textContent('#session-counts'))
      .to.contain(`Present ${summary.present} `)
      .and.to.contain(`of ${summary.total}`);

    // A record's audit trail: the API's entries for it, oldest first.
    const withRecord = (await srv.store.records.listBySession(org.id, newest.id))[0]!;
    // The demo history is seeded without an audit trail: one correction, as checkin:mark writes it.
    await auditRecord(withRecord, {
      actorId: withRecord.studentId,
      action: 'record.correct',
      from: { status: withRecord.status },
      to: { status: 'excused' },
      reason: 'Doctor note',
      at: new Date(),
    });
    // And, before it, the teacher's decision: the trail names staff too (the server names every actor).
    const ada = (await srv.store.users.getByEmail(org.id, 'ada@demo.school'))!;
    await auditRecord(withRecord, {
      actorId: ada.id,
      action: 'record.mark',
      from: null,
      to: { status: withRecord.status },
      reason: null,
      at: new Date(Date.now() - 60_000),
    });
    await page.click(`#session-records tr[data-record-id="${withRecord.id}"] button`);
    await page.waitForSelector('#record-trail:not([hidden])');
    const trail = await api<{ items: { action: string }[] }>(
      accessToken,
      `/api/v1/reports/audit?entityType=record&entityId=${withRecord.id}`,
    );
    expect(trail.items.length).to.be.at.least(1);
    const trailRows = await rows(page, '#record-trail-table');
    expect(trailRows).to.have.length(trail.items.length);
    expect(trailRows.at(-2)!.slice(1, 3)).to.deep.equal(['Marked by the teacher', ada.name]);
    expect(trailRows.at(-1)!.slice(1)).to.deep.equal([
      'Corrected after closing',
      (await srv.store.users.get(org.id, withRecord.studentId))!.name,
      `${STATUS_WORDS[withRecord.status]} → Excused`,
      'Doctor note',
    ]);
    expect(await page.evaluate(() => document.activeElement?.id)).to.equal('record-trail-title');

    // The profile of a student at risk.
    const student01 = (await srv.store.users.getByEmail(org.id, 'student01@demo.school'))!;
    await page.click(`#risk-students-table tr[data-student-id="${student01.id}"] button`);
    await page.waitForSelector('#profile:not([hidden])');
    const profile = await api<{ items: { subjectCode: string; percentage: number; absent: number }[] }>(
      accessToken,
      `/api/v1/reports/students/${student01.id}?from=${from}&to=${to}`,
    );
    expect((await rows(page, '#profile-table')).map((r) => [r[1], r[4]])).to.deep.equal(
      profile.items.map((s) => [String(s.percentage), String(s.absent)]),
    );
    expect(await page.evaluate(() => document.activeElement?.id)).to.equal('profile-title');

    await page.screenshot({ path: path.join(SHOTS, 'teacher-laptop.png'), fullPage: true });
    await expectAccessible(page, 'reports (teacher, laptop)');
    await page.emulateMedia({ media: 'print' });
    expect(await page.isVisible('#range-form')).to.equal(false);
    expect(await page.isVisible('#trend-chart .chart-data table')).to.equal(true);
    await page.screenshot({ path: path.join(SHOTS, 'teacher-print.png'), fullPage: true });
  });

  it("a record's history is written in the organisation's zone, not the device's", async () => {
    const cs101 = await subjectByCode('CS101');
    const { accessToken } = await srv.login('ada@demo.school', DEMO_PASSWORDS.teacher);
    const sessions = await api<{ items: { id: string }[] }>(accessToken, `/api/v1/subjects/${cs101.id}/sessions?status=closed&limit=1`);
    const session = sessions.items[0]!;
    const record = (await srv.store.records.listBySession(org.id, session.id))[0]!;
    await auditRecord(record, {
      actorId: null,
      action: 'close.absent',
      from: null,
      to: { status: record.status },
      reason: 'zone check',
      at: new Date('2026-03-10T23:30:15Z'),
    });
    // Tokyo is already the 11th at 08:30:15; New York (the device) is still the 10th, 19:30:15.
    await srv.store.organisations.update(org.id, { timezone: 'Asia/Tokyo' });
    try {
      const page = await openAs('/reports.html', 'ada@demo.school', DEMO_PASSWORDS.teacher, LAPTOP, 'America/New_York');
      await page.waitForSelector('body[data-ready="true"]');
      await page.click(`#sessions-table tr[data-session-id="${session.id}"] button`);
      await page.waitForSelector('#session-detail:not([hidden])');
      await page.click(`#session-records tr[data-record-id="${record.id}"] button`);
      await page.waitForSelector('#record-trail:not([hidden])');
      const entry = (await rows(page, '#record-trail-table')).find((r) => r[4] === 'zone check');
      expect(entry?.[0]).to.equal('11 Mar 2026, 08:30:15');
    } finally {
      await srv.store.organisations.update(org.id, { timezone: 'UTC' });
    }
  });

  it("an admin's dashboard shows the API's week figures, also on a phone", async () => {
    const page = await openAs('/reports.html', 'admin@demo.school', DEMO_PASSWORDS.admin, PHONE);
    await page.waitForSelector('body[data-ready="true"]');
    const { accessToken } = await srv.login('admin@demo.school', DEMO_PASSWORDS.admin);
    type Week = { percentage: number; total: number; excused: number };
    const d = await api<{ thisWeek: Week; lastWeek: Week }>(accessToken, '/api/v1/reports/dashboard');
    // Early on a Monday this week has no settled session yet: the chart says so instead of 0.
    const cell = (w: Week) => (w.total - w.excused > 0 ? String(w.percentage) : 'no settled session');
    expect(await rows(page, '#dashboard-chart .chart-data table')).to.deep.equal([
      ['Last week', cell(d.lastWeek)],
      ['This week', cell(d.thisWeek)],
    ]);
    expect(d.lastWeek.percentage).to.be.above(0);
    // Monthly bars over the page's range, the API's months.
    const from = await page.inputValue('#range-from');
    const to = await page.inputValue('#range-to');
    const months = await api<{ items: { from: string; percentage: number }[] }>(
      accessToken,
      `/api/v1/reports/months?from=${from}&to=${to}`,
    );
    expect(months.items.length).to.be.at.least(3);
    expect(await rows(page, '#months-chart .chart-data table')).to.deep.equal(
      months.items.map((m) => [m.from.slice(0, 7), String(m.percentage)]),
    );
    expect(await page.locator('#months-chart rect.chart-bar').count()).to.equal(months.items.length);
    // Admins see every subject; CS102 is the class that slips.
    const cs102 = await subjectByCode('CS102');
    await page.selectOption('#subject-select', cs102.id);
    await page.waitForFunction(() => document.querySelector('#trend-chart figcaption')?.textContent?.startsWith('CS102'));
    // Nothing wider than the phone: wide tables scroll inside their own region.
    const wide = await page.evaluate(
      (w) =>
        Array.from(document.querySelectorAll('body *'))
          .filter((e) => !e.closest('.table-wrap, svg') && e.getBoundingClientRect().right > w)
          .slice(0, 5)
          .map((e) => e.tagName + '#' + e.id + '.' + e.className),
      PHONE.width,
    );
    expect(await page.evaluate(() => document.documentElement.scrollWidth), JSON.stringify(wide)).to.be.at.most(PHONE.width);
    await page.screenshot({ path: path.join(SHOTS, 'admin-phone.png'), fullPage: true });
    await expectAccessible(page, 'reports (admin, phone)');
  });

  it("a new school's dashboard says its weeks had no settled session, not 0 %", async () => {
    const school = await createOrg(srv.store);
    const head = await createUser(srv.store, school.id, 'admin');
    const page = await openAs('/reports.html', head.email, PASSWORD, LAPTOP);
    await page.waitForSelector('body[data-ready="true"]');
    const figures = await page.locator('#dashboard-figures dd').allTextContents();
    expect(figures.slice(3)).to.deep.equal(['no settled session yet', 'no settled session yet']);
    // The charts draw no bar of 0 % for those weeks and months: a gap, read out as such.
    expect(await page.locator('#dashboard-chart rect.chart-bar').count()).to.equal(0);
    expect(await page.locator('#dashboard-chart svg').getAttribute('aria-label')).to.equal('Attendance this week and last week: no data.');
    expect(await page.locator('#dashboard-chart details td').allTextContents()).to.deep.equal(['no settled session', 'no settled session']);
    expect(await page.locator('#months-chart rect.chart-bar').count()).to.equal(0);
  });

  it('an admin downloads every record of the organisation over the range as CSV; a teacher is not offered it', async () => {
    const page = await openAs('/reports.html', 'admin@demo.school', DEMO_PASSWORDS.admin, LAPTOP);
    await page.waitForSelector('body[data-ready="true"]');
    const from = await page.inputValue('#range-from');
    const to = await page.inputValue('#range-to');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
    expect(download.suggestedFilename()).to.equal(`attendance-${from}-${to}.csv`);
    const saved = readFileSync((await download.path())!);
    const { accessToken } = await srv.login('admin@demo.school', DEMO_PASSWORDS.admin);
    // The export for a person, in the page's language (the raw bytes: text() would drop the byte order mark).
    const res = await fetch(`${srv.baseUrl}/api/v1/attendance.csv?from=${from}&to=${to}&lang=en`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(saved.equals(Buffer.from(await res.arrayBuffer()))).to.equal(true);
    const lines = saved.toString('utf8').trimEnd().split('\n');
    expect(lines[0]).to.match(/^\uFEFFDay,Session,Starts at,Subject,Student number/);
    expect(lines.length, 'the seeded history has records').to.be.above(100);
    await page.waitForFunction(() => /Downloaded attendance-/.test(document.getElementById('report-status')?.textContent ?? ''));

    const teacher = await openAs('/reports.html', 'ada@demo.school', DEMO_PASSWORDS.teacher, LAPTOP);
    await teacher.waitForSelector('body[data-ready="true"]');
    expect(await teacher.isHidden('#export-csv')).to.equal(true);
  });

  it('a student sees their percentage per subject and their recent sessions on the phone page', async () => {
    const { accessToken, user } = await srv.login('student01@demo.school', DEMO_PASSWORDS.student);
    // Their latest session is voided: its record stays in the list, said not to count.
    const latest = (await api<{ items: { sessionId: string }[] }>(accessToken, '/api/v1/me/attendance?limit=1')).items[0]!;
    expect(await srv.store.sessions.transition(user.orgId, latest.sessionId, ['closed'], { status: 'cancelled' })).to.not.equal(null);
    const page = await openAs('/student.html', 'student01@demo.school', DEMO_PASSWORDS.student, PHONE);
    await page.waitForSelector('#my-subjects tbody tr[data-subject-id]');
    const mine = await api<{ items: { subjectCode: string; percentage: number }[] }>(accessToken, `/api/v1/reports/students/${user.id}`);
    expect(mine.items.map((s) => s.subjectCode)).to.deep.equal(['CS101', 'CS102']);
    expect((await rows(page, '#my-subjects')).map((r) => r[1])).to.deep.equal(mine.items.map((s) => `${s.percentage} %`));
    const history = await api<{ items: { day: string; subjectCode: string }[] }>(accessToken, '/api/v1/me/attendance?limit=20');
    expect(await page.locator('#my-history li').count()).to.equal(history.items.length);
    expect(await page.textContent('#my-history li:first-child')).to.contain(`${history.items[0]!.day} · ${history.items[0]!.subjectCode}`);
    expect(await page.textContent('#my-history li:first-child')).to.contain('(session cancelled: not counted)');
    expect(await page.locator('#my-history li[data-session-status="cancelled"]').count()).to.equal(1);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).to.be.at.most(PHONE.width);
    await page.locator('#my-attendance').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(SHOTS, 'student-phone.png'), fullPage: true });
    await expectAccessible(page, 'student page with my attendance');
  });
});

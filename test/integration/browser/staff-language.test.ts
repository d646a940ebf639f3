import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { DEMO_PASSWORDS, seedDemo } from '../../../src/domain/seed.js';
import type { User } from '../../../src/domain/ports/users.js';
import { startTestServer, type TestServer } from '../../support/http.js';
import { command, connectClient, ok, type ClientSocket } from '../../support/sockets.js';
import { ensurePagesBuilt, expectAccessible, launchChromium, logIn } from '../../support/browser.js';
import { cheapPasswordHasher } from '../../support/passwords.js';

const PROJECTOR = { width: 1920, height: 1080 };
const CLASSROOM = { latitude: 51.5246, longitude: -0.134 };

// The teacher console and the classroom screen in the school's language (docs/languages.md):
// the organisation's French over an English browser, the staff catalog fetched beside the
// shared one, and the lesson still runs: open a session, accept a check-in, the roster follows.
describe('the teacher console, classroom screen and reports page in the school’s language (Chromium)', function () {
  this.timeout(60_000);

  let srv: TestServer;
  let browser: Browser;
  let orgId = '';
  let users: User[] = [];
  let teacherSocket: ClientSocket;
  const sockets: ClientSocket[] = [];
  const contexts: BrowserContext[] = [];
  const byEmail = (email: string) => users.find((u) => u.email === email)!;
  const studentEmail = (n: number) => `student${String(n).padStart(2, '0')}@demo.school`;

  before(async function () {
    await ensurePagesBuilt('locale-staff-fr.js');
    srv = await startTestServer();
    // With a term of past sessions, for the reports page.
    await seedDemo(srv.store, { passwords: cheapPasswordHasher(), history: true });
    const org = (await srv.store.organisations.getBySlug('demo'))!;
    orgId = org.id;
    await srv.store.organisations.update(orgId, { settings: { ...org.settings, language: 'fr' } });
    users = (await srv.store.users.list(orgId, { limit: 1_000, offset: 0 })).items;
    teacherSocket = await connectClient(srv.baseUrl, srv.app.tokenService.signAccess(byEmail('ada@demo.school')).token);
    browser = await launchChromium();
  });

  after(async () => {
    for (const s of [teacherSocket, ...sockets]) s?.disconnect();
    for (const ctx of contexts) await ctx.close();
    await browser?.close();
    await srv?.cleanup();
  });

  /** A browser preferring English; axe is injected inline, so the CSP is bypassed. */
  async function newPage(): Promise<{ page: Page; fetched: string[] }> {
    const ctx = await browser.newContext({ baseURL: srv.baseUrl, viewport: PROJECTOR, locale: 'en-GB', bypassCSP: true });
    ctx.setDefaultTimeout(8_000);
    contexts.push(ctx);
    const page = await ctx.newPage();
    const fetched: string[] = [];
    ctx.on('request', (r) => fetched.push(new URL(r.url()).pathname));
    return { page, fetched };
  }

  /** Student `n` checks in from far off (900 m accuracy): pending, for the teacher to decide. */
  async function pendingCheckIn(sessionId: string, n: number): Promise<User> {
    const student = byEmail(studentEmail(n));
    const socket = await connectClient(srv.baseUrl, srv.app.tokenService.signAccess(student).token);
    sockets.push(socket);
    const code = ok(await command(teacherSocket, 'session:code', { sessionId })).code;
    const vague = { lat: CLASSROOM.latitude, lon: CLASSROOM.longitude, accuracy: 900, timestamp: Date.now() };
    expect(ok(await command(socket, 'checkin:submit', { sessionId, location: vague, code })).status).to.equal('pending');
    return student;
  }

  it('opens a session, accepts a check-in and follows the roster in French; a refusal is said in French', async () => {
    const { page: teacher, fetched } = await newPage();
    await teacher.goto('/teacher.html');
    await logIn(teacher, 'ada@demo.school', DEMO_PASSWORDS.teacher);
    await teacher.waitForFunction(() => document.documentElement.lang === 'fr');
    expect(await teacher.title()).to.equal('Console enseignant · Présence en classe');
    expect(await teacher.textContent('#open-title')).to.equal('Ouvrir une séance');
    expect(await teacher.textContent('#open-form button[type="submit"]')).to.equal('Ouvrir la séance');
    expect(await teacher.textContent('label[for="language"]')).to.equal('Langue');
    await teacher.waitForFunction(() => document.getElementById('connection')?.textContent === 'En direct');
    // The presets and the weekdays are written by the script, in the page's language too.
    await teacher.waitForSelector('#policy-preset option[value="location-code"]', { state: 'attached' });
    expect(await teacher.textContent('#policy-preset option[value="location-code"]')).to.equal('Position + code à l’écran');
    expect(await teacher.textContent('#meeting-weekday option[value="1"]')).to.equal('lundi');
    // Only the chosen language's catalogs, and only the ones this page uses.
    expect(fetched.filter((p) => p.startsWith('/locale-')).sort()).to.deep.equal([
      '/locale-fr.js',
      '/locale-pages-fr.js',
      '/locale-staff-fr.js',
      '/locale-teacher-fr.js',
    ]);

    await teacher.waitForSelector('#subject-select option:has-text("CS101")', { state: 'attached' });
    await teacher.click('#open-form button[type="submit"]');
    await teacher.waitForSelector('#session-section:not([hidden])');
    const sessionId = new URL(teacher.url()).searchParams.get('session') ?? '';
    expect(await teacher.textContent('#session-info')).to.match(/^Statut\u00a0: ouverte\. Début \d\d:\d\d, en retard après/);
    expect(await teacher.textContent('#counts')).to.match(/Pas encore 30 · sur 30$/);
    expect(await teacher.textContent('#session-room')).to.equal('Salle\u00a0: celle de la matière (sa position et ses réseaux).');
    await expectAccessible(teacher, 'teacher console in French');

    const [classroom] = await Promise.all([teacher.context().waitForEvent('page'), teacher.click('#classroom-link')]);
    await classroom.waitForSelector('#screen:not([hidden])');
    await classroom.waitForFunction(() => document.documentElement.lang === 'fr');
    expect(fetched).to.include('/locale-classroom-fr.js');
    expect(await classroom.title()).to.equal('Écran de la salle · Présence en classe');
    expect(await classroom.textContent('#roster-title')).to.equal('Pointés');
    expect(await classroom.textContent('.counter.status-not-yet dt')).to.equal('Pas encore');
    expect(await classroom.textContent('#session-times')).to.match(/^En retard après \d\d:\d\d · clôture \d\d:\d\d$/);
    expect(await classroom.getAttribute('#qr', 'aria-label')).to.equal('QR code du lien de pointage');
    await classroom.waitForFunction(() => /^\d{4,}$/.test(document.getElementById('code')?.textContent ?? ''));
    await expectAccessible(classroom, 'classroom screen in French');

    // A pending check-in: the console offers the decision in French; accepting it updates both screens.
    const student = await pendingCheckIn(sessionId, 12);
    const row = teacher.locator(`tr[data-student-id="${student.id}"]`);
    await row.and(teacher.locator('[data-status="pending"]')).waitFor();
    expect(await row.locator('td.status').textContent()).to.equal('À vérifier');
    expect(await classroom.textContent('#count-pending')).to.equal('1');
    await teacher.click(`button[aria-label="Accepter ${student.name}"]`);
    await row.and(teacher.locator('[data-status="present"]')).waitFor();
    expect(await row.locator('td.status').textContent()).to.equal('Présent·e');
    await classroom.waitForSelector(`#roster li[data-student-id="${student.id}"][data-status="present"]`);
    expect(await classroom.textContent(`#roster li[data-student-id="${student.id}"] .student-status`)).to.equal('Présent·e');
    expect(await classroom.textContent('#count-present')).to.equal('1');
    expect(await teacher.textContent('#counts')).to.match(/^Présents 1 · En retard 0 · /);

    // Download CSV gives the file for a person in the page's language: French headings and statuses, `;` between cells.
    const [download] = await Promise.all([teacher.waitForEvent('download'), teacher.click('#download-csv')]);
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(csv.split('\n')[0]).to.match(/^\uFEFFJour;Séance;Début;Matière;Numéro d’élève;Nom;Statut;/);
    expect(csv).to.contain(`;${student.name};Présent·e;`);

    // The session closes behind the console's back (no status message reaches it): the
    // server refuses the next decision with SESSION_CLOSED, which the console says in French.
    const other = await pendingCheckIn(sessionId, 13);
    const accept = teacher.locator(`button[aria-label="Accepter ${other.name}"]`);
    await accept.waitFor();
    expect(await srv.store.sessions.transition(orgId, sessionId, ['open'], { status: 'closed', closedAt: new Date() })).to.not.equal(null);
    await accept.click();
    await teacher.waitForFunction(() => (document.getElementById('session-error')?.textContent ?? '') !== '');
    expect(await teacher.textContent('#session-error')).to.equal('La séance est close.');
  });

  it("a teacher's own English wins over the school's French, and the menu goes back to the school's", async () => {
    await srv.store.notificationPreferences.put(orgId, byEmail('ada@demo.school').id, { language: 'en', unsubscribed: [] });
    const { page, fetched } = await newPage();
    await page.goto('/teacher.html');
    await logIn(page, 'ada@demo.school', DEMO_PASSWORDS.teacher);
    await page.waitForFunction(() => document.getElementById('connection')?.textContent === 'Live');
    expect(await page.evaluate(() => document.documentElement.lang)).to.equal('en');
    expect(await page.textContent('#open-title')).to.equal('Open a session');
    expect(fetched.filter((p) => p.startsWith('/locale-'))).to.deep.equal([]);
    // Back to the school's language from the menu: stored, and the console starts over in French.
    await page.waitForSelector('#language:not([disabled])');
    await page.selectOption('#language', '');
    await page.waitForFunction(() => document.documentElement.lang === 'fr');
    await page.waitForFunction(() => document.getElementById('open-title')?.textContent === 'Ouvrir une séance');
    expect((await srv.store.notificationPreferences.get(orgId, byEmail('ada@demo.school').id))?.language).to.equal(null);
  });

  it('the reports page speaks French: figures, history in words, charts with their data tables; axe passes', async () => {
    const { page, fetched } = await newPage();
    await page.goto('/reports.html');
    await logIn(page, 'admin@demo.school', DEMO_PASSWORDS.admin);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
    expect(await page.evaluate(() => document.documentElement.lang)).to.equal('fr');
    expect(await page.title()).to.equal('Bilans · Présence en classe');
    expect(await page.textContent('#app h1')).to.equal('Bilans de présence');
    expect(await page.textContent('#report-status')).to.match(/^Chiffres du \d{4}-\d\d-\d\d au \d{4}-\d\d-\d\d\.$/);
    expect(await page.locator('#dashboard-figures dt').first().textContent()).to.equal('Aujourd’hui');
    expect(await page.locator('#dashboard-chart details summary').textContent()).to.equal(
      'Tableau des données\u00a0: Présence cette semaine et la semaine dernière',
    );
    expect(fetched.filter((p) => p.startsWith('/locale-')).sort()).to.deep.equal([
      '/locale-fr.js',
      '/locale-pages-fr.js',
      '/locale-reports-fr.js',
      '/locale-staff-fr.js',
    ]);
    // The newest closed session's records: statuses in French words.
    await page.locator('#sessions-table tbody tr button').first().click();
    await page.waitForSelector('#session-detail:not([hidden])');
    const statuses = await page.$$eval('#session-records tbody tr td:nth-child(3)', (tds) => tds.map((td) => td.textContent ?? ''));
    expect(statuses.length).to.be.greaterThan(0);
    for (const s of statuses)
      expect(['Présent·e', 'En retard', 'À vérifier', 'Refusé', 'Excusé·e', 'Absent·e', 'Pas encore']).to.include(s);
    expect(await page.textContent('#session-counts')).to.match(/^Présents \d+ · En retard \d+ · .* · sur \d+$/);
    await expectAccessible(page, 'reports page in French');
  });
});

import { expect } from 'chai';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { DEMO_PASSWORDS, seedDemo } from '../../../src/domain/seed.js';
import type { User } from '../../../src/domain/ports/users.js';
import { startTestServer, type TestServer } from '../../support/http.js';
import { command, connectClient, ok, type ClientSocket } from '../../support/sockets.js';
import { ensurePagesBuilt, expectAccessible, launchChromium, logIn } from '../../support/browser.js';
import { cheapPasswordHasher } from '../../support/passwords.js';

const PHONE = { width: 390, height: 844 };
const CLASSROOM = { latitude: 51.5246, longitude: -0.134 };

// The student page in the reader's language (docs/languages.md): the browser's before sign-in,
// then the user's own, else the organisation's; only the chosen catalog is fetched.
describe('the student page in the reader’s language (Chromium)', function () {
  this.timeout(60_000);

  let srv: TestServer;
  let browser: Browser;
  let orgId = '';
  let users: User[] = [];
  let teacherSocket: ClientSocket;
  let subjectId = '';
  const contexts: BrowserContext[] = [];
  const byEmail = (email: string) => users.find((u) => u.email === email)!;
  const studentEmail = (n: number) => `student${String(n).padStart(2, '0')}@demo.school`;

  before(async function () {
    await ensurePagesBuilt('locale-fr.js');
    srv = await startTestServer();
    await seedDemo(srv.store, { passwords: cheapPasswordHasher() });
    const org = (await srv.store.organisations.getBySlug('demo'))!;
    orgId = org.id;
    await srv.store.organisations.update(orgId, { settings: { ...org.settings, language: 'fr' } });
    users = (await srv.store.users.list(orgId, { limit: 1_000, offset: 0 })).items;
    subjectId = (await srv.store.subjects.list(orgId, { limit: 10, offset: 0 })).items[0]!.id;
    teacherSocket = await connectClient(srv.baseUrl, srv.app.tokenService.signAccess(byEmail('ada@demo.school')).token);
    browser = await launchChromium();
  });

  after(async () => {
    teacherSocket?.disconnect();
    for (const ctx of contexts) await ctx.close();
    await browser?.close();
    await srv?.cleanup();
  });

  /** A phone whose browser prefers `locale`; for axe (injected inline) the CSP is bypassed. */
  async function phone(locale: string, forAxe = true): Promise<{ page: Page; fetched: string[] }> {
    const ctx = await browser.newContext({
      baseURL: srv.baseUrl,
      viewport: PHONE,
      locale,
      bypassCSP: forAxe,
      permissions: ['geolocation'],
      geolocation: { ...CLASSROOM, accuracy: 15 },
    });
    ctx.setDefaultTimeout(8_000);
    contexts.push(ctx);
    const page = await ctx.newPage();
    const fetched: string[] = [];
    page.on('request', (r) => fetched.push(new URL(r.url()).pathname));
    return { page, fetched };
  }

  it('before sign-in follows the browser: French for fr-FR, English for a language without a catalog, fetching only what it shows', async () => {
    // The site's CSP in force: the catalog is a script of the site, loaded by the page's own.
    const fr = await phone('fr-FR', false);
    await fr.page.goto('/student.html');
    await fr.page.waitForSelector('#login:not([hidden])');
    await fr.page.waitForFunction(() => document.documentElement.lang === 'fr');
    expect(await fr.page.textContent('#login-title')).to.equal('Connexion');
    expect(await fr.page.textContent('#login-form button[type="submit"]')).to.equal('Se connecter');
    expect(await fr.page.textContent('#forgot-link')).to.equal('Mot de passe oublié\u00a0?');
    expect(await fr.page.title()).to.equal('Pointage · Présence en classe');
    expect(await fr.page.evaluate(() => document.documentElement.dir)).to.equal('ltr');
    expect(fr.fetched).to.include.members(['/locale-fr.js', '/locale-pages-fr.js', '/locale-student-fr.js']);
    // The server's errors are English; a coded one the catalog knows is said in French.
    await logIn(fr.page, studentEmail(3), 'not-the-password', { waitForApp: false });
    await fr.page.waitForFunction(() => (document.getElementById('login-error')?.textContent ?? '') !== '');
    expect(await fr.page.textContent('#login-error')).to.equal('E-mail ou mot de passe incorrect.');

    const de = await phone('de-DE', false);
    await de.page.goto('/student.html');
    await de.page.waitForSelector('#login:not([hidden])');
    expect(await de.page.textContent('#login-title')).to.equal('Log in');
    expect(await de.page.evaluate(() => document.documentElement.lang)).to.equal('en');
    expect(de.fetched.filter((p) => p.startsWith('/locale-'))).to.deep.equal([]);
  });

  it("signed in, speaks the organisation's language (French here), and check-in still works", async () => {
    const session = ok(
      await command(teacherSocket, 'session:open', {
        subjectId,
        policy: { preset: 'location-code' as never, codePeriodS: 120 },
        parallel: true,
      }),
    );
    const code = ok(await command(teacherSocket, 'session:code', { sessionId: session.id })).code;
    // An English browser: after sign-in the organisation's language wins over it.
    const { page } = await phone('en-GB');
    await page.goto(`/student.html?session=${session.id}&code=${code}`);
    await logIn(page, studentEmail(1), DEMO_PASSWORDS.student);
    await page.waitForFunction(() => document.documentElement.lang === 'fr');
    await page.waitForSelector('#checkin-section:not([hidden])');
    expect(await page.textContent('#sessions-title')).to.equal('Séances ouvertes');
    await page.waitForFunction(() => document.getElementById('connection')?.textContent === 'En direct');
    expect(await page.textContent('#policy-needs')).to.equal(
      'Le pointage demande votre position (dans la salle), le code affiché à l’écran.',
    );
    expect(await page.textContent('#submit-checkin')).to.equal('Pointer');
    await page.click('#share-location');
    await page.waitForSelector('#location-status[data-ready="true"]');
    expect(await page.textContent('#location-status')).to.equal('Position trouvée, précise à environ 15 m.');
    await page.click('#submit-checkin');
    await page.waitForSelector('#decision[data-status="present"]');
    expect(await page.textContent('#decision-text')).to.equal('Vous êtes noté·e présent·e.');
    const record = (await srv.store.records.listBySessions(orgId, [session.id])).find((r) => r.studentId === byEmail(studentEmail(1)).id);
    expect(record?.status).to.equal('present');
    await expectAccessible(page, 'student page in French after check-in');
  });

  it("a user's own language wins over the organisation's and the browser's", async () => {
    await srv.store.notificationPreferences.put(orgId, byEmail(studentEmail(2)).id, { language: 'en', unsubscribed: [] });
    const { page } = await phone('fr-FR');
    await page.goto('/student.html');
    await page.waitForFunction(() => document.documentElement.lang === 'fr');
    await logIn(page, studentEmail(2), DEMO_PASSWORDS.student);
    await page.waitForFunction(() => document.documentElement.lang === 'en');
    expect(await page.textContent('#sessions-title')).to.equal('Open sessions');
    expect(await page.textContent('#login-title')).to.equal('Log in');
    // Remembered for this browser's next visit, so the page opens in it before any request.
    expect(await page.evaluate(() => localStorage.getItem('attendance.language'))).to.equal('en');

    // The menu: back to the school's language (French), stored as the user's preference.
    await page.waitForSelector('#language:not([disabled])');
    expect(await page.inputValue('#language')).to.equal('en');
    await page.selectOption('#language', '');
    await page.waitForFunction(() => document.documentElement.lang === 'fr');
    expect(await page.textContent('#sessions-title')).to.equal('Séances ouvertes');
    expect(await page.textContent('label[for="language"]')).to.equal('Langue');
    expect((await srv.store.notificationPreferences.get(orgId, byEmail(studentEmail(2)).id))?.language).to.equal(null);
    await expectAccessible(page, 'student page with the language menu');
  });
});

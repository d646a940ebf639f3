import { expect } from 'chai';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { DEMO_PASSWORDS, seedDemo } from '../../../src/domain/seed.js';
import { startTestServer, type TestServer } from '../../support/http.js';
import { ensurePagesBuilt, launchChromium, logIn } from '../../support/browser.js';
import { cheapPasswordHasher } from '../../support/passwords.js';

// A teacher in front of the class on the first day: the subject came from the admin's CSV import,
// so it has no classroom location, and the organisation's default verification asks for one.
// Opening is refused SUBJECT_LOCATION_MISSING; the console offers to take the location from the
// teacher's device, standing in that room, and then opens the session; a fix too vague to place
// the room is not saved. The network check without networks gets the same offer.
describe("teacher console: a subject without its classroom's location or networks (Chromium)", function () {
  this.timeout(60_000);

  const ROOM = { latitude: 45.764043, longitude: 4.835659 };
  let srv: TestServer;
  let browser: Browser;
  let context: BrowserContext | undefined;
  let subjectId: string;

  before(async () => {
    await ensurePagesBuilt('locale-teacher-fr.js');
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    // The school's reverse proxy on this host says which address the device came from.
    srv = await startTestServer({ TRUST_PROXY: 'loopback' });
    await seedDemo(srv.store, { passwords: cheapPasswordHasher() });
    const org = (await srv.store.organisations.getBySlug('demo'))!;
    const ada = (await srv.store.users.getByEmail(org.id, 'ada@demo.school'))!;
    subjectId = (
      await srv.store.subjects.create(org.id, {
        code: 'Y10-1',
        name: 'Imported',
        teacherIds: [ada.id],
        location: null,
        allowedIpRanges: [],
      })
    ).id;
  });
  afterEach(async () => {
    await context?.close();
    context = undefined;
    await srv?.cleanup();
  });

  async function adaOpens(preset: string, accuracy: number, locale = 'en-GB', forwardedFor?: string): Promise<Page> {
    context = await browser.newContext({
      baseURL: srv.baseUrl,
      locale,
      ...(forwardedFor ? { extraHTTPHeaders: { 'x-forwarded-for': forwardedFor } } : {}),
      viewport: { width: 1366, height: 900 },
      geolocation: { ...ROOM, accuracy },
      permissions: ['geolocation'],
    });
    context.setDefaultTimeout(8_000);
    const page = await context.newPage();
    await page.goto('/teacher.html');
    await logIn(page, 'ada@demo.school', DEMO_PASSWORDS.teacher);
    await page.waitForSelector(`#subject-select option[value="${subjectId}"]`, { state: 'attached' });
    await page.selectOption('#subject-select', subjectId);
    await page.selectOption('#policy-preset', preset);
    await page.click('#open-form button[type="submit"]');
    await page.waitForSelector('#open-fix:not([hidden])');
    return page;
  }

  const subject = async () => (await srv.store.subjects.get((await srv.store.organisations.getBySlug('demo'))!.id, subjectId))!;

  async function sessionsOfSubject(): Promise<{ status: string; policy: { geofence: boolean; network: boolean } }[]> {
    const { accessToken } = await srv.login('ada@demo.school', DEMO_PASSWORDS.teacher);
    const res = await srv.request('GET', `/api/v1/subjects/${subjectId}/sessions`, { token: accessToken });
    expect(res.status).to.equal(200);
    return res.body.items;
  }

  it('takes the classroom location from the teacher’s device, then opens the session', async () => {
    const page = await adaOpens('location-code', 12);
    expect(await page.textContent('#open-error')).to.equal('The policy requires a geofence but the subject has no classroom location.');
    expect(await page.textContent('#open-fix-button')).to.equal('Make where this device is the classroom location, and open the session');
    expect(await sessionsOfSubject()).to.deep.equal([]);

    await page.click('#open-fix-button');
    await page.waitForSelector('#session-section:not([hidden])');
    expect(await page.textContent('#session-title')).to.include('Y10-1');
    expect(await page.isHidden('#open-fix')).to.equal(true);
    expect(await page.textContent('#open-error')).to.equal('');
    expect(await page.textContent('#open-fix-status')).to.equal(
      'Classroom location saved: 100 m around this device (read to ±12 m). Opening the session…',
    );
    expect((await subject()).location).to.deep.equal({ lat: ROOM.latitude, lon: ROOM.longitude, radiusM: 100 });
    const sessions = await sessionsOfSubject();
    expect(sessions.map((s) => [s.status, s.policy.geofence])).to.deep.equal([['open', true]]);
  });

  it('saves no location from a fix too vague to place the room, and says what to do instead', async () => {
    // The school's language: Ada's console after sign-in.
    const org = (await srv.store.organisations.getBySlug('demo'))!;
    await srv.store.organisations.update(org.id, { settings: { ...org.settings, language: 'fr' } });
    const page = await adaOpens('location-code', 400, 'fr-FR');
    await page.click('#open-fix-button');
    await page.waitForFunction(() => /±/.test(document.getElementById('open-fix-status')?.textContent ?? ''));
    expect(await page.textContent('#open-fix-status')).to.equal(
      'La position de cet appareil n’est précise qu’à ±400 m, trop peu pour placer la salle\u00a0: essayez depuis un téléphone dans la salle, près d’une fenêtre, ou choisissez une vérification sans position.',
    );
    expect(await page.isVisible('#open-fix-button')).to.equal(true);
    expect((await subject()).location).to.equal(null);
    expect(await sessionsOfSubject()).to.deep.equal([]);
  });

  it('allows the school’s public address once the teacher confirms the students share this Wi-Fi, then opens with the network check', async () => {
    const page = await adaOpens('network', 12, 'en-GB', '203.0.113.7');
    await page.waitForSelector('#open-fix-button:has-text("203.0.113.7")');
    expect(await page.textContent('#open-fix-status')).to.equal(
      'This device reaches the server from 203.0.113.7/32. Students’ devices share it only on the same Wi-Fi as this device (not on mobile data, nor if this device is on mobile data): the others would be refused.',
    );
    expect(await page.textContent('#open-fix-button')).to.equal(
      'The students are on this device’s Wi-Fi: allow 203.0.113.7/32, and open the session',
    );
    expect((await subject()).allowedIpRanges).to.deep.equal([]);
    await page.click('#open-fix-button');
    await page.waitForSelector('#session-section:not([hidden])');
    expect((await subject()).allowedIpRanges).to.deep.equal(['203.0.113.7/32']);
    expect(await page.textContent('#open-fix-status')).to.equal('Allowed network saved: 203.0.113.7/32. Opening the session…');
    const sessions = await sessionsOfSubject();
    expect(sessions.map((s) => [s.status, s.policy.network])).to.deep.equal([['open', true]]);
  });

  for (const [seen, ip] of [
    ['the loopback address', undefined],
    ['a school LAN address', '192.168.1.20'],
    ['a mobile operator’s shared address', '100.64.12.7'],
  ] as const) {
    it(`does not offer ${seen} as the class’s network, and opens without the network check instead`, async () => {
      const page = await adaOpens('network', 12, 'en-GB', ip);
      const shown = ip ?? '127.0.0.1';
      await page.waitForSelector('#open-fix-button:has-text("without")');
      expect(await page.textContent('#open-fix-status')).to.equal(
        `This device reaches the server from ${shown}, an address of its own on a local network or on mobile data: every student’s device has another one, so allowing it would refuse the class. An administrator sets the school’s networks; until then, open the session without the network check.`,
      );
      expect(await page.textContent('#open-fix-button')).to.equal('Open the session without the network check');
      await page.click('#open-fix-button');
      await page.waitForSelector('#session-section:not([hidden])');
      expect((await subject()).allowedIpRanges).to.deep.equal([]);
      const sessions = await sessionsOfSubject();
      expect(sessions.map((s) => [s.status, s.policy.network])).to.deep.equal([['open', false]]);
    });
  }
});

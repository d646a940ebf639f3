import { expect } from 'chai';
import { type Browser, type BrowserContext } from 'playwright-core';
import { DEMO_PASSWORDS, seedDemo } from '../../../src/domain/seed.js';
import { startTestServer, type TestServer } from '../../support/http.js';
import { ensurePagesBuilt, launchChromium, logIn } from '../../support/browser.js';
import { cheapPasswordHasher } from '../../support/passwords.js';
import { command, connectClient, ok } from '../../support/sockets.js';

// The link under the projector's QR code is for the students whose phone will not scan: they read
// it from the back of the room and type it. So it must be large and dark on light, and short
// enough to type (the QR's own link carries a session id and a signed token no one could copy).
describe('classroom screen: the link under the QR code reads from the back of the room (Chromium, 1920x1080)', function () {
  this.timeout(60_000);

  let srv: TestServer;
  let browser: Browser;
  let context: BrowserContext;

  before(async function () {
    await ensurePagesBuilt('classroom.js');
    browser = await launchChromium();
    srv = await startTestServer();
    await seedDemo(srv.store, { passwords: cheapPasswordHasher() });
    context = await browser.newContext({ baseURL: srv.baseUrl, locale: 'en-GB', viewport: { width: 1920, height: 1080 } });
    context.setDefaultTimeout(8_000);
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await srv?.cleanup();
  });

  it('is at least 32 px, 7:1 against its background, fully on screen, and short enough to type', async () => {
    const org = (await srv.store.organisations.getBySlug('demo'))!;
    const ada = (await srv.store.users.getByEmail(org.id, 'ada@demo.school'))!;
    const [subject] = (await srv.store.subjects.list(org.id, { limit: 10, offset: 0 })).items.filter((s) => s.teacherIds.includes(ada.id));
    const staff = await connectClient(srv.baseUrl, srv.app.tokenService.signAccess(ada).token);
    try {
      const session = ok(
        await command(staff, 'session:open', {
          subjectId: subject!.id,
          policy: { geofence: false, network: false, rotatingCode: true, selfie: false },
        }),
      );
      const page = await context.newPage();
      await page.goto(`/classroom.html?session=${session.id}`);
      await logIn(page, 'ada@demo.school', DEMO_PASSWORDS.teacher);
      await page.waitForFunction(() => /\d{6}/.test(document.getElementById('code')?.textContent ?? ''));
      await page.waitForFunction(() => (document.getElementById('join-link')?.textContent ?? '') !== '');

      const look = await page.$eval('#join-link', (el) => {
        const style = getComputedStyle(el);
        let back = 'rgba(0, 0, 0, 0)';
        for (let at: Element | null = el; at && /rgba\(0, 0, 0, 0\)|transparent/.test(back); at = at.parentElement) {
          back = getComputedStyle(at).backgroundColor;
        }
        const box = el.getBoundingClientRect();
        return {
          text: el.textContent ?? '',
          fontSize: parseFloat(style.fontSize),
          color: style.color,
          back,
          inside: box.top >= 0 && box.left >= 0 && box.bottom <= innerHeight && box.right <= innerWidth && box.width > 0,
        };
      });
      const host = new URL(srv.baseUrl).host;
      expect(look.text).to.equal(`${host}/student.html`);
      expect(look.fontSize).to.be.at.least(32);
      expect(contrast(look.color, look.back), `${look.color} on ${look.back}`).to.be.at.least(7);
      expect(look.inside).to.equal(true);
      // The QR keeps the whole link: session and signed join token.
      expect(await page.textContent('.join-hint')).to.match(/enter the code/);
    } finally {
      staff.disconnect();
    }
  });
});

/** WCAG contrast ratio of two `rgb(...)` colours. */
function contrast(a: string, b: string): number {
  const lum = (c: string) => {
    const [r, g, bl] = (c.match(/[\d.]+/g) ?? [])
      .slice(0, 3)
      .map(Number)
      .map((v) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      });
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * bl!;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

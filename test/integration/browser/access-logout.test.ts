import { expect } from 'chai';
import { type Browser, type BrowserContext } from 'playwright-core';
import { createOrg, createUser, PASSWORD } from '../../support/fixtures.js';
import { startTestServer, type TestServer } from '../../support/http.js';
import { launchChromium, ensurePagesBuilt, logIn } from '../../support/browser.js';
import { pollUntil } from '../../support/sockets.js';

// "Log out" on a shared computer or a weak phone must end the login on the server, not only
// forget it in this browser: a refresh token copied before (or kept by an extension) would
// otherwise work on for its whole life.
describe('log out ends the login on the server (Chromium)', function () {
  this.timeout(40_000);
  let srv: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  before(async () => {
    await ensurePagesBuilt('admin.js');
    srv = await startTestServer();
    browser = await launchChromium();
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await srv?.cleanup();
  });

  it('even when the logout request leaves the device after the page began to reload', async () => {
    const org = await createOrg(srv.store);
    const admin = await createUser(srv.store, org.id, 'admin');
    context = await browser.newContext({ baseURL: srv.baseUrl });
    const page = await context.newPage();
    await page.goto('/admin.html');
    await logIn(page, admin.email, PASSWORD);
    const [login] = await srv.store.refreshTokens.listActiveLogins(org.id, admin.id, new Date());
    // A slow uplink: the logout request is held on the device for a second before it is sent.
    await page.route('**/api/v1/auth/logout', async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await route.continue().catch(() => undefined);
    });
    await page.click('#logout');
    await page.waitForSelector('#login:not([hidden])');
    expect(await page.isVisible('#app'), 'the app stays hidden once logged out').to.equal(false);
    // The request leaves the browser a second after the page reloaded: 5 s for that second, the
    // browser's send and the server's revocation was a deadline a loaded machine could miss. The
    // bound is for a logout that never reaches the server, not a promise of speed.
    const ended = await pollUntil(() => srv.store.refreshTokens.familyRevoked(login!.familyId), 20_000);
    expect(ended, 'the login was still active on the server after log out').to.equal(true);
  });
});

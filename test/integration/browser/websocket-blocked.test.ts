import { expect } from 'chai';
import type { Browser, BrowserContext } from 'playwright-core';
import { DEMO_PASSWORDS } from '../../../src/domain/seed.js';
import type { Organisation } from '../../../src/domain/ports/organisations.js';
import { startDemoServer } from '../../support/admin-page.js';
import { launchChromium, logIn } from '../../support/browser.js';
import type { TestServer } from '../../support/http.js';
import { startPrefixProxy, type PrefixProxy } from '../../support/prefix-proxy.js';
import { command, connectClient, ok, waitFor } from '../../support/sockets.js';

// Some school and hotel networks pass HTTPS but refuse the WebSocket upgrade (filtering proxies).
// The pages ask for WebSocket first; without trying the next transport they stayed "offline"
// on such a network for good (engine.io-client's tryAllTransports is off by default).
describe('a network that refuses WebSockets (Chromium)', function () {
  this.timeout(60_000);
  let proxy: PrefixProxy;
  let srv: TestServer;
  let org: Organisation;
  let browser: Browser;
  let context: BrowserContext;

  before(async () => {
    proxy = await startPrefixProxy('/attendance', { refuseWebSockets: true });
    ({ srv, org } = await startDemoServer({ PUBLIC_URL: proxy.url }));
    proxy.target(srv.baseUrl);
    browser = await launchChromium();
    context = await browser.newContext();
    context.setDefaultTimeout(15_000);
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    await srv?.cleanup();
    await proxy?.close();
  });

  it('the student page connects over long-polling and a check-in goes through', async () => {
    const page = await context.newPage();
    await page.goto(`${proxy.url}student.html`);
    await logIn(page, 'student01@demo.school', DEMO_PASSWORDS.student);
    await page.waitForSelector('#connection[data-state="online"]');

    const student = (await srv.store.users.getByEmail(org.id, 'student01@demo.school'))!;
    const [remote] = await srv.app.realtime.io.in(`user:${student.id}`).fetchSockets();
    expect(srv.app.realtime.io.sockets.sockets.get(remote!.id)?.conn.transport.name).to.equal('polling');

    // A session opened now reaches the page over polling, and the page's check-in is stored.
    const ada = (await srv.store.users.getByEmail(org.id, 'ada@demo.school'))!;
    const [cs101] = await srv.store.subjects.getByCodes(org.id, ['CS101']);
    const teacher = await connectClient(srv.baseUrl, srv.app.tokenService.signAccess(ada).token);
    try {
      const session = ok(await command(teacher, 'session:open', { subjectId: cs101!.id, policy: { preset: 'manual' } }));
      await page.click('#session-list button:has-text("Join")');
      await page.waitForSelector('#checkin-section:not([hidden])');
      await page.click('#submit-checkin');
      await page.waitForSelector('#decision[data-status="present"]');
      await waitFor(async () => (await srv.store.records.getForStudent(org.id, session.id, student.id))?.status === 'present');
    } finally {
      teacher.disconnect();
    }
  });
});

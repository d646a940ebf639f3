import { expect } from 'chai';
import { type Browser, type BrowserContext } from 'playwright-core';
import { DEMO_PASSWORDS, seedDemo } from '../../../src/domain/seed.js';
import { StoreUnavailableError } from '../../../src/domain/ports/common.js';
import type { Store } from '../../../src/domain/ports/store.js';
import { startTestServer, type TestServer } from '../../support/http.js';
import { ensurePagesBuilt, launchChromium, logIn } from '../../support/browser.js';
import { cheapPasswordHasher } from '../../support/passwords.js';
import { waitFor } from '../../support/sockets.js';

// Walking a two-node deployment, the database was stopped for 20 s: phones that reconnected
// meanwhile (their node killed, their Wi-Fi dropped) were refused at the handshake, and a refused
// handshake ends socket.io-client's own retries. The pages retried only after an auth refusal,
// so those phones stayed "offline" after the database was back, until the student reloaded.
describe('the pages reconnect by themselves after a refused connection (Chromium)', function () {
  this.timeout(60_000);
  let srv: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let storeDown = false;

  /** The store as an outage shows it to the handshake: reading a user fails as unreachable. */
  function failingUsers(store: Store): Store {
    const users = new Proxy(store.users, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (prop !== 'get' || typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (storeDown) return Promise.reject(new StoreUnavailableError('unreachable'));
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    return new Proxy(store, { get: (target, prop, receiver) => (prop === 'users' ? users : Reflect.get(target, prop, receiver)) });
  }

  before(async () => {
    await ensurePagesBuilt('student.js');
    srv = await startTestServer({}, { wrapStore: failingUsers });
    await seedDemo(srv.store, { passwords: cheapPasswordHasher() });
    browser = await launchChromium();
    context = await browser.newContext({ baseURL: srv.baseUrl });
    context.setDefaultTimeout(10_000);
  });

  after(async () => {
    storeDown = false;
    await context?.close();
    await browser?.close();
    await srv?.cleanup();
  });

  it('a student page refused UNAVAILABLE while the database is down comes back online once it is up', async () => {
    const page = await context.newPage();
    // The refusals the page receives: socket.io's CONNECT_ERROR packets (`44…`) on its WebSockets.
    const refusals: string[] = [];
    page.on('websocket', (ws) =>
      ws.on('framereceived', ({ payload }) => {
        if (typeof payload === 'string' && payload.startsWith('44')) refusals.push(payload);
      }),
    );
    await page.goto('/student.html');
    await logIn(page, 'student01@demo.school', DEMO_PASSWORDS.student);
    await page.waitForSelector('#connection[data-state="online"]');

    storeDown = true;
    // The node drops the socket (as one shutting down does); the page reconnects and is refused.
    srv.app.realtime.io.disconnectSockets();
    await page.waitForSelector('#connection[data-state="offline"]');
    // Waited for, not a pause: the database stays down until the page has been refused, so the
    // case is about a page that was refused (socket.io-client's own retries ended there).
    await waitFor(() => refusals.some((r) => r.includes('"UNAVAILABLE"')));
    expect(await page.$eval('#connection', (el) => (el as HTMLElement).dataset['state'])).to.not.equal('online');

    storeDown = false;
    // The refusal's hint is 5 s (src/domain/store-errors.ts), plus up to a fifth: the bound is for
    // a page that never comes back, far past that on a loaded machine.
    await page.waitForSelector('#connection[data-state="online"]', { timeout: 40_000 });
  });
});

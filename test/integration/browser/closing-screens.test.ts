import { expect } from 'chai';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { heldWrites } from '../../support/held-writes.js';
import { startTestServer, type TestServer } from '../../support/http.js';
import { openLiveClass, type LiveClass } from '../../support/live-class.js';
import { command, ok, type ClientSocket } from '../../support/sockets.js';
import { ensurePagesBuilt, launchChromium } from '../../support/browser.js';

// A close whose writes take a while (a large class on a slow store): the classroom screen and a
// teacher console other than the one that closed showed the session open until it was closed.
// They now say it is closing (session:status 'closing'), then closed.
describe('the closing state on the classroom screen and another console (Chromium)', function () {
  this.timeout(60_000);

  let srv: TestServer;
  let browser: Browser;
  let live: LiveClass;
  const held = heldWrites();
  const sockets: ClientSocket[] = [];
  const contexts: BrowserContext[] = [];

  before(async () => {
    await ensurePagesBuilt('classroom.js');
    srv = await startTestServer({ CLOSE_ANSWER_WAIT_MS: '200' }, { wrapStore: held.wrap });
    live = await openLiveClass(srv, sockets, 3);
    browser = await launchChromium();
  });

  after(async () => {
    held.release();
    for (const s of sockets) s.disconnect();
    for (const ctx of contexts) await ctx.close();
    await browser?.close();
    await srv?.cleanup();
  });

  async function staffPage(path: string): Promise<Page> {
    const access = srv.app.tokenService.signAccess(live.teacher);
    const auth = {
      accessToken: access.token,
      accessTokenExpiresAt: access.expiresAt.toISOString(),
      refreshToken: 'not-used-within-the-test',
      user: { id: live.teacher.id, name: live.teacher.name, email: live.teacher.email, role: 'teacher' },
    };
    const ctx = await browser.newContext({ baseURL: srv.baseUrl });
    ctx.setDefaultTimeout(20_000);
    contexts.push(ctx);
    await ctx.addInitScript({ content: `localStorage.setItem('attendance.auth', ${JSON.stringify(JSON.stringify(auth))});` });
    const page = await ctx.newPage();
    await page.goto(path);
    return page;
  }

  it('both say closing while the close writes, then closed', async () => {
    const { sessionId } = live;
    const screen = await staffPage(`/classroom.html?session=${sessionId}`);
    const console = await staffPage(`/teacher.html?session=${sessionId}`);
    await screen.waitForFunction(() => document.getElementById('count-total')?.textContent === '3');
    await console.waitForFunction(() => document.querySelectorAll('#roster-body tr').length === 3);
    expect(await console.textContent('#session-info')).to.match(/^Status: open\./);

    // The close is another teacher's tap (a socket of its own), held in its writes.
    expect(ok(await command(live.staff, 'session:close', { sessionId })).session.status).to.equal('closing');
    await screen.waitForFunction(() => document.getElementById('session-status')?.textContent === 'Closing…');
    await console.waitForFunction(() => document.getElementById('session-info')?.textContent?.startsWith('Status: closing'));
    expect(await console.isDisabled('#close-session')).to.equal(true);

    held.release();
    await screen.waitForFunction(() => document.getElementById('session-status')?.textContent === 'Session closed');
    await console.waitForFunction(() => document.getElementById('session-info')?.textContent?.startsWith('Status: closed.'));
  });
});

import { expect } from 'chai';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { heldWrites } from '../../support/held-writes.js';
import { startTestServer, type TestServer } from '../../support/http.js';
import { openLiveClass, type LiveClass } from '../../support/live-class.js';
import { command, ok, type ClientSocket } from '../../support/sockets.js';
import type { User } from '../../../src/domain/ports/users.js';
import { ensurePagesBuilt, launchChromium } from '../../support/browser.js';

// A close whose writes take a while (a large class on a slow store): the classroom screen and a
// teacher console other than the one that closed showed the session open until it was closed.
// They now say it is closing (session:status 'closing'), then closed; a joined student's page
// stops offering the check-in the session would refuse.
describe('the closing state on the classroom screen, another console and a student page (Chromium)', function () {
  this.timeout(60_000);

  let srv: TestServer;
  let browser: Browser;
  let live: LiveClass;
  const held = heldWrites();
  const sockets: ClientSocket[] = [];
  const contexts: BrowserContext[] = [];

  before(async () => {
    await ensurePagesBuilt('student.js');
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

  async function pageOf(user: User, path: string): Promise<Page> {
    const access = srv.app.tokenService.signAccess(user);
    const auth = {
      accessToken: access.token,
      accessTokenExpiresAt: access.expiresAt.toISOString(),
      refreshToken: 'not-used-within-the-test',
      user: { id: user.id, name: user.name, email: user.email, role: user.role },
    };
    const ctx = await browser.newContext({ baseURL: srv.baseUrl });
    ctx.setDefaultTimeout(20_000);
    contexts.push(ctx);
    await ctx.addInitScript({ content: `localStorage.setItem('attendance.auth', ${JSON.stringify(JSON.stringify(auth))});` });
    const page = await ctx.newPage();
    await page.goto(path);
    return page;
  }

  it('all say closing while the close writes, then closed', async () => {
    const { sessionId } = live;
    const screen = await pageOf(live.teacher, `/classroom.html?session=${sessionId}`);
    const console = await pageOf(live.teacher, `/teacher.html?session=${sessionId}`);
    const phone = await pageOf(live.students[0]!, `/student.html?session=${sessionId}`);
    await phone.waitForSelector('#checkin-section:not([hidden])');
    expect(await phone.isDisabled('#submit-checkin')).to.equal(false);
    await screen.waitForFunction(() => document.getElementById('count-total')?.textContent === '3');
    await console.waitForFunction(() => document.querySelectorAll('#roster-body tr').length === 3);
    expect(await console.textContent('#session-info')).to.match(/^Status: open\./);

    // The close is another teacher's tap (a socket of its own), held in its writes.
    expect(ok(await command(live.staff, 'session:close', { sessionId })).session.status).to.equal('closing');
    await screen.waitForFunction(() => document.getElementById('session-status')?.textContent === 'Closing…');
    await console.waitForFunction(() => document.getElementById('session-info')?.textContent?.startsWith('Status: closing'));
    expect(await console.isDisabled('#close-session')).to.equal(true);
    await phone.waitForFunction(() => (document.getElementById('submit-checkin') as HTMLButtonElement | null)?.disabled === true);
    expect(await phone.textContent('#checkin-error')).to.equal('The session is closed.');
    // Its times no longer say it is open until the planned close.
    expect(await phone.textContent('#session-info')).to.equal('Closing now.');
    // Still while closing: the writes are held until released below.
    expect(await screen.textContent('#session-status')).to.equal('Closing…');

    held.release();
    await screen.waitForFunction(() => document.getElementById('session-status')?.textContent === 'Session closed');
    await console.waitForFunction(() => document.getElementById('session-info')?.textContent?.startsWith('Status: closed.'));
    await phone.waitForFunction(() => /^Closed at \d{1,2}:\d{2}/.test(document.getElementById('session-info')?.textContent ?? ''));
    expect(await phone.isDisabled('#submit-checkin')).to.equal(true);
  });

  it('a tap on its way when the session closes: the refusal leaves the check-in button off', async () => {
    held.release();
    const sessionId = ok(
      await command(live.staff, 'session:open', {
        subjectId: live.subject.id,
        policy: { geofence: false, network: false, rotatingCode: false, selfie: false },
        parallel: true,
      }),
    ).id;
    const student = live.students[1]!;
    const access = srv.app.tokenService.signAccess(student);
    const auth = {
      accessToken: access.token,
      accessTokenExpiresAt: access.expiresAt.toISOString(),
      refreshToken: 'not-used-within-the-test',
      user: { id: student.id, name: student.name, email: student.email, role: student.role },
    };
    const ctx = await browser.newContext({ baseURL: srv.baseUrl });
    ctx.setDefaultTimeout(20_000);
    contexts.push(ctx);
    await ctx.addInitScript({ content: `localStorage.setItem('attendance.auth', ${JSON.stringify(JSON.stringify(auth))});` });
    const phone = await ctx.newPage();
    // The phone's check-in is held on its way (a slow uplink) until the session has closed.
    let sendHeld!: () => void;
    let onSubmit!: () => void;
    const submitted = new Promise<void>((resolve) => (onSubmit = resolve));
    await phone.routeWebSocket(/socket\.io/, (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((message) => {
        if (typeof message === 'string' && message.includes('"checkin:submit"')) {
          sendHeld = () => server.send(message);
          onSubmit();
        } else server.send(message);
      });
    });
    await phone.goto(`/student.html?session=${sessionId}`);
    await phone.waitForSelector('#checkin-section:not([hidden]) #submit-checkin:enabled');
    await phone.click('#submit-checkin');
    await submitted;
    ok(await command(live.staff, 'session:close', { sessionId }));
    await phone.waitForFunction(() => document.getElementById('checkin-error')?.textContent === 'The session is closed.');
    sendHeld();
    await phone.waitForSelector('#submit-checkin:not([aria-busy])');
    expect(await phone.isDisabled('#submit-checkin'), 'no check-in offered on a closed session').to.equal(true);
    expect(await phone.textContent('#checkin-error')).to.match(/closed/i);
  });
});

import { expect } from 'chai';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { io as connectRaw } from 'socket.io-client';
import { DEMO_PASSWORDS, seedDemo } from '../../../src/domain/seed.js';
import { startTestServer, type TestServer } from '../../support/http.js';
import { ensurePagesBuilt, launchChromium, logIn } from '../../support/browser.js';
import { cheapPasswordHasher } from '../../support/passwords.js';
import type { ClientSocket } from '../../support/sockets.js';

/** The hint of a handshakes refusal (src/realtime/admission.ts). */
const HINT_MS = 1_000;
/** Refusals each page must see before admission frees up. */
const REFUSALS = 4;
/** What a refusal shown raw would say: the BUSY message, socket.io-client's transport errors, a command's lack of answer. */
const REFUSAL_WORDS = /busy|poll error|websocket error|no answer from the server/i;
/**
 * Timers fire late on a loaded machine, never early: the upper bounds get this much room, as a
 * stalled page or runner can be seconds late. Real time is the point here (the page's own
 * timers): the lower bounds carry the meaning (the doubling; never socket.io's own 1 to 5 s steps,
 * which the fourth wait, at least 7.6 s, rules out; never two attempts at once).
 */
const LATE_MS = 5_000;

/**
 * A page's connection attempts: each opens a WebSocket first (no session id yet) and, that one
 * refused, a long-polling handshake, whose 403 is the refusal the page can read. `started` counts
 * them as this process hears of them; their times are taken in the page (`startedInPage`), as
 * this process hears of each a little late, and by a different amount each time when it is busy.
 */
interface Attempts {
  started: number;
  refused: number;
}

function isHandshake(href: string, transport: string): boolean {
  const url = new URL(href);
  return url.pathname.endsWith('/socket.io/') && url.searchParams.get('transport') === transport && !url.searchParams.has('sid');
}

async function watchHandshakes(page: Page): Promise<Attempts> {
  const attempts: Attempts = { started: 0, refused: 0 };
  page.on('websocket', (ws) => {
    if (isHandshake(ws.url(), 'websocket')) attempts.started += 1;
  });
  page.on('response', (res) => {
    if (isHandshake(res.url(), 'polling') && res.status() === 403) attempts.refused += 1;
  });
  await page.addInitScript(() => {
    const started: number[] = [];
    (window as unknown as { handshakesStarted: number[] }).handshakesStarted = started;
    window.WebSocket = new Proxy(window.WebSocket, {
      construct(target, args: ConstructorParameters<typeof WebSocket>) {
        const url = new URL(String(args[0]), location.href);
        if (url.pathname.endsWith('/socket.io/') && !url.searchParams.has('sid')) started.push(performance.now());
        return Reflect.construct(target, args) as WebSocket;
      },
    });
  });
  return attempts;
}

/** The page's own times of its WebSocket handshakes, in ms since it loaded. */
function startedInPage(page: Page): Promise<number[]> {
  return page.evaluate(() => (window as unknown as { handshakesStarted: number[] }).handshakesStarted);
}

// A node past its bound of handshakes in flight refuses new ones BUSY with a retry hint before
// anything is checked (docs/protocol.md §2). A page that let socket.io-client retry by itself
// would come back every 1 to 5 s for as long as the node stays busy; the pages instead stop those
// retries and come back after the hint, doubling while the refusals go on, with some randomness
// (src/web/lib/reconnect-delay.ts), and say so in words rather than as a failure.
describe('pages refused by the handshake admission back off and connect once it frees up (Chromium)', function () {
  this.timeout(180_000);
  let srv: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  const held: ClientSocket[] = [];

  before(async () => {
    await ensurePagesBuilt('student.js');
    // Two in flight at most, and two held (their hold bound never ends them: its timers are the
    // test's and never fire, however long the refusals take): the student's and the teacher's page
    // are refused until those are let go, then both fit at once. All come from loopback: one
    // address may hold the whole bound here.
    srv = await startTestServer(
      { SOCKET_ADMISSION_MAX_HANDSHAKES: '2', SOCKET_ADMISSION_MAX_HANDSHAKES_PER_ADDRESS: '2', SOCKET_ADMISSION_MAX_LAG_MS: '0' },
      { admissionTimers: { set: () => null, clear: () => undefined } },
    );
    await seedDemo(srv.store, { passwords: cheapPasswordHasher() });
    browser = await launchChromium();
    context = await browser.newContext({ baseURL: srv.baseUrl });
    context.setDefaultTimeout(10_000);
  });

  after(async () => {
    for (const s of held.splice(0)) s.disconnect();
    await context?.close();
    await browser?.close();
    await srv?.cleanup();
  });

  /**
   * A client whose handshake stays in flight until the returned function is called: socket.io-client
   * asks its `auth` callback once the engine.io connection is open, before its CONNECT packet.
   */
  async function holdHandshake(token: string): Promise<() => Promise<void>> {
    let answer: () => void = () => undefined;
    let socket: ClientSocket | null = null;
    await new Promise<void>((asked) => {
      socket = connectRaw(srv.baseUrl, {
        auth: (cb) => {
          answer = () => cb({ token });
          asked();
        },
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
      });
      held.push(socket);
    });
    const s = socket!;
    return () =>
      new Promise<void>((resolve, reject) => {
        s.once('connect', () => resolve());
        s.once('connect_error', reject);
        answer();
      });
  }

  async function openPage(path: string, email: string, password: string): Promise<{ page: Page; attempts: Attempts; errors: Error[] }> {
    const page = await context.newPage();
    const attempts = await watchHandshakes(page);
    const errors: Error[] = [];
    page.on('pageerror', (err) => errors.push(err));
    await page.goto(path);
    await logIn(page, email, password);
    return { page, attempts, errors };
  }

  it('a student page and a teacher page retry after the hint, doubling with jitter, show the node busy, and connect once admitted', async () => {
    const org = (await srv.store.organisations.list({ limit: 1, offset: 0 })).items[0]!;
    const teacherToken = srv.app.tokenService.signAccess((await srv.store.users.getByEmail(org.id, 'ada@demo.school'))!).token;
    const releases = [await holdHandshake(teacherToken), await holdHandshake(teacherToken)];

    const pages = await Promise.all([
      openPage('/student.html', 'student01@demo.school', DEMO_PASSWORDS.student),
      openPage('/teacher.html', 'ada@demo.school', DEMO_PASSWORDS.teacher),
    ]);
    for (const { page, attempts } of pages) {
      // About 7 to 11 s of waits (1, 2 and 4 s, up to half more); the bound is for a page that stops.
      await waitFor(() => attempts.refused >= REFUSALS, 60_000);
      // Refused, the page says the service is busy and that it will reconnect, as a state, not as errors.
      expect(await page.$eval('#connection', (el) => [(el as HTMLElement).dataset['state'], el.textContent])).to.deep.equal([
        'busy',
        'Server busy, reconnecting shortly…',
      ]);
      // The page's error lines (notices of its own, such as the teacher's HTTPS one, aside) carry no refusal.
      const alerts = await page.$$eval('[role="alert"]', (els) => els.map((el) => el.textContent ?? ''));
      expect(alerts.filter((text) => REFUSAL_WORDS.test(text))).to.deep.equal([]);
    }

    for (const release of releases) await release();
    for (const { page, attempts, errors } of pages) {
      await page.waitForSelector('#connection[data-state="online"]', { timeout: 60_000 });
      expect([attempts.refused, attempts.started], 'admitted on the attempt after the last refusal').to.deep.equal([
        REFUSALS,
        REFUSALS + 1,
      ]);
      // The n-th wait is the hint doubled n-1 times, and up to half more: never socket.io's own
      // 1 to 5 s steps, nor two attempts at once (its retries and the page's both running).
      const started = await startedInPage(page);
      expect(started, 'the attempts the page made are those this process heard of').to.have.length(attempts.started);
      const gaps = started.slice(1).map((t, i) => t - started[i]!);
      gaps.forEach((gap, i) => {
        const base = HINT_MS * 2 ** i;
        expect(gap, `wait ${i + 1} of ${JSON.stringify(gaps)}`).to.be.within(base * 0.95, base * 1.5 + LATE_MS);
      });
      expect(errors.map((e) => e.message)).to.deep.equal([]);
    }
  });
});

async function waitFor(check: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { ensurePagesBuilt, launchChromium } from '../../support/browser.js';
import { startTestServer, type TestServer } from '../../support/http.js';

// The API docs page is reached by the school's host name, not loopback: swagger-ui hides some of
// what it loads from elsewhere on localhost addresses.
const HOST = 'attendance.school.test';

describe('the API docs page under its security policy (Chromium)', function () {
  this.timeout(60_000);
  let srv: TestServer;
  let browser: Browser;

  before(async function () {
    this.timeout(120_000);
    await ensurePagesBuilt('favicon.svg');
    srv = await startTestServer();
    browser = await launchChromium([`--host-resolver-rules=MAP ${HOST} 127.0.0.1`]);
  });
  after(async () => {
    await browser?.close();
    await srv?.cleanup();
  });

  /** Opens the docs page; collects what its policy refused and every request to another origin. */
  async function openDocs(): Promise<{ page: Page; refused: string[]; outside: string[] }> {
    const origin = `http://${HOST}:${new URL(srv.baseUrl).port}`;
    const context = await browser.newContext();
    const refused: string[] = [];
    const outside: string[] = [];
    context.on('request', (r) => {
      if (!r.url().startsWith(`${origin}/`) && !r.url().startsWith('data:')) outside.push(r.url());
    });
    const page = await context.newPage();
    await page.exposeFunction('reportRefused', (what: string) => refused.push(what));
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        (window as unknown as { reportRefused: (w: string) => void }).reportRefused(`${e.violatedDirective} ${e.blockedURI}`);
      });
    });
    await page.goto(`${origin}/api/docs/`);
    return { page, refused, outside };
  }

  it('renders the operations with nothing refused by its policy and nothing asked of another site', async () => {
    const { page, refused, outside } = await openDocs();
    // swagger-ui's bundle is large: parsing it under a loaded test machine takes a while.
    await page.waitForSelector('.swagger-ui .opblock', { timeout: 30_000 });
    await page.click('.swagger-ui .opblock-summary');
    await page.waitForSelector('.swagger-ui .opblock-body');
    // swagger-ui's validator badge is an image, drawn with the spec's operations.
    const images = await page.$$eval('img', (imgs) => imgs.map((i) => (i as HTMLImageElement).src));
    expect(images.filter((src) => !src.startsWith(new URL(page.url()).origin) && !src.startsWith('data:'))).to.deep.equal([]);
    expect(refused, 'refused by the Content-Security-Policy').to.deep.equal([]);
    expect(outside, 'requests to other sites').to.deep.equal([]);
    await page.context().close();
  });
});

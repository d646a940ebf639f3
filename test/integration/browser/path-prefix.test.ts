import path from 'node:path';
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { DEMO_PASSWORDS } from '../../../src/domain/seed.js';
import { startDemoServer } from '../../support/admin-page.js';
import { launchChromium, logIn } from '../../support/browser.js';
import type { TestServer } from '../../support/http.js';
import { decodedMail, startSmtpServer, type TestSmtpServer } from '../../support/mail.js';
import { startPrefixProxy, type PrefixProxy } from '../../support/prefix-proxy.js';
import { repoRoot } from '../../../scripts/lib/repo-root.js';
import { runNode } from '../../support/run-node.js';

// A school publishes the service under a path of its own host, its proxy stripping the prefix
// (docs/deploy.md). Everything a page loads, asks or links must stay under that prefix: the
// proxy answers 404 and lists whatever escapes it.

describe('pages served under a path prefix behind a stripping proxy (Chromium)', function () {
  this.timeout(60_000);

  let proxy: PrefixProxy;
  let smtp: TestSmtpServer;
  let srv: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  /** Responses of 400 and more the pages got, as "status url". */
  let failed: string[];

  before(async () => {
    proxy = await startPrefixProxy('/attendance');
    smtp = await startSmtpServer();
    ({ srv } = await startDemoServer({ PUBLIC_URL: proxy.url, SMTP_URL: smtp.url }));
    proxy.target(srv.baseUrl);
    browser = await launchChromium();
  });

  beforeEach(async () => {
    failed = [];
    proxy.outside.length = 0;
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'UTC' });
    context.setDefaultTimeout(10_000);
    context.on('response', (r) => {
      if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
    });
  });

  afterEach(() => context?.close());

  after(async () => {
    await browser?.close();
    await srv?.cleanup();
    await smtp?.close();
    await proxy?.close();
  });

  /** Nothing escaped the prefix and nothing failed. */
  const expectClean = () => {
    expect(proxy.outside, 'requests that escaped the prefix').to.deep.equal([]);
    expect(failed, 'failed responses').to.deep.equal([]);
  };

  const open = async (address: string): Promise<Page> => {
    const page = await context.newPage();
    await page.goto(new URL(address, proxy.url).href);
    return page;
  };

  // First: a later case changes Ada's password, the client's default teacher.
  it("README's example client runs a whole session given the prefixed address (its socket under the prefix too)", async () => {
    const root = repoRoot(import.meta.url);
    const run = await runNode(['--import', 'tsx', path.join(root, 'scripts', 'example-client.ts'), '--url', proxy.url], { cwd: root });
    expect(run.code, run.out).to.equal(0);
    expect(run.out).to.contain('every step succeeded');
    expect(proxy.outside, 'requests that escaped the prefix').to.deep.equal([]);
  });

  it('the student page loads styled, logs in and its socket connects', async () => {
    const page = await open('student.html');
    // .bar's dark background comes from styles.css only.
    expect(await page.$eval('.bar', (el) => getComputedStyle(el).backgroundColor)).to.equal('rgb(29, 29, 31)');
    expect(await page.$eval('#forgot-link', (a) => (a as HTMLAnchorElement).href)).to.equal(`${proxy.url}reset.html`);
    await logIn(page, 'student01@demo.school', DEMO_PASSWORDS.student);
    await page.waitForSelector('#connection[data-state="online"]');
    expect(await page.$eval('#connection', (el) => getComputedStyle(el).backgroundColor)).to.equal('rgb(10, 107, 45)');
    const manifest = await page.$eval('link[rel="manifest"]', (l) => (l as HTMLLinkElement).href);
    const body = (await (await fetch(manifest)).json()) as { start_url: string; scope: string; icons: { src: string }[] };
    // Relative to the manifest: the installed app opens, and stays, under the prefix.
    expect(new URL(body.start_url, manifest).href).to.equal(`${proxy.url}student.html`);
    expect(new URL(body.scope, manifest).href).to.equal(proxy.url);
    expect(new URL(body.icons[0]!.src, manifest).href).to.equal(`${proxy.url}favicon.svg`);
    expectClean();
  });

  it('the admin page loads and lists the users', async () => {
    const page = await open('admin.html#users');
    await logIn(page, 'admin@demo.school', DEMO_PASSWORDS.admin);
    await page.waitForSelector('#users-body tr');
    expect(await page.locator('#users-body').textContent()).to.contain('Ada Lovelace');
    expectClean();
  });

  it("an emailed invitation leads to the reset page under the prefix, and from there to the role's login page", async () => {
    const admin = await srv.login('admin@demo.school', DEMO_PASSWORDS.admin);
    const teacher = (await srv.request('GET', '/api/v1/users?q=ada%40demo.school&limit=1', { token: admin.accessToken })).body.items[0];
    const invited = await srv.request('POST', `/api/v1/users/${teacher.id}/invite`, { token: admin.accessToken });
    expect(invited.status).to.be.lessThan(300);
    const link = /http:\/\/\S+\/reset\.html#\S+/.exec(decodedMail((await smtp.next('ada@demo.school')).raw))?.[0];
    expect(link?.startsWith(`${proxy.url}reset.html#token=`), link).to.equal(true);
    const page = await open(link!);
    expect(await page.$eval('.narrow', (el) => getComputedStyle(el).maxWidth)).to.not.equal('none');
    await page.fill('#new-password', 'ada-new-password');
    await page.fill('#repeat-password', 'ada-new-password');
    await page.click('#set-form button[type="submit"]');
    await page.waitForSelector('#done-section:not([hidden])');
    await page.click('#done-login');
    await page.waitForURL(`${proxy.url}teacher.html`);
    await logIn(page, 'ada@demo.school', 'ada-new-password');
    expectClean();
  });

  it('the index links every page under the prefix, and an unknown page answers styled with links under it', async () => {
    const index = await open('');
    const links = await index.$$eval('a', (as) => as.map((a) => (a as HTMLAnchorElement).href));
    expect(links.length).to.be.greaterThan(3);
    for (const link of links) expect(link.startsWith(proxy.url), link).to.equal(true);

    const page = await open('a/b/no-such-page');
    // The 404 itself is the point of this page, not a failure.
    expect(failed.splice(0)).to.deep.equal([`404 ${proxy.url}a/b/no-such-page`]);
    expect(await page.$eval('.narrow', (el) => getComputedStyle(el).maxWidth)).to.not.equal('none');
    const home = await page.$eval('a', (a) => (a as HTMLAnchorElement).href);
    expect(home).to.equal(proxy.url);
    expectClean();
  });

  it('the API docs and their OpenAPI document name the prefix', async () => {
    const spec = (await (await fetch(`${proxy.url}api/openapi.json`)).json()) as { servers: { url: string }[] };
    expect(spec.servers).to.deep.equal([{ url: '/attendance' }]);
    const page = await open('api/docs/');
    // swagger-ui's bundle is large: parsing it under a loaded test machine takes a while.
    await page.waitForSelector('.swagger-ui .info .title', { timeout: 30_000 });
    expectClean();
  });
});

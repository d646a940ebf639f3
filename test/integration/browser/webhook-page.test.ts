import { mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { expect } from 'chai';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { repoRoot } from '../../../scripts/lib/repo-root.js';
import { DEMO_PASSWORDS, seedDemo } from '../../../src/domain/seed.js';
import type { Organisation } from '../../../src/domain/ports/organisations.js';
import type { User } from '../../../src/domain/ports/users.js';
import { verifySignature } from '../../../src/domain/webhooks/signature.js';
import { startTestServer, type TestServer } from '../../support/http.js';
import { launchChromium, ensurePagesBuilt, expectAccessible } from '../../support/browser.js';
import { cheapPasswordHasher } from '../../support/passwords.js';

const ROOT = repoRoot(import.meta.url);
const SHOTS = path.join(ROOT, 'test-results', 'screenshots', 'admin');

interface Received {
  signature: string;
  body: string;
}

/** A local receiver that answers 204 and keeps what came, in order. */
async function startReceiver() {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ signature: String(req.headers['x-attendance-signature']), body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('admin console: webhooks (Chromium)', function () {
  this.timeout(60_000);

  let srv: TestServer;
  let rx: Awaited<ReturnType<typeof startReceiver>>;
  let browser: Browser;
  let ctx: BrowserContext;
  let page: Page;
  let org: Organisation;
  let teacher: User;
  let subjectId: string;
  let secret = '';

  /** A session opened by the demo teacher, then one dispatch pass: the receiver gets its message. */
  async function openSessionAndDeliver(): Promise<Received> {
    const before = rx.received.length;
    await srv.app.attendance.sessions.open(
      { id: teacher.id, orgId: org.id, role: 'teacher', ip: null },
      { subjectId, parallel: true, closesAt: new Date(Date.now() + 3_600_000).toISOString() },
    );
    await srv.app.webhookEvents.drain();
    expect(await srv.app.webhooks.tick()).to.equal(1);
    expect(rx.received).to.have.length(before + 1);
    return rx.received.at(-1)!;
  }

  const endpointRow = () => page.locator('#wh-body tr[data-endpoint-id]');

  before(async function () {
    await ensurePagesBuilt('admin.js');
    // The dispatcher's own pass comes once a minute: the test ticks it, so each delivery is exact.
    srv = await startTestServer({ WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_POLL_MS: '60000' });
    await seedDemo(srv.store, { passwords: cheapPasswordHasher() });
    org = (await srv.store.organisations.getBySlug('demo'))!;
    teacher = (await srv.store.users.getByEmail(org.id, 'ada@demo.school'))!;
    const subjects = await srv.store.subjects.list(org.id, { limit: 50, offset: 0 });
    subjectId = subjects.items.find((s) => s.teacherIds.includes(teacher.id))!.id;
    rx = await startReceiver();
    browser = await launchChromium();
    mkdirSync(SHOTS, { recursive: true });
    // axe is injected as an inline script, which the pages' CSP refuses: the context bypasses it.
    ctx = await browser.newContext({ baseURL: srv.baseUrl, viewport: { width: 1366, height: 768 }, timezoneId: 'UTC', bypassCSP: true });
    ctx.setDefaultTimeout(10_000);
    page = await ctx.newPage();
    page.on('dialog', (dialog) => void dialog.accept());
    await page.goto('/admin.html#webhooks');
    await page.fill('#login-email', 'admin@demo.school');
    await page.fill('#login-password', DEMO_PASSWORDS.admin);
    await page.click('#login-form button[type="submit"]');
    await page.waitForSelector('#tab-webhooks:not([hidden])');
  });

  after(async () => {
    await ctx?.close();
    await browser?.close();
    await srv?.cleanup();
    await rx?.close();
  });

  it('adds an endpoint for the events picked and shows its secret once, which signs the deliveries', async () => {
    await page.waitForSelector('#wh-body td:has-text("No endpoint yet")');
    const offered = await page
      .locator('#wh-events input[name="events"]')
      .evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value));
    expect(offered).to.deep.equal(['session.opened', 'session.closed', 'record.created', 'record.changed', 'alert.raised']);
    await page.fill('#wh-url', rx.url);
    await page.fill('#wh-description', 'Student information system');
    await page.check('#wh-events input[value="session.opened"]');
    await page.check('#wh-events input[value="session.closed"]');
    await page.click('#wh-form button[type="submit"]');
    await page.waitForSelector('#wh-secret:not([hidden])');
    secret = await page.inputValue('#wh-secret-value');
    expect(secret).to.match(/^whsec_/);
    const [stored] = await srv.store.webhooks.listEndpoints(org.id);
    expect(stored).to.deep.include({ url: rx.url, description: 'Student information system', secret, active: true });
    expect(stored!.events).to.deep.equal(['session.opened', 'session.closed']);
    await endpointRow().waitFor();
    await expectAccessible(page, 'webhooks with a new secret');
    await page.screenshot({ path: path.join(SHOTS, 'webhooks-secret-laptop.png'), fullPage: true });

    await page.click('#wh-secret-done');
    expect(await page.isHidden('#wh-secret')).to.equal(true);
    expect(await page.inputValue('#wh-secret-value')).to.equal('');
    // Once gone, nothing on the page (nor a reload of it) carries the secret again.
    await page.reload();
    await endpointRow().waitFor();
    expect(await page.content()).to.not.contain(secret);
    expect(await page.inputValue('#wh-secret-value')).to.equal('');

    const got = await openSessionAndDeliver();
    expect(verifySignature(secret, got.body, got.signature, new Date())).to.equal(true);
    await page.evaluate(() => window.dispatchEvent(new HashChangeEvent('hashchange')));
    await page.waitForFunction(() =>
      /Latest: delivered .*\(HTTP 204\)/.test(document.querySelector('#wh-body .wh-recent')?.textContent ?? ''),
    );
    await endpointRow().locator('button:has-text("Delivery log")').click();
    await page.waitForSelector('#wh-log:not([hidden])');
    const cells = await page.locator('#wh-log-body tr').first().locator('td').allTextContents();
    expect(cells.slice(1, 5)).to.deep.equal(['session.opened', 'Delivered', '1', 'HTTP 204']);
    await page.screenshot({ path: path.join(SHOTS, 'webhooks-laptop.png'), fullPage: true });
  });

  it('rotates the secret: the new one is shown once and signs the next delivery, the old one no longer does', async () => {
    await endpointRow().locator('button:has-text("Rotate secret")').click();
    await page.waitForSelector('#wh-secret:not([hidden])');
    const rotated = await page.inputValue('#wh-secret-value');
    expect(rotated)
      .to.match(/^whsec_/)
      .and.not.equal(secret);
    expect(await page.textContent('#wh-secret-title')).to.equal(`New signing secret of ${rx.url}`);
    const got = await openSessionAndDeliver();
    expect(verifySignature(rotated, got.body, got.signature, new Date())).to.equal(true);
    expect(verifySignature(secret, got.body, got.signature, new Date())).to.equal(false);
    await page.click('#wh-secret-done');
  });

  it('pauses and re-enables the endpoint', async () => {
    await endpointRow().locator('button:has-text("Pause")').click();
    await page.waitForSelector('#wh-body .wh-state:text-is("Paused")');
    expect((await srv.store.webhooks.listEndpoints(org.id))[0]!.active).to.equal(false);
    await endpointRow().locator('button:has-text("Enable")').click();
    await page.waitForSelector('#wh-body .wh-state:text-is("Active")');
    expect((await srv.store.webhooks.listEndpoints(org.id))[0]!.active).to.equal(true);
  });

  it('deletes the endpoint with its log', async () => {
    await endpointRow().locator('button:has-text("Delete")').click();
    await page.waitForSelector('#wh-body td:has-text("No endpoint yet")');
    expect(await page.isHidden('#wh-log')).to.equal(true);
    expect(await srv.store.webhooks.listEndpoints(org.id)).to.deep.equal([]);
    const audit = await srv.store.audit.listForEntity(org.id, 'organisation', org.id);
    expect(audit.map((e) => e.action).filter((a) => a.startsWith('webhook.'))).to.deep.equal([
      'webhook.create',
      'webhook.rotate-secret',
      'webhook.update',
      'webhook.update',
      'webhook.delete',
    ]);
  });
});

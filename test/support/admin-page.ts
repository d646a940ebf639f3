import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { repoRoot } from '../../scripts/lib/repo-root.js';
import type { Organisation } from '../../src/domain/ports/organisations.js';
import { DEMO_PASSWORDS, seedDemo } from '../../src/domain/seed.js';
import { ensurePagesBuilt, logIn } from './browser.js';
import { startTestServer, type TestServer } from './http.js';
import { cheapPasswordHasher } from './passwords.js';

const SHOTS = path.join(repoRoot(import.meta.url), 'test-results', 'screenshots', 'admin');

/** A test server (cleaned up by the caller) holding the demo organisation, with the admin console's pages built. */
export async function startDemoServer(env: Record<string, string> = {}): Promise<{ srv: TestServer; org: Organisation }> {
  await ensurePagesBuilt('admin.js');
  const srv = await startTestServer(env);
  await seedDemo(srv.store, { passwords: cheapPasswordHasher() });
  return { srv, org: (await srv.store.organisations.getBySlug('demo'))! };
}

/** The demo admin, logged in on /admin.html in a fresh context (closed by the caller); CSP bypassed for axe-core. */
export async function openAdminPage(browser: Browser, baseURL: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL, viewport: { width: 1366, height: 900 }, timezoneId: 'UTC', bypassCSP: true });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  await page.goto('/admin.html#users');
  await logIn(page, 'admin@demo.school', DEMO_PASSWORDS.admin);
  await page.waitForSelector('#tab-users:not([hidden]):not([aria-busy="true"])');
  return { context, page };
}

/**
 * Shows one section of the admin console, as its address fragment does, once its load has
 * answered: until then it still shows what it held before, which a test must not read or click.
 */
export async function showSection(page: Page, section: string): Promise<void> {
  await page.evaluate((s) => (location.hash = s), section);
  await page.waitForSelector(`#tab-${section}:not([hidden]):not([aria-busy="true"])`);
}

/** A full-page screenshot beside the admin console's others, for a reviewer's eye (test-results/screenshots/admin). */
export async function screenshotAdmin(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}-laptop.png`), fullPage: true });
}

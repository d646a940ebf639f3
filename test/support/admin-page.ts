import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { repoRoot } from '../../scripts/lib/repo-root.js';
import type { Organisation } from '../../src/domain/ports/organisations.js';
import type { Language } from '../../src/shared/i18n/languages.js';
import { DEMO_PASSWORDS, seedDemo } from '../../src/domain/seed.js';
import { ensurePagesBuilt, launchChromium, logIn } from './browser.js';
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

/** How a test opens the admin console's browser context: `watch` sees the context and its page before the first request. */
export interface AdminPageOptions {
  /** Playwright context options over the console's (1366 × 900, CSP bypassed); no `timezoneId` here means UTC. */
  context?: BrowserContextOptions;
  watch?: (context: BrowserContext, page: Page) => void;
  /** Playwright's bound on each wait of the context (default 10 s): a test on a heavily loaded machine gives more. */
  waitMs?: number;
}

/** The demo admin, logged in on /admin.html in a fresh context (closed by the caller); CSP bypassed for axe-core. */
export async function openAdminPage(
  browser: Browser,
  baseURL: string,
  opts: AdminPageOptions = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    baseURL,
    viewport: { width: 1366, height: 900 },
    bypassCSP: true,
    ...(opts.context ?? { timezoneId: 'UTC' }),
  });
  context.setDefaultTimeout(opts.waitMs ?? 10_000);
  const page = await context.newPage();
  opts.watch?.(context, page);
  await page.goto('/admin.html#users');
  await logIn(page, 'admin@demo.school', DEMO_PASSWORDS.admin);
  await page.waitForSelector('#tab-users:not([hidden]):not([aria-busy="true"])');
  return { context, page };
}

/** A demo server with the admin console open on it in its own Chromium; `close` stops them all. */
export interface AdminConsole {
  srv: TestServer;
  org: Organisation;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/**
 * The demo admin logged in on the console (openAdminPage) of a demo server (startDemoServer, `env`);
 * with `language`, the organisation's language, its catalog built and the page waited on until
 * it reads in it. What was started is stopped again if a step fails.
 */
export async function openAdminConsole(
  opts: AdminPageOptions & { env?: Record<string, string>; language?: Language } = {},
): Promise<AdminConsole> {
  if (opts.language) await ensurePagesBuilt(`locale-admin-${opts.language}.js`);
  const { srv, org } = await startDemoServer(opts.env);
  const opened: { browser?: Browser; context?: BrowserContext } = {};
  const close = async () => {
    await opened.context?.close();
    await opened.browser?.close();
    await srv.cleanup();
  };
  try {
    if (opts.language) await srv.store.organisations.update(org.id, { settings: { ...org.settings, language: opts.language } });
    opened.browser = await launchChromium();
    const { context, page } = await openAdminPage(opened.browser, srv.baseUrl, opts);
    opened.context = context;
    if (opts.language) await page.waitForFunction((lang) => document.documentElement.lang === lang, opts.language);
    return { srv, org, browser: opened.browser, context, page, close };
  } catch (err) {
    await close();
    throw err;
  }
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

/** A `watch` that accepts every dialog (confirm, prompt) and keeps its message in `messages`. */
export function acceptingDialogs(messages: string[]): NonNullable<AdminPageOptions['watch']> {
  return (_ctx, tab) =>
    tab.on('dialog', (dialog) => {
      messages.push(dialog.message());
      void dialog.accept();
    });
}

/**
 * Searches the Users section for `query` and waits for its one row: the row of this search, not
 * any single row, since the list may still show the last search's one.
 */
export async function findOneUser(page: Page, query: string): Promise<void> {
  await showSection(page, 'users');
  await page.fill('#user-q', query);
  await page.click('#user-search button[type="submit"]');
  await page.waitForFunction((q) => {
    const rows = document.querySelectorAll('#users-body tr');
    return rows.length === 1 && (rows[0]!.textContent ?? '').includes(q);
  }, query);
}

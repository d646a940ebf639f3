import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { expect } from 'chai';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildWeb } from '../../scripts/build-web.js';
import { repoRoot } from '../../scripts/lib/repo-root.js';

/** Debian's Chromium; never a browser downloaded by a test tool. */
export const CHROMIUM = '/usr/bin/chromium';
const ROOT = repoRoot(import.meta.url);
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** Headless Chromium as this machine allows it (no sandbox as root, no outside networking). */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', ...extraArgs],
    timeout: 15_000,
  });
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/** Builds the pages when dist/public/`marker` is missing or older than anything in src/web. */
export async function ensurePagesBuilt(marker: string): Promise<void> {
  const built = path.join(ROOT, 'dist', 'public', marker);
  if (existsSync(built) && statSync(built).mtimeMs >= newestMtime(path.join(ROOT, 'src', 'web'))) return;
  await buildWeb();
}

/** Fills and sends a page's login form; by default waits until the page shows its app. */
export async function logIn(page: Page, email: string, password: string, opts: { waitForApp?: boolean } = {}): Promise<void> {
  await page.fill('#login-email', email);
  await page.fill('#login-password', password);
  await page.click('#login-form button[type="submit"]');
  if (opts.waitForApp !== false) await page.waitForSelector('#app:not([hidden])');
}

/** axe-core in the page: no serious or critical violation. */
export async function expectAccessible(page: Page, name: string): Promise<void> {
  await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const result = await (
      window as unknown as {
        axe: { run: () => Promise<{ violations: { id: string; impact: string | null; nodes: { target: unknown }[] }[] }> };
      }
    ).axe.run();
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      targets: v.nodes.map((n) => JSON.stringify(n.target)).slice(0, 5),
    }));
  });
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad, `${name}: ${JSON.stringify(bad)}`).to.deep.equal([]);
}

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import type { Browser, BrowserContext } from 'playwright-core';
import { repoRoot } from '../../../scripts/lib/repo-root.js';
import { startTestServer, type TestServer } from '../../support/http.js';
import { ensurePagesBuilt, expectAccessible, launchChromium } from '../../support/browser.js';

// The set-password page carries only the shared page catalog (docs/languages.md): none of the
// signed-in pages' words (the login form, reasons, charts) and none of the student's. In French
// it fetches that catalog's French alone, and reads in French.
describe('the set-password page’s words (Chromium)', function () {
  this.timeout(40_000);
  let srv: TestServer;
  let browser: Browser;
  let context: BrowserContext;

  before(async () => {
    await ensurePagesBuilt('reset.js');
    srv = await startTestServer();
    browser = await launchChromium();
    context = await browser.newContext({ baseURL: srv.baseUrl, viewport: { width: 390, height: 844 }, locale: 'en-GB', bypassCSP: true });
    context.setDefaultTimeout(10_000);
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await srv?.cleanup();
  });

  it('bundles only the words it shows: no login form, reason, chart or student sentence', () => {
    const bundle = readFileSync(path.join(repoRoot(import.meta.url), 'dist', 'public', 'reset.js'), 'utf8');
    expect(bundle).to.include('Choose a new password');
    for (const word of ['Forgot your password?', 'Inside the classroom area.', 'Open sessions', 'Connecting…', 'no settled session']) {
      expect(bundle, word).not.to.include(word);
    }
  });

  it('in French (the emailed link’s language), fetches the shared catalog’s French alone and reads in French', async () => {
    const page = await context.newPage();
    const fetched: string[] = [];
    page.on('request', (r) => fetched.push(new URL(r.url()).pathname));
    await page.goto('/reset.html#lang=fr');
    await page.waitForFunction(() => document.documentElement.lang === 'fr');
    await page.waitForSelector('#forgot-section:not([hidden])');
    expect(await page.title()).to.equal('Choisir un mot de passe · Présence en classe');
    expect(await page.textContent('#forgot-form button[type="submit"]')).to.equal('M’envoyer un lien');
    expect(fetched.filter((p) => p.startsWith('/locale-'))).to.deep.equal(['/locale-fr.js']);
    await expectAccessible(page, 'set-password page in French');
  });

  it('in French, says a refused password and a used link in French, not the server’s English', async () => {
    const page = await context.newPage();
    await page.goto('/reset.html#token=not-a-real-token&lang=fr');
    await page.waitForFunction(() => document.documentElement.lang === 'fr');
    await page.waitForSelector('#set-section:not([hidden])');
    await page.fill('#new-password', 'court');
    await page.fill('#repeat-password', 'court');
    await page.click('#set-form button[type="submit"]');
    await page.waitForFunction(() => (document.getElementById('set-error')?.textContent ?? '') !== '');
    expect(await page.textContent('#set-error')).to.equal(
      'La demande n’est pas valide\u00a0: Nouveau mot de passe\u00a0: au moins 8 caractères.',
    );

    await page.fill('#new-password', 'assez-long-maintenant');
    await page.fill('#repeat-password', 'assez-long-maintenant');
    await page.click('#set-form button[type="submit"]');
    // The page clears its error line when a submission leaves: wait for the new answer's line.
    await page.waitForFunction(() => {
      const line = document.getElementById('set-error')?.textContent ?? '';
      return line !== '' && !/valide :/.test(line);
    });
    expect(await page.textContent('#set-error')).to.equal(
      'Ce lien n’est pas valide, a expiré ou a déjà servi\u00a0; demandez-en un nouveau.',
    );
  });
});

import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { User } from '../../../src/domain/ports/users.js';
import { STUDENT_SHELL } from '../../../scripts/build-web.js';
import { repoRoot } from '../../../scripts/lib/repo-root.js';
import { createClass, PASSWORD } from '../../support/fixtures.js';
import { startTestServer, type TestServer } from '../../support/http.js';
import { command, connectClient, ok, type ClientSocket } from '../../support/sockets.js';
import { ensurePagesBuilt, launchChromium, logIn } from '../../support/browser.js';

// The student before and after Join on a weak phone: the session list says their own state, and
// the page reloads offline from its service worker (src/web/student-sw.ts) saying so, without
// sending or keeping a check-in tapped meanwhile (docs/protocol.md §5.5, README "Student page offline").

const PHONE = { width: 360, height: 740 };
const PUBLIC = path.join(repoRoot(import.meta.url), 'dist', 'public');

describe('the student page before Join and offline (Chromium, service worker)', function () {
  this.timeout(60_000);

  let srv: TestServer;
  let browser: Browser;
  let teacher: ClientSocket;
  let students: User[];
  let subjectId = '';
  let orgId = '';
  const contexts: BrowserContext[] = [];

  before(async () => {
    await ensurePagesBuilt('student-sw.js');
    srv = await startTestServer();
    const cls = await createClass(srv.store, 4, { code: 'OFF1', name: 'Offline class' });
    students = cls.students;
    subjectId = cls.subject.id;
    orgId = cls.org.id;
    teacher = await connectClient(srv.baseUrl, srv.app.tokenService.signAccess(cls.teacher).token);
    browser = await launchChromium();
  });

  after(async () => {
    teacher?.disconnect();
    for (const ctx of contexts) await ctx.close();
    await browser?.close();
    await srv?.cleanup();
  });

  /** A phone's own browser (its own storage, caches and service workers). */
  async function phone(): Promise<Page> {
    // Under the pages' own CSP (no bypass): the worker must be allowed by it.
    const ctx = await browser.newContext({ baseURL: srv.baseUrl, viewport: PHONE, isMobile: true, hasTouch: true, locale: 'en-GB' });
    ctx.setDefaultTimeout(15_000);
    contexts.push(ctx);
    return ctx.newPage();
  }

  async function openSession(): Promise<string> {
    return ok(await command(teacher, 'session:open', { subjectId, policy: { preset: 'manual' }, parallel: true })).id;
  }

  const stateOf = (page: Page, sessionId: string) =>
    page.evaluate((id) => {
      const li = [...document.querySelectorAll('#session-list li')].find((l) => l.querySelector('button')?.dataset['session'] === id);
      const state = li?.querySelector<HTMLElement>('.listed-state');
      return state ? { text: state.textContent, status: state.dataset['status'] } : null;
    }, sessionId);

  /** Waits until the page is controlled by the student page's worker, its copies made (the caches' names then). */
  async function keptForOffline(page: Page): Promise<string[]> {
    for (let tries = 0; tries < 150; tries += 1) {
      const seen = await page.evaluate(async () => {
        if (!navigator.serviceWorker.controller) return null;
        const names = await caches.keys();
        for (const name of names) {
          const urls = (await (await caches.open(name)).keys()).map((r) => new URL(r.url).pathname);
          if (urls.some((u) => u.endsWith('/student.html'))) return names;
        }
        return null;
      });
      if (seen) return seen;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the page was not kept for offline use within 15 s');
  }

  it("lists the student's own state before Join, and follows the teacher's change live, in English and French", async () => {
    const sessionId = await openSession();
    const page = await phone();
    await page.goto('/student.html');
    await logIn(page, students[0]!.email, PASSWORD);
    await page.waitForFunction((id) => document.querySelector(`#session-list button[data-session="${id}"]`), sessionId);
    expect(await stateOf(page, sessionId)).to.deep.equal({ text: 'Not checked in yet.', status: 'none' });

    await page.click(`#session-list button[data-session="${sessionId}"]`);
    await page.waitForSelector('#checkin-section:not([hidden]) #submit-checkin:enabled');
    await page.click('#submit-checkin');
    await page.waitForSelector('#decision[data-status="present"]');
    expect(await stateOf(page, sessionId)).to.deep.equal({ text: 'Checked in: present.', status: 'present' });

    // Another phone of the same student, never joined: the list alone says it counted, and a
    // teacher's correction reaches it without a tap.
    const other = await phone();
    await other.goto('/student.html');
    await logIn(other, students[0]!.email, PASSWORD);
    await other.waitForFunction((id) => document.querySelector(`#session-list button[data-session="${id}"]`), sessionId);
    expect(await stateOf(other, sessionId)).to.deep.equal({ text: 'Checked in: present.', status: 'present' });
    ok(await command(teacher, 'checkin:mark', { sessionId, studentId: students[0]!.id, status: 'excused' }));
    await other.waitForFunction((id) => {
      const b = document.querySelector(`#session-list button[data-session="${id}"]`);
      return b?.closest('li')?.querySelector('.listed-state')?.getAttribute('data-status') === 'excused';
    }, sessionId);
    expect(await stateOf(other, sessionId)).to.deep.equal({ text: 'Excused.', status: 'excused' });
    expect(await other.isHidden('#checkin-section')).to.equal(true);

    // A student of a French-speaking organisation reads it in French.
    const org = (await srv.store.organisations.get(orgId))!;
    await srv.store.organisations.update(orgId, { settings: { ...org.settings, language: 'fr' } });
    try {
      const fr = await phone();
      await fr.goto('/student.html');
      await logIn(fr, students[1]!.email, PASSWORD);
      await fr.waitForFunction(() => document.documentElement.lang === 'fr');
      await fr.waitForFunction((id) => document.querySelector(`#session-list button[data-session="${id}"]`), sessionId);
      ok(await command(teacher, 'checkin:mark', { sessionId, studentId: students[1]!.id, status: 'late' }));
      await fr.waitForFunction(() => document.querySelector('#session-list [data-status="late"]'));
      expect(await stateOf(fr, sessionId)).to.deep.equal({ text: 'Pointé\u00a0: en retard.', status: 'late' });
    } finally {
      await srv.store.organisations.update(orgId, { settings: org.settings });
    }
  });

  it('reloads offline from the kept page, saying so; a tap offline is not sent, and once back the page asks for it again', async () => {
    const sessionId = await openSession();
    const page = await phone();
    await page.goto(`/student.html?session=${sessionId}`);
    await logIn(page, students[2]!.email, PASSWORD);
    await page.waitForSelector('#checkin-section:not([hidden]) #submit-checkin:enabled');
    await keptForOffline(page);
    expect(await page.isHidden('#offline-note')).to.equal(true);

    await page.context().setOffline(true);
    await page.reload();
    // The kept page, not the browser's error page: signed in, saying it is offline.
    await page.waitForSelector('#offline-note:not([hidden])');
    expect(await page.textContent('#offline-note')).to.match(/^You are offline\./);
    expect(await page.isVisible('#app')).to.equal(true);
    await page.waitForSelector('#connection[data-state="offline"]');

    // The form shows nothing to tap offline (no session was read); the tap's own refusal is
    // tested on a page that lost the link after the session was on screen.
    expect(await page.isHidden('#checkin-section')).to.equal(true);
    await page.context().setOffline(false);
    await page.waitForSelector('#offline-note', { state: 'hidden' });
    await page.waitForSelector('#checkin-section:not([hidden]) #submit-checkin:enabled');

    await page.context().setOffline(true);
    await page.waitForFunction(() => !navigator.onLine);
    await page.click('#submit-checkin');
    expect(await page.textContent('#checkin-error')).to.match(/offline: the check-in was not sent/);
    // Nothing queued: the record does not exist, and the link coming back sends nothing by itself.
    await page.context().setOffline(false);
    await page.waitForFunction(() => /connection is back/.test(document.getElementById('checkin-error')?.textContent ?? ''));
    expect(await srv.store.records.getForStudent(orgId, sessionId, students[2]!.id)).to.equal(null);
    await page.click('#submit-checkin');
    await page.waitForSelector('#decision[data-status="present"]');
  });

  it('keeps only the page’s own files, under the build’s version, never an API answer or the address’s query; a new build drops the old copies', async () => {
    const sessionId = await openSession();
    const page = await phone();
    const joinToken = '1.secret-join-token-x';
    // An older build's copies, as a phone that visited before a deploy holds them.
    await page.goto('/favicon.svg');
    await page.evaluate(async () => {
      const old = await caches.open('student-shell-0000000000000000');
      await old.put('student.js', new Response('old build'));
    });
    await page.goto(`/student.html?session=${sessionId}&join=${joinToken}`);
    // The student's attendance and excuses are read once the page is usable (API answers with personal data).
    const personal = Promise.all(
      ['/api/v1/me/attendance', '/api/v1/excuses'].map((p) => page.waitForResponse((r) => new URL(r.url()).pathname === p)),
    );
    await logIn(page, students[3]!.email, PASSWORD);
    await page.waitForSelector('#checkin-section:not([hidden])');
    await keptForOffline(page);
    await personal;

    const kept = await page.evaluate(async () => {
      const names = await caches.keys();
      const urls = [];
      for (const name of names) for (const r of await (await caches.open(name)).keys()) urls.push(r.url);
      return { names, urls };
    });
    const sw = await readFile(path.join(PUBLIC, 'student-sw.js'), 'utf8');
    const optional = (await readdir(PUBLIC)).filter((n) => /^locale-[a-z-]+\.js$/.test(n)).sort();
    const digest = createHash('sha256');
    for (const name of [...STUDENT_SHELL, ...optional]) digest.update(name).update(await readFile(path.join(PUBLIC, name)));
    const version = digest.digest('hex').slice(0, 16);
    expect(sw).to.contain(version);
    expect(kept.names).to.deep.equal([`student-shell-${version}`]);
    const paths = kept.urls.map((u) => new URL(u));
    expect(paths.every((u) => u.search === '' && !u.pathname.includes('/api/') && !u.pathname.includes('socket.io'))).to.equal(true);
    expect(paths.map((u) => u.pathname.slice(1))).to.include.members([...STUDENT_SHELL]);
    expect(kept.urls.join(' ')).to.not.contain(joinToken);
    // Other pages are not its own: the teacher console is not controlled by it.
    await page.goto('/teacher.html');
    expect(await page.evaluate(() => navigator.serviceWorker.controller)).to.equal(null);
  });
});

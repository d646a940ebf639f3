import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { codeAt, joinTokenAt } from '../../../src/domain/checks/rotating-code.js';
import { repoRoot } from '../../../scripts/lib/repo-root.js';
import { DEMO_PASSWORDS, seedDemo } from '../../../src/domain/seed.js';
import type { User } from '../../../src/domain/ports/users.js';
import { startTestServer, type TestServer } from '../../support/http.js';
import { command, connectClient, ok, type ClientSocket } from '../../support/sockets.js';
import { ensurePagesBuilt, expectAccessible, launchChromium, logIn } from '../../support/browser.js';
import { cheapPasswordHasher } from '../../support/passwords.js';

const ROOT = repoRoot(import.meta.url);
const SHOTS = path.join(ROOT, 'test-results', 'screenshots', 'ux');
const PHONE = { width: 390, height: 844 };
const SMALL_PROJECTOR = { width: 1280, height: 720 };
const PROJECTOR = { width: 1920, height: 1080 };
const UHD = { width: 3840, height: 2160 };
const CLASSROOM = { latitude: 51.5246, longitude: -0.134 };

/** The page fits its viewport: nothing to scroll, and `selector` (when given) wholly visible. */
async function expectFits(page: Page, selector?: string, minHeight = 100): Promise<void> {
  const box = await page.evaluate((sel) => {
    const doc = document.documentElement;
    const el = sel ? document.querySelector(sel) : null;
    const r = el?.getBoundingClientRect();
    return {
      scrollH: doc.scrollHeight,
      scrollW: doc.scrollWidth,
      h: window.innerHeight,
      w: window.innerWidth,
      el: r ? { top: r.top, left: r.left, bottom: r.bottom, right: r.right, height: r.height } : null,
    };
  }, selector ?? null);
  expect(box.scrollH, 'page height').to.be.at.most(box.h);
  expect(box.scrollW, 'page width').to.be.at.most(box.w);
  if (selector) {
    expect(box.el, selector).to.not.equal(null);
    expect(box.el!.height, `${selector} height`).to.be.at.least(minHeight);
    expect(box.el!.top).to.be.at.least(0);
    expect(box.el!.left).to.be.at.least(0);
    expect(box.el!.bottom, `${selector} bottom`).to.be.at.most(box.h);
    expect(box.el!.right).to.be.at.most(box.w);
  }
}

describe('live session as teachers and students live it (Chromium, axe-core)', function () {
  this.timeout(60_000);

  let srv: TestServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const sockets: ClientSocket[] = [];
  let users: User[] = [];
  let teacherSocket: ClientSocket;
  let subjectId = '';
  const byEmail = (email: string) => users.find((u) => u.email === email)!;
  const studentEmail = (n: number) => `student${String(n).padStart(2, '0')}@demo.school`;

  before(async function () {
    await ensurePagesBuilt('student.js');
    srv = await startTestServer();
    await seedDemo(srv.store, { passwords: cheapPasswordHasher() });
    const orgId = (await srv.store.organisations.getBySlug('demo'))!.id;
    users = (await srv.store.users.list(orgId, { limit: 1_000, offset: 0 })).items;
    subjectId = (await srv.store.subjects.list(orgId, { limit: 10, offset: 0 })).items[0]!.id;
    teacherSocket = await connectClient(srv.baseUrl, srv.app.tokenService.signAccess(byEmail('ada@demo.school')).token);
    sockets.push(teacherSocket);
    browser = await launchChromium();
    mkdirSync(SHOTS, { recursive: true });
  });

  after(async () => {
    for (const s of sockets) s.disconnect();
    for (const ctx of contexts) await ctx.close();
    await browser?.close();
    await srv?.cleanup();
  });

  /** axe is injected as an inline script, which the pages' CSP refuses: the test context bypasses it. */
  async function newPage(viewport: { width: number; height: number }, withLocation = false): Promise<Page> {
    const ctx = await browser.newContext({
      baseURL: srv.baseUrl,
      viewport,
      bypassCSP: true,
      ...(withLocation ? { permissions: ['geolocation'], geolocation: { ...CLASSROOM, accuracy: 15 } } : {}),
    });
    ctx.setDefaultTimeout(8_000);
    contexts.push(ctx);
    // Counts every request for a GPS fix the page makes.
    await ctx.addInitScript(() => {
      const w = window as unknown as { gpsAsks: number };
      w.gpsAsks = 0;
      const geo = navigator.geolocation;
      const original = geo.getCurrentPosition.bind(geo);
      geo.getCurrentPosition = (...args: Parameters<Geolocation['getCurrentPosition']>) => {
        w.gpsAsks += 1;
        original(...args);
      };
    });
    return ctx.newPage();
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
  const open = async (preset: string) =>
    ok(await command(teacherSocket, 'session:open', { subjectId, policy: { preset: preset as never, codePeriodS: 120 }, parallel: true }));

  it('policy presets: the teacher picks one; the student reads what it asks before tapping, and GPS is asked only when needed', async () => {
    const teacher = await newPage(PROJECTOR);
    await teacher.goto('/teacher.html');
    await logIn(teacher, 'ada@demo.school', DEMO_PASSWORDS.teacher);
    await teacher.waitForSelector('#subject-select option:has-text("CS101")', { state: 'attached' });
    expect(await teacher.inputValue('#policy-preset')).to.equal('location-code');
    await teacher.selectOption('#policy-preset', 'manual');
    expect(await teacher.isChecked('input[name="geofence"]')).to.equal(false);
    expect(await teacher.isChecked('input[name="rotatingCode"]')).to.equal(false);
    await expectAccessible(teacher, 'teacher console');
    await shot(teacher, 'teacher-preset-1920x1080');
    await teacher.click('#open-form button[type="submit"]');
    await teacher.waitForSelector('#session-section:not([hidden])');
    const manualId = new URL(teacher.url()).searchParams.get('session') ?? '';
    const stored = await srv.store.sessions.get(byEmail('ada@demo.school').orgId, manualId);
    expect(stored?.policy).to.include({ geofence: false, network: false, rotatingCode: false, selfie: false });

    // Manual: no location permission at all, and the page never asks for a fix.
    const student = await newPage(PHONE);
    await student.goto(`/student.html?session=${manualId}`);
    await logIn(student, studentEmail(1), DEMO_PASSWORDS.student);
    await student.waitForSelector('#checkin-section:not([hidden])');
    expect(await student.textContent('#policy-needs')).to.contain('only a tap');
    expect(await student.isVisible('#location-field')).to.equal(false);
    expect(await student.isVisible('#code-field')).to.equal(false);
    await expectAccessible(student, 'student page (manual)');
    await shot(student, 'student-manual-390x844');
    await student.click('#submit-checkin');
    await student.waitForSelector('#decision[data-status="present"]');
    expect(await student.evaluate(() => (window as unknown as { gpsAsks: number }).gpsAsks)).to.equal(0);

    // Location + code: said before the tap, the fix asked for, the check-in accepted.
    const located = await open('location-code');
    const code = ok(await command(teacherSocket, 'session:code', { sessionId: located.id })).code;
    const student2 = await newPage(PHONE, true);
    await student2.goto(`/student.html?session=${located.id}&code=${code}`);
    await logIn(student2, studentEmail(2), DEMO_PASSWORDS.student);
    await student2.waitForSelector('#checkin-section:not([hidden])');
    const needs = (await student2.textContent('#policy-needs')) ?? '';
    expect(needs).to.contain('your location').and.to.contain('the code on the screen');
    expect(await student2.isVisible('#location-field')).to.equal(true);
    await shot(student2, 'student-location-code-390x844');
    await student2.click('#share-location');
    await student2.waitForSelector('#location-status[data-ready="true"]');
    await student2.click('#submit-checkin');
    await student2.waitForSelector('#decision[data-status="present"]');
    expect(await student2.evaluate(() => (window as unknown as { gpsAsks: number }).gpsAsks)).to.equal(1);
    await expectAccessible(student2, 'student page (location + code)');
  });

  /** A phone page whose device reports fixes `window.fixAgeMs` old, as a location shared minutes before the tap. */
  async function agingFixPage(): Promise<Page> {
    const page = await newPage(PHONE, true);
    // A string, not a function: the test transpiler would name the callbacks with a helper the page lacks.
    await page.context().addInitScript({
      content: `window.fixAgeMs = 0;
        const geo = navigator.geolocation;
        const original = geo.getCurrentPosition.bind(geo);
        geo.getCurrentPosition = function (ok, fail, opts) {
          original(function (pos) { ok({ coords: pos.coords, timestamp: Date.now() - window.fixAgeMs }); }, fail, opts);
        };`,
    });
    return page;
  }
  const setFixAge = (page: Page, ms: number) => page.evaluate((v) => ((window as unknown as { fixAgeMs: number }).fixAgeMs = v), ms);

  it('student page: a fix shared minutes before the tap is taken again at submit; the result is on screen, focused and announced', async () => {
    const session = await open('location-code');
    const code = ok(await command(teacherSocket, 'session:code', { sessionId: session.id })).code;
    const page = await agingFixPage();
    await page.goto(`/student.html?session=${session.id}&code=${code}`);
    await logIn(page, studentEmail(8), DEMO_PASSWORDS.student);
    await page.waitForSelector('#checkin-section:not([hidden])');
    await setFixAge(page, 180_000);
    await page.click('#share-location');
    await page.waitForSelector('#location-status[data-ready="true"]');
    await setFixAge(page, 0);
    await page.click('#submit-checkin');
    await page.waitForSelector('#decision:not([data-status="none"])');
    expect(await page.getAttribute('#decision', 'data-status')).to.equal('present');
    expect(await page.evaluate(() => (window as unknown as { gpsAsks: number }).gpsAsks)).to.equal(2);
    // Where the student is looking: wholly inside the 390x844 viewport, focused, and said aloud.
    const box = await page.evaluate(() => {
      const r = document.getElementById('decision')!.getBoundingClientRect();
      return { top: r.top, bottom: r.bottom, h: window.innerHeight, focused: document.activeElement?.id ?? '' };
    });
    expect(box.top, 'result top').to.be.at.least(0);
    expect(box.bottom, 'result bottom').to.be.at.most(box.h);
    expect(box.focused).to.equal('decision');
    await page.waitForFunction(() => /present/.test(document.getElementById('live')?.textContent ?? ''));
    await expectAccessible(page, 'student page after check-in');
    await shot(page, 'student-result-in-view-390x844');
  });

  it('student page: the QR link carries a join token that outlives the rotating code through a login', async () => {
    const session = ok(
      await command(teacherSocket, 'session:open', { subjectId, policy: { preset: 'location-code', codePeriodS: 15 }, parallel: true }),
    );
    const stored = (await srv.store.sessions.get(byEmail('ada@demo.school').orgId, session.id))!;
    expect(ok(await command(teacherSocket, 'session:code', { sessionId: session.id })).joinToken).to.match(/^\d+\.[\w-]{16}$/);
    // Scanned a minute ago: the code of that moment has rotated out, the join token has not.
    const scannedAt = new Date(Date.now() - 60_000);
    const staleCode = codeAt(stored.codeSecret, 15, scannedAt);
    const joinToken = joinTokenAt(stored.codeSecret, 15, scannedAt);
    const page = await newPage(PHONE, true);
    await page.goto(`/student.html?session=${session.id}&join=${encodeURIComponent(joinToken)}`);
    await logIn(page, studentEmail(11), DEMO_PASSWORDS.student);
    await page.waitForSelector('#checkin-section:not([hidden])');
    expect(await page.textContent('#code-hint')).to.contain('QR link');
    await page.click('#submit-checkin');
    await page.waitForSelector('#decision[data-status="present"]');
    await shot(page, 'student-join-link-390x844');

    // The code the old link carried would have been refused by now.
    const other = await connectClient(srv.baseUrl, srv.app.tokenService.signAccess(byEmail(studentEmail(9))).token);
    sockets.push(other);
    const here = { lat: CLASSROOM.latitude, lon: CLASSROOM.longitude, accuracy: 10, timestamp: Date.now() };
    const viaCode = ok(await command(other, 'checkin:submit', { sessionId: session.id, location: here, code: staleCode }));
    expect(viaCode.reason).to.equal('CODE_INVALID');
  });

  it('student page: a tap while offline is refused at once in words, and live again the page asks for the tap again', async () => {
    const session = await open('manual');
    const page = await newPage(PHONE);
    await page.goto(`/student.html?session=${session.id}`);
    await logIn(page, studentEmail(10), DEMO_PASSWORDS.student);
    await page.waitForSelector('#checkin-section:not([hidden])');
    await page.context().setOffline(true);
    await page.waitForFunction(() => !navigator.onLine);
    await page.click('#submit-checkin');
    // At once: said by the tap's own handler, before anything is sent that could wait for an answer
    // (a bound in seconds failed on a slowed page, the message there all along).
    expect(await page.textContent('#checkin-error')).to.match(/offline/i);
    await expectAccessible(page, 'student page offline');
    await shot(page, 'student-offline-390x844');
    await page.context().setOffline(false);
    // Not sent meanwhile nor by itself now: the page says so and waits for the tap.
    await page.waitForFunction(
      () =>
        /connection is back\. Your check-in was not sent/.test(document.getElementById('checkin-error')?.textContent ?? '') &&
        document.getElementById('connection')?.dataset['state'] === 'online',
    );
    expect(await page.getAttribute('#decision', 'data-status')).to.equal('none');
    await page.click('#submit-checkin');
    await page.waitForSelector('#decision[data-status="present"]');
  });

  it('teacher console on a phone: roster cards with Accept/Reject on screen, one-tap marks, bulk mark, filter, undo, and closing reasons in words', async () => {
    const session = await open('location-code');
    const pendingStudent = byEmail(studentEmail(12));
    const s12 = await connectClient(srv.baseUrl, srv.app.tokenService.signAccess(pendingStudent).token);
    sockets.push(s12);
    const vague = { lat: CLASSROOM.latitude, lon: CLASSROOM.longitude, accuracy: 900, timestamp: Date.now() };
    const code = ok(await command(teacherSocket, 'session:code', { sessionId: session.id })).code;
    expect(ok(await command(s12, 'checkin:submit', { sessionId: session.id, location: vague, code })).status).to.equal('pending');

    const page = await newPage(PHONE);
    await page.goto(`/teacher.html?session=${session.id}`);
    await logIn(page, 'ada@demo.school', DEMO_PASSWORDS.teacher);
    const accept = page.locator(`button[aria-label="Accept ${pendingStudent.name}"]`);
    await accept.scrollIntoViewIfNeeded();
    const box = (await accept.boundingBox())!;
    expect(box.x, 'Accept left').to.be.at.least(0);
    expect(box.x + box.width, 'Accept right').to.be.at.most(PHONE.width);
    // Nothing scrolls sideways, neither the page nor the roster inside it.
    const widths = await page.evaluate(() => {
      const wrap = document.querySelector('.table-wrap')!;
      return { page: document.documentElement.scrollWidth, roster: wrap.scrollWidth, rosterShown: wrap.clientWidth };
    });
    expect(widths.page, 'page width').to.be.at.most(PHONE.width);
    expect(widths.roster, 'roster width').to.be.at.most(widths.rosterShown);
    await shot(page, 'teacher-roster-cards-390x844');

    // One tap per status, and undo of the last change.
    const [a, b, c] = [studentEmail(13), studentEmail(14), studentEmail(15)].map((e) => byEmail(e));
    const rowOf = (u: User) => page.locator(`tr[data-student-id="${u.id}"]`);
    await page.click(`button[aria-label="Present: ${a!.name}"]`);
    await rowOf(a!).and(page.locator('[data-status="present"]')).waitFor();
    await page.click(`button[aria-label="Late: ${a!.name}"]`);
    await rowOf(a!).and(page.locator('[data-status="late"]')).waitFor();
    expect(await page.textContent('#undo-mark')).to.contain('back to Present');
    await page.click('#undo-mark');
    await rowOf(a!).and(page.locator('[data-status="present"]')).waitFor();

    // Hand-marking keeps the chosen student after a save.
    await page.selectOption('#mark-student', b!.id);
    await page.selectOption('#mark-status', 'excused');
    await page.click('#mark-form button[type="submit"]');
    await rowOf(b!).and(page.locator('[data-status="excused"]')).waitFor();
    expect(await page.inputValue('#mark-student')).to.equal(b!.id);

    // Bulk: tick two, mark them absent; the filter then shows only them.
    await page.check(`tr[data-student-id="${b!.id}"] input.pick`);
    await page.check(`tr[data-student-id="${c!.id}"] input.pick`);
    await page.selectOption('#bulk-status', 'absent');
    await page.click('#bulk-form button[type="submit"]');
    await rowOf(b!).and(page.locator('[data-status="absent"]')).waitFor();
    await rowOf(c!).and(page.locator('[data-status="absent"]')).waitFor();
    await page.selectOption('#roster-filter', 'absent');
    const visible = await page
      .locator('#roster-body tr:visible')
      .evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset['studentId']));
    expect(visible.sort()).to.deep.equal([b!.id, c!.id].sort());
    await expectAccessible(page, 'teacher console on a phone');
    await shot(page, 'teacher-filter-absent-390x844');

    // Closing leaves the pending check-in unresolved: said in words, never as a raw code.
    await page.selectOption('#roster-filter', 'all');
    ok(await command(teacherSocket, 'session:close', { sessionId: session.id }));
    await rowOf(pendingStudent).and(page.locator('[data-status="absent"]')).waitFor();
    const text = (await rowOf(pendingStudent).textContent()) ?? '';
    expect(text).to.not.contain('UNRESOLVED_AT_CLOSE');
    expect(text).to.contain('unresolved');

    // A correction after closing: its reason shows in the roster.
    await page.selectOption('#mark-student', pendingStudent.id);
    await page.selectOption('#mark-status', 'excused');
    await page.fill('#mark-reason', 'Doctor letter');
    await page.click('#mark-form button[type="submit"]');
    await rowOf(pendingStudent).and(page.locator('[data-status="excused"]')).waitFor();
    expect((await rowOf(pendingStudent).textContent()) ?? '').to.contain('Correction: Doctor letter');
    await shot(page, 'teacher-correction-390x844');
  });

  it('proxy attendance: one phone checking in two accounts is flagged to the teacher, the check-in itself not refused', async () => {
    const session = await open('manual');
    const page = await newPage(PHONE);
    const [first, second] = [byEmail(studentEmail(16)), byEmail(studentEmail(17))];
    for (const student of [first!, second!]) {
      await page.goto(`/student.html?session=${session.id}`);
      await logIn(page, student.email, DEMO_PASSWORDS.student);
      await page.waitForSelector('#checkin-section:not([hidden])');
      await page.click('#submit-checkin');
      await page.waitForSelector('#decision[data-status="present"]');
      await page.click('#logout');
      await page.waitForSelector('#login:not([hidden])');
    }
    const roster = ok(await command(teacherSocket, 'session:watch', { sessionId: session.id }));
    const flagsOf = (id: string) => roster.entries.find((e) => e.studentId === id)!.flags;
    expect(flagsOf(first!.id)).to.not.include('SHARED_DEVICE');
    expect(flagsOf(second!.id)).to.include('SHARED_DEVICE');

    const teacher = await newPage(PHONE);
    await teacher.goto(`/teacher.html?session=${session.id}`);
    await logIn(teacher, 'ada@demo.school', DEMO_PASSWORDS.teacher);
    const row = teacher.locator(`tr[data-student-id="${second!.id}"]`);
    await row.waitFor();
    expect((await row.textContent()) ?? '').to.contain('same device');
    await row.scrollIntoViewIfNeeded();
    await shot(teacher, 'teacher-shared-device-390x844');
  });

  it('projector privacy mode: counts, code and QR, present names only, no staff identity; fits 1280x720 to 4K', async () => {
    const session = await open('location-code');
    const sid = session.id;
    const present = byEmail(studentEmail(3));
    const excused = byEmail(studentEmail(4));
    const absent = byEmail(studentEmail(5));
    for (const [u, status] of [
      [present, 'present'],
      [excused, 'excused'],
      [absent, 'absent'],
    ] as const) {
      ok(await command(teacherSocket, 'checkin:mark', { sessionId: sid, studentId: u.id, status }));
    }
    const screen = await newPage(SMALL_PROJECTOR);
    await screen.goto(`/classroom.html?session=${sid}`);
    await logIn(screen, 'ada@demo.school', DEMO_PASSWORDS.teacher);
    await screen.waitForFunction(() => /^\d{6}$/.test(document.getElementById('code')?.textContent ?? ''));
    await screen.waitForSelector(`#roster li:has-text("${present.name}")`);
    expect(await screen.textContent('#count-excused')).to.equal('1');
    expect(await screen.textContent('#count-absent')).to.equal('1');
    const names = await screen.locator('#roster li .student-name').allTextContents();
    expect(names).to.deep.equal([present.name]);
    const text = (await screen.textContent('body')) ?? '';
    expect(text).to.not.contain(excused.name);
    expect(text).to.not.contain(absent.name);
    expect(await screen.isVisible('text=Signed in as')).to.equal(false);
    expect(await screen.isVisible('text=Ada Lovelace')).to.equal(false);
    await expectAccessible(screen, 'classroom screen');

    // A rejection arriving live is counted, never named.
    const rejected = byEmail(studentEmail(6));
    const s6 = await connectClient(srv.baseUrl, srv.app.tokenService.signAccess(rejected).token);
    sockets.push(s6);
    const far = { lat: 0, lon: 0, accuracy: 10, timestamp: Date.now() };
    expect(ok(await command(s6, 'checkin:submit', { sessionId: sid, location: far, code: '000000' })).status).to.equal('rejected');
    await screen.waitForFunction(() => document.getElementById('count-rejected')?.textContent === '1');
    expect((await screen.textContent('#roster')) ?? '').to.not.contain(rejected.name);

    for (const [label, viewport] of [
      ['1280x720', SMALL_PROJECTOR],
      ['1920x1080', PROJECTOR],
      ['3840x2160', UHD],
    ] as const) {
      await screen.setViewportSize(viewport);
      // The QR stays scannable from the back (a third of the height at least), the code readable.
      await expectFits(screen, '#qr', viewport.height / 3);
      await expectFits(screen, '#code', viewport.height / 12);
      await shot(screen, `classroom-privacy-${label}`);
    }

    // Initials only, and the full roster when the teacher turns privacy off.
    await screen.goto(`/classroom.html?session=${sid}&names=initials`);
    await screen.waitForSelector('#roster li');
    const initials = present.name
      .split(/\s+/)
      .map((p) => `${p[0]!.toUpperCase()}.`)
      .join(' ');
    expect(await screen.locator('#roster li .student-name').allTextContents()).to.deep.equal([initials]);
    await screen.goto(`/classroom.html?session=${sid}&privacy=off`);
    await screen.waitForSelector(`#roster li[data-status="excused"]:has-text("${excused.name}")`);
    expect(await screen.locator('#roster li').count()).to.equal(30);
  });

  it('unknown pages answer in words with links (the API keeps JSON); favicon and manifest are served', async () => {
    const page = await newPage(PHONE);
    const res = await page.goto('/no-such-page');
    expect(res?.status()).to.equal(404);
    expect(await page.textContent('h1')).to.equal('Page not found');
    expect(await page.locator('a[href="/student.html"]').count()).to.equal(1);
    await expectAccessible(page, '404 page');
    await shot(page, 'not-found-390x844');
    await page.setViewportSize(SMALL_PROJECTOR);
    await shot(page, 'not-found-1280x720');

    const api = await fetch(`${srv.baseUrl}/api/v1/no-such-route`, { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(api.status).to.equal(404);
    expect(((await api.json()) as { error: { code: string } }).error.code).to.equal('NOT_FOUND');
    const program = await fetch(`${srv.baseUrl}/no-such-page`);
    expect(program.headers.get('content-type')).to.match(/json/);

    const icon = await fetch(`${srv.baseUrl}/favicon.svg`);
    expect(icon.status).to.equal(200);
    expect(icon.headers.get('content-type')).to.match(/svg/);
    const manifest = await fetch(`${srv.baseUrl}/manifest.webmanifest`);
    expect(manifest.status).to.equal(200);
    expect(((await manifest.json()) as { name: string }).name).to.equal('Classroom attendance');
    await page.goto('/');
    expect(await page.getAttribute('link[rel="icon"]', 'href')).to.equal('favicon.svg');
    // In the page's language: the home page is English here.
    expect(await page.getAttribute('link[rel="manifest"]', 'href')).to.equal('manifest.webmanifest?lang=en');
  });

  it("the student's session list updates live when a session opens", async () => {
    const page = await newPage(PHONE);
    await page.goto('/student.html');
    await logIn(page, studentEmail(7), DEMO_PASSWORDS.student);
    await page.waitForSelector('#session-list li button');
    const before = await page.locator('#session-list li').count();
    await open('manual');
    await page.waitForFunction((n) => document.querySelectorAll('#session-list li').length === n + 1, before);
    expect((await page.locator('#session-list li').last().textContent()) ?? '').to.contain('only a tap');
    await expectAccessible(page, 'student session list');
    await shot(page, 'student-list-390x844');
    await page.setViewportSize(PROJECTOR);
    await shot(page, 'student-list-1920x1080');
  });

  it("a student enrolled while on the page sees the new subject's live session without reloading", async () => {
    const ada = byEmail('ada@demo.school');
    const later = await srv.store.subjects.create(ada.orgId, {
      code: 'CS150',
      name: 'Enrolled Later',
      teacherIds: [ada.id],
      location: null,
      allowedIpRanges: [],
    });
    ok(
      await command(teacherSocket, 'session:open', {
        subjectId: later.id,
        policy: { geofence: false, rotatingCode: false, network: false },
        parallel: true,
        // Ada's session of the earlier cases may still be live: this one is held beside it.
        teacherOverlap: true,
      }),
    );
    const student = byEmail(studentEmail(18));
    const page = await newPage(PHONE);
    await page.goto('/student.html');
    await logIn(page, student.email, DEMO_PASSWORDS.student);
    // Listed once, before the enrolment: only a new listing can show the session.
    await page.waitForSelector('#session-list li');
    expect(await page.locator('#session-list li', { hasText: 'CS150' }).count()).to.equal(0);
    const res = await fetch(`${srv.baseUrl}/api/v1/subjects/${later.id}/enrolments`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${srv.app.tokenService.signAccess(byEmail('admin@demo.school')).token}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ studentIds: [student.id] }),
    });
    expect(res.status).to.equal(200);
    await page.locator('#session-list li', { hasText: 'CS150' }).waitFor();
  });

  it('every other page passes axe-core at phone and projector sizes', async () => {
    for (const [url, needsLogin] of [
      ['/', false],
      ['/reset.html', false],
      ['/admin.html', true],
      ['/classroom.html', true],
      ['/student.html', false],
    ] as const) {
      for (const viewport of [PHONE, SMALL_PROJECTOR]) {
        const page = await newPage(viewport);
        await page.goto(url);
        if (needsLogin) await logIn(page, 'admin@demo.school', DEMO_PASSWORDS.admin);
        else await page.waitForLoadState('load');
        await expectAccessible(page, `${url} ${viewport.width}x${viewport.height}`);
        await shot(page, `page${url.replace(/[/.]/g, '-')}-${viewport.width}x${viewport.height}`);
        await page.context().close();
      }
    }
  });
});

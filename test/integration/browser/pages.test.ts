import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { repoRoot } from '../../../scripts/lib/repo-root.js';
import { DEMO_PASSWORDS, seedDemo } from '../../../src/domain/seed.js';
import { rooms } from '../../../src/shared/events.js';
import { startTestServer, type TestServer } from '../../support/http.js';
import { command, connectClient, ok } from '../../support/sockets.js';
import { launchChromium, ensurePagesBuilt, logIn } from '../../support/browser.js';
import { cheapPasswordHasher } from '../../support/passwords.js';
import { FORMAT_LOCALE } from '../../../src/shared/i18n/languages.js';

const ROOT = repoRoot(import.meta.url);
const SHOTS = path.join(ROOT, 'test-results', 'screenshots');
const PHONE = { width: 390, height: 844 };
const PROJECTOR = { width: 1920, height: 1080 };
/** The demo subject CS101's classroom (see src/domain/seed.ts): radius 100 m. */
const CLASSROOM = { latitude: 51.5246, longitude: -0.134 };

/** A session opened from the teacher console, its classroom screen, and the phones that checked in. */
interface Lesson {
  teacher: Page;
  classroom: Page;
  sessionId: string;
  students: Page[];
}

// Every case starts from its own server with the demo school and opens its own session through
// the pages (shared helpers, no state carried from one case to the next); Chromium is shared.
describe('browser pages (Chromium)', function () {
  this.timeout(60_000);

  let srv: TestServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  before(async function () {
    await ensurePagesBuilt('student.js');
    browser = await launchChromium(['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream']);
    mkdirSync(SHOTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
  });

  beforeEach(async () => {
    srv = await startTestServer();
    // A zone far from the browser's (UTC below): the pages must show the organisation's times.
    await seedDemo(srv.store, { passwords: cheapPasswordHasher(), timezone: 'Asia/Kolkata' });
  });
  afterEach(async () => {
    for (const ctx of contexts.splice(0)) await ctx.close();
    await srv?.cleanup();
  });

  async function newContext(viewport: { width: number; height: number }, accuracy?: number): Promise<BrowserContext> {
    const ctx = await browser.newContext({
      baseURL: srv.baseUrl,
      viewport,
      timezoneId: 'UTC',
      ...(accuracy !== undefined ? { permissions: ['geolocation', 'camera'], geolocation: { ...CLASSROOM, accuracy } } : {}),
    });
    ctx.setDefaultTimeout(8_000);
    contexts.push(ctx);
    return ctx;
  }

  /** The teacher logs in on the projector, opens a CS101 session and its classroom screen. */
  async function openLesson(): Promise<Lesson> {
    const ctx = await newContext(PROJECTOR);
    const teacher = await ctx.newPage();
    await teacher.goto('/teacher.html');
    await logIn(teacher, 'ada@demo.school', DEMO_PASSWORDS.teacher);
    await teacher.waitForSelector('#subject-select option:has-text("CS101")', { state: 'attached' });
    await teacher.fill('#code-period', '60');
    await teacher.click('#open-form button[type="submit"]');
    await teacher.waitForSelector('#session-section:not([hidden])');
    const sessionId = new URL(teacher.url()).searchParams.get('session') ?? '';
    expect(sessionId).to.not.equal('');
    const [classroom] = await Promise.all([ctx.waitForEvent('page'), teacher.click('#classroom-link')]);
    await classroom.waitForSelector('#screen:not([hidden])');
    await classroom.waitForFunction(() => /^\d{4,}$/.test(document.getElementById('code')?.textContent ?? ''));
    return { teacher, classroom, sessionId, students: [] };
  }

  /**
   * Demo student `n` checks in from a phone with this GPS accuracy; the classroom screen shows it
   * live (pushed, never polled for). How soon is a speed target, measured by
   * scripts/bench-classroom-screen.ts: a one-second bound here failed on a busy machine with the
   * row already on screen, Playwright's own polling of a slowed page past the bound.
   */
  async function checkIn(lesson: Lesson, n: number, accuracy: number, viaLink: boolean): Promise<Page> {
    const { classroom, sessionId } = lesson;
    const name = `Student ${String(n).padStart(2, '0')}`;
    const ctx = await newContext(PHONE, accuracy);
    const page = await ctx.newPage();
    const code = (await classroom.textContent('#code'))?.trim() ?? '';
    await page.goto(viaLink ? `/student.html?session=${sessionId}&code=${code}` : '/student.html');
    await logIn(page, `student${String(n).padStart(2, '0')}@demo.school`, DEMO_PASSWORDS.student);
    if (!viaLink) {
      await page.click('#session-list button:has-text("Join")');
      await page.fill('#code', code);
    }
    await page.waitForSelector('#checkin-section:not([hidden])');
    expect(await page.inputValue('#code')).to.equal(code);
    await page.click('#share-location');
    await page.waitForSelector('#location-status[data-ready="true"]');
    expect(await page.textContent('#location-status')).to.contain(`${accuracy} m`);
    const expected = accuracy > 100 ? 'pending' : 'present';
    const pendingBefore = Number(await classroom.textContent('#count-pending'));
    await page.click('#submit-checkin');
    // The decision box changes only once the server acknowledged the submission.
    await page.waitForSelector(`#decision[data-status="${expected}"]`);
    if (expected === 'present') {
      await classroom.waitForSelector(`#roster li[data-status="present"]:has-text("${name}")`);
    } else {
      // Privacy mode (the default): a pending student is counted, never named to the class.
      await classroom.waitForFunction((n) => document.getElementById('count-pending')?.textContent === String(n), pendingBefore + 1);
      expect(await classroom.locator(`#roster li:has-text("${name}")`).count()).to.equal(0);
    }
    lesson.students.push(page);
    return page;
  }

  /** The teacher rejects demo student `n`'s check-in from the console; the student's phone shows it. */
  async function reject(lesson: Lesson, n: number, phone: Page): Promise<void> {
    await lesson.teacher.click(`button[aria-label="Reject Student ${String(n).padStart(2, '0')}"]`);
    await phone.waitForSelector('#decision[data-status="rejected"]');
  }

  it('serves the pages with a CSP and leaves the API, probes and socket path alone', async () => {
    const index = await fetch(`${srv.baseUrl}/`);
    expect(index.status).to.equal(200);
    expect(await index.text()).to.contain('href="student.html"');
    const csp = index.headers.get('content-security-policy') ?? '';
    expect(csp).to.contain("default-src 'self'");
    expect(csp).to.contain("script-src 'self'");
    expect(csp).to.not.contain('unsafe-inline');
    const script = await fetch(`${srv.baseUrl}/student.js`);
    expect(script.status).to.equal(200);
    expect(script.headers.get('content-type')).to.match(/javascript/);
    expect(script.headers.get('cache-control')).to.equal('no-cache');
    expect((await fetch(`${srv.baseUrl}/healthz`)).headers.get('content-type')).to.match(/json/);
    const api = await fetch(`${srv.baseUrl}/api/v1/no-such-route`);
    expect(api.status).to.equal(404);
    expect(((await api.json()) as { error: { code: string } }).error.code).to.equal('NOT_FOUND');
    const socket = await fetch(`${srv.baseUrl}/socket.io/?EIO=4&transport=polling`);
    expect(await socket.text()).to.match(/^0\{"sid"/);
  });

  it('the teacher logs in, opens a session and opens the classroom screen', async () => {
    const { teacher, classroom, sessionId } = await openLesson();
    // The known-device token is kept for the next login of this email (README "Login throttling").
    const devices = JSON.parse((await teacher.evaluate(() => localStorage.getItem('attendance.devices'))) ?? '[]') as string[][];
    expect(devices.map(([email]) => email)).to.deep.equal(['ada@demo.school']);
    expect(await teacher.locator('#roster-body tr').count()).to.equal(30);
    const orgId = (await srv.store.organisations.getBySlug('demo'))!.id;
    const opened = (await srv.store.sessions.get(orgId, sessionId))!;
    // In the page's language (English: en-GB, 24-hour), not the browser's habit.
    const inKolkata = new Intl.DateTimeFormat(FORMAT_LOCALE.en, { hour: '2-digit', minute: '2-digit', timeZone: 'Asia/Kolkata' }).format(
      opened.startsAt,
    );
    expect(await teacher.textContent('#session-info')).to.contain(`Started ${inKolkata}`);
    // Opened by hand without a room: held in the subject's classroom.
    expect(await teacher.textContent('#session-room')).to.equal("Room: the subject's classroom (its location and networks).");

    expect(await classroom.textContent('#subject')).to.contain('CS101');
    expect(await classroom.textContent('#count-not-yet')).to.equal('30');
    expect(await classroom.getAttribute('#qr', 'width')).to.not.equal(null);
    expect(await classroom.textContent('#join-link')).to.equal(`${new URL(srv.baseUrl).host}/student.html`);
  });

  it("asks before extending into the teacher's next class, naming it, and extends only once confirmed", async () => {
    const { teacher, sessionId } = await openLesson();
    const orgId = (await srv.store.organisations.getBySlug('demo'))!.id;
    const ada = (await srv.store.users.getByEmail(orgId, 'ada@demo.school'))!;
    const lesson = (await srv.store.sessions.get(orgId, sessionId))!;
    const next = await srv.store.subjects.create(orgId, {
      code: 'NEXT1',
      name: 'Next class',
      teacherIds: [ada.id],
      location: null,
      allowedIpRanges: [],
    });
    const socket = await connectClient(srv.baseUrl, srv.app.tokenService.signAccess(ada).token);
    try {
      const nextStart = lesson.closesAt.toISOString();
      ok(
        await command(socket, 'session:open', {
          subjectId: next.id,
          startsAt: nextStart,
          closesAt: new Date(lesson.closesAt.getTime() + 3_600_000).toISOString(),
          policy: { preset: 'manual' },
        }),
      );
    } finally {
      socket.disconnect();
    }
    // About ten minutes more, to the minute, in the browser's zone (UTC) as the datetime-local field reads it.
    const tenMore = new Date(`${new Date(lesson.closesAt.getTime() + 600_000).toISOString().slice(0, 16)}:00.000Z`);
    const answer = (accept: boolean) =>
      new Promise<string>((resolve, reject) => {
        teacher.once('dialog', (dialog) => {
          resolve(dialog.message());
          (accept ? dialog.accept() : dialog.dismiss()).catch(reject);
        });
      });
    const extend = async (accept: boolean) => {
      await teacher.fill('#extend-closes', tenMore.toISOString().slice(0, 16));
      const [question] = await Promise.all([answer(accept), teacher.click('#extend-form button[type="submit"]')]);
      return question;
    };

    const question = await extend(false);
    expect(question).to.contain("runs into the teacher's next class").and.to.contain('NEXT1 · Next class');
    await teacher.waitForFunction(() => (document.getElementById('session-error')?.textContent ?? '') !== '');
    expect((await srv.store.sessions.get(orgId, sessionId))!.closesAt.toISOString()).to.equal(lesson.closesAt.toISOString());

    await extend(true);
    await teacher.waitForFunction(() => document.getElementById('session-error')?.textContent === '');
    const stored = await srv.store.sessions.get(orgId, sessionId);
    expect(stored!.closesAt.toISOString()).to.equal(tenMore.toISOString());
  });

  it('two students check in (one from the join link) and the classroom screen shows each live', async () => {
    const lesson = await openLesson();
    await checkIn(lesson, 1, 15, true);
    await checkIn(lesson, 2, 20, false);
    expect(await lesson.classroom.textContent('#count-present')).to.equal('2');
    await lesson.teacher.waitForSelector('#roster-body tr[data-status="present"]:has-text("Student 02")');
  });

  it('after the server drops the staff sockets, both screens reconnect, resync and stay live', async () => {
    const lesson = await openLesson();
    const { teacher, classroom, sessionId } = lesson;
    await checkIn(lesson, 1, 15, false);
    // Record the drop in the DOM as it happens: the reconnect may be quicker than any polling.
    for (const page of [classroom, teacher]) {
      await page.evaluate(() => {
        const el = document.getElementById('connection');
        if (!el) throw new Error('no #connection');
        new MutationObserver(() => {
          if (el.dataset['state'] !== 'online') document.body.dataset['dropped'] = 'yes';
        }).observe(el, { attributes: true });
      });
    }
    srv.app.realtime.io.in(rooms.staff(sessionId)).disconnectSockets(true);
    await classroom.waitForSelector('body[data-dropped="yes"]', { state: 'attached' });
    await teacher.waitForSelector('body[data-dropped="yes"]', { state: 'attached' });
    await classroom.waitForSelector('#connection[data-state="online"]');
    await teacher.waitForSelector('#connection[data-state="online"]');
    // A pending check-in after the drop reaches only sockets that watched the session again.
    await checkIn(lesson, 3, 150, false);
    expect(await classroom.textContent('#count-pending')).to.equal('1');
    expect(await classroom.textContent('#count-present')).to.equal('1');
    await teacher.waitForSelector('#roster-body tr[data-status="pending"]:has-text("Student 03")');
    expect(await teacher.textContent('#roster-body tr[data-status="pending"]')).to.contain('too imprecise');
  });

  it('the teacher rejects the pending check-in and the student sees it live', async () => {
    const lesson = await openLesson();
    const { teacher, classroom } = lesson;
    const student3 = await checkIn(lesson, 3, 150, false);
    await teacher.waitForSelector('button[aria-label="Reject Student 03"]');
    // The console with the pending row and its Accept/Reject buttons, before the decision.
    await teacher.screenshot({ path: path.join(SHOTS, 'teacher-pending-projector.png') });
    await reject(lesson, 3, student3);
    expect(await student3.textContent('#decision-text')).to.contain('rejected');
    await classroom.waitForFunction(() => document.getElementById('count-rejected')?.textContent === '1');
    expect(await classroom.locator('#roster li:has-text("Student 03")').count()).to.equal(0);
    expect(await student3.isDisabled('#submit-checkin')).to.equal(true);
  });

  it('fits each page to phone and projector widths without sideways scrolling (screenshots kept)', async () => {
    const lesson = await openLesson();
    const student = await checkIn(lesson, 1, 15, true);
    const rejected = await checkIn(lesson, 3, 150, false);
    await reject(lesson, 3, rejected);
    const pages: Record<string, Page> = { teacher: lesson.teacher, classroom: lesson.classroom, student, 'student-rejected': rejected };
    for (const [name, page] of Object.entries(pages)) {
      for (const [size, viewport] of [
        ['phone', PHONE],
        ['projector', PROJECTOR],
      ] as const) {
        await page.setViewportSize(viewport);
        await page.screenshot({ path: path.join(SHOTS, `${name}-${size}.png`), fullPage: name !== 'classroom' });
        // Wide tables scroll inside their own region; the page itself never does.
        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        expect(width, `${name} at ${size}`).to.be.at.most(viewport.width);
      }
    }
  });

  it('closing with every status present: projector, console and daily summary agree', async function () {
    // Four phones, two screens and a close: 54 and 58 s of the suite's 60 s measured at load
    // average 20 to 30. Each step still fails on its own wait (the contexts' 8 s default).
    this.timeout(120_000);
    const lesson = await openLesson();
    const { teacher, classroom, sessionId } = lesson;
    await checkIn(lesson, 1, 15, true);
    await checkIn(lesson, 2, 20, false);
    await reject(lesson, 3, await checkIn(lesson, 3, 150, false));
    const orgId = (await srv.store.organisations.getBySlug('demo'))!.id;
    const users = (await srv.store.users.list(orgId, { limit: 1_000, offset: 0 })).items;
    const byEmail = (email: string) => users.find((u) => u.email === email)!;
    const t = await connectClient(srv.baseUrl, srv.app.tokenService.signAccess(byEmail('ada@demo.school')).token);
    try {
      // Already: 01, 02 present, 03 rejected. Add late, excused, absent and pending; the rest stay not-yet.
      const mark = (n: number, status: 'late' | 'excused' | 'absent') =>
        command(t, 'checkin:mark', { sessionId, studentId: byEmail(`student${String(n).padStart(2, '0')}@demo.school`).id, status });
      ok(await mark(4, 'late'));
      ok(await mark(5, 'excused'));
      ok(await mark(6, 'absent'));
      await checkIn(lesson, 7, 150, false);
      const line = (c: Record<string, string>) =>
        `Present ${c['present']} · Late ${c['late']} · Pending ${c['pending']} · Rejected ${c['rejected']} · Excused ${c['excused']} · Absent ${c['absent']} · Not yet ${c['not-yet']} · of ${c['total']}`;
      const projector = async () => {
        const out: Record<string, string> = {};
        for (const k of ['present', 'late', 'pending', 'rejected', 'excused', 'absent', 'not-yet', 'total'])
          out[k] = (await classroom.textContent(`#count-${k}`)) ?? '';
        return out;
      };
      await classroom.waitForFunction(() => document.getElementById('count-excused')?.textContent === '1');
      await classroom.waitForFunction(() => document.getElementById('count-pending')?.textContent === '1');
      const open = await projector();
      expect(open).to.deep.equal({
        present: '2',
        late: '1',
        pending: '1',
        rejected: '1',
        excused: '1',
        absent: '1',
        'not-yet': '23',
        total: '30',
      });
      await teacher.waitForFunction((text) => document.getElementById('counts')?.textContent === text, line(open));

      teacher.once('dialog', (d) => void d.accept());
      await teacher.click('#close-session');
      await classroom.waitForFunction(() => document.getElementById('count-not-yet')?.textContent === '0');
      await classroom.waitForFunction(() => document.getElementById('count-absent')?.textContent === '26');
      const closed = await projector();
      // Closing settles pending, rejected and not-yet into absent: 1 + 1 + 1 + 23.
      expect(closed).to.deep.equal({
        present: '2',
        late: '1',
        pending: '0',
        rejected: '0',
        excused: '1',
        absent: '26',
        'not-yet': '0',
        total: '30',
      });
      await teacher.waitForFunction((text) => document.getElementById('counts')?.textContent === text, line(closed));
      const session = (await srv.store.sessions.get(orgId, sessionId))!;
      const summary = await srv.store.summaries.get(orgId, session.subjectId, session.day);
      expect(summary).to.include({ present: 2, late: 1, excused: 1, absent: 26, total: 30, percentage: 10.3 });
    } finally {
      t.disconnect();
    }
  });
});

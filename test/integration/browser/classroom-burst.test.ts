import { expect } from 'chai';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { User } from '../../../src/domain/ports/users.js';
import { startTestServer, type TestServer } from '../../support/http.js';
import { openLiveClass, type LiveClass } from '../../support/live-class.js';
import { command, ok, type ClientSocket } from '../../support/sockets.js';
import { ensurePagesBuilt, expectAccessible, launchChromium } from '../../support/browser.js';

const STUDENTS = 120;
/** Students whose fix is too coarse to decide: the teacher reviews them. */
const VAGUE = 4;
const ROOM = { lat: 52.2297, lon: 21.0122, radiusM: 100 };

// A large class checking in at once, watched by the classroom screen (privacy mode) and the
// teacher console over real sockets. What must hold: each check-in changes its own row only
// (the screen rebuilt its whole list per change, 45,000 elements for 300 students), the burst is
// announced a few times rather than once per student, the rosters end equal to the store, and the
// teacher accepts, rejects and corrects after closing from the console. Timings: scripts/bench-classroom-screen.ts.
describe('classroom screen and teacher console under a burst of check-ins (Chromium)', function () {
  this.timeout(90_000);

  let srv: TestServer;
  let browser: Browser;
  let live: LiveClass;
  let sessionId = '';
  const sockets: ClientSocket[] = [];
  const contexts: BrowserContext[] = [];

  before(async () => {
    await ensurePagesBuilt('classroom.js');
    srv = await startTestServer({ CHECKIN_RATE_PER_MINUTE: '600' });
    live = await openLiveClass(srv, sockets, STUDENTS);
    await srv.store.subjects.update(live.org.id, live.subject.id, { location: ROOM });
    sessionId = ok(
      await command(live.staff, 'session:open', {
        subjectId: live.subject.id,
        policy: { geofence: true, network: false, rotatingCode: false, selfie: false },
        parallel: true,
      }),
    ).id;
    browser = await launchChromium();
  });

  after(async () => {
    for (const s of sockets) s.disconnect();
    for (const ctx of contexts) await ctx.close();
    await browser?.close();
    await srv?.cleanup();
  });

  /** A page logged in as the teacher (the stored login the console keeps), with probes on the roster and the live region. */
  async function staffPage(path: string, list: string): Promise<Page> {
    const access = srv.app.tokenService.signAccess(live.teacher);
    const auth = {
      accessToken: access.token,
      accessTokenExpiresAt: access.expiresAt.toISOString(),
      refreshToken: 'not-used-within-the-test',
      user: { id: live.teacher.id, name: live.teacher.name, email: live.teacher.email, role: 'teacher' },
    };
    // axe and the probes' string predicates need the CSP bypassed.
    const ctx = await browser.newContext({ baseURL: srv.baseUrl, viewport: { width: 1920, height: 1080 }, bypassCSP: true });
    ctx.setDefaultTimeout(30_000);
    contexts.push(ctx);
    await ctx.addInitScript({
      content: `localStorage.setItem('attendance.auth', ${JSON.stringify(JSON.stringify(auth))});
        window.__probe = { added: 0, removed: 0, said: 0 };
        document.addEventListener('DOMContentLoaded', () => {
          new MutationObserver((records) => {
            for (const r of records) { window.__probe.added += r.addedNodes.length; window.__probe.removed += r.removedNodes.length; }
          }).observe(document.getElementById(${JSON.stringify(list)}), { childList: true });
          new MutationObserver(() => {
            if (document.getElementById('live').textContent) window.__probe.said += 1;
          }).observe(document.getElementById('live'), { childList: true, characterData: true, subtree: true });
        });`,
    });
    const page = await ctx.newPage();
    await page.goto(path);
    return page;
  }

  const probe = (page: Page) =>
    page.evaluate(() => (window as unknown as { __probe: { added: number; removed: number; said: number } }).__probe);
  const rowsOf = (page: Page, selector: string) =>
    page.evaluate(
      (sel) => [...document.querySelectorAll<HTMLElement>(sel)].map((e) => `${e.dataset['studentId']}:${e.dataset['status']}`).sort(),
      selector,
    );

  async function storeRoster(): Promise<string[]> {
    return storeRosterOf(sessionId);
  }

  async function storeRosterOf(id: string): Promise<string[]> {
    const roster = ok(await command(live.staff, 'session:watch', { sessionId: id }));
    return roster.entries.map((e) => `${e.studentId}:${e.status}`).sort();
  }

  it('a burst changes one row per student, is announced a few times, and both rosters end equal to the store', async () => {
    const screen = await staffPage(`/classroom.html?session=${sessionId}`, 'roster');
    const console = await staffPage(`/teacher.html?session=${sessionId}`, 'roster-body');
    await screen.waitForFunction((n) => document.getElementById('count-total')?.textContent === String(n), STUDENTS);
    await console.waitForFunction((n) => document.querySelectorAll('#roster-body tr').length === n, STUDENTS);
    const [screenBefore, consoleBefore] = [await probe(screen), await probe(console)];

    const acks = await Promise.all(
      live.phones.map((phone, i) =>
        command(phone, 'checkin:submit', {
          sessionId,
          location: { lat: ROOM.lat, lon: ROOM.lon, accuracy: i < VAGUE ? 900 : 10, timestamp: Date.now() },
        }),
      ),
    );
    expect(acks.filter((a) => !a.ok)).to.deep.equal([]);
    const present = STUDENTS - VAGUE;
    await screen.waitForFunction((n) => document.getElementById('count-present')?.textContent === String(n), present);
    await console.waitForFunction((n) => document.querySelectorAll('#roster-body tr[data-status="present"]').length === n, present);

    const store = await storeRoster();
    expect(await rowsOf(console, '#roster-body tr')).to.deep.equal(store);
    // Privacy mode names present and late students only; the others are counted.
    expect(await rowsOf(screen, '#roster li')).to.deep.equal(store.filter((e) => e.endsWith(':present')));
    expect(await screen.textContent('#count-pending')).to.equal(String(VAGUE));

    const screenAfter = await probe(screen);
    expect(screenAfter.added - screenBefore.added, 'rows added to the screen').to.equal(present);
    expect(screenAfter.removed - screenBefore.removed, 'rows removed from the screen').to.equal(0);
    const consoleAfter = await probe(console);
    // Each changed row replaced once, the others untouched.
    expect(consoleAfter.removed - consoleBefore.removed, 'rows replaced in the console').to.equal(STUDENTS);
    expect(consoleAfter.said - consoleBefore.said, 'announcements by the console').to.be.below(STUDENTS / 4);
    expect(screenAfter.said - screenBefore.said, 'announcements by the screen').to.be.below(STUDENTS / 4);
    await expectAccessible(screen, 'classroom screen after a burst');
  });

  it('the teacher accepts and rejects from the console, closes, corrects after closing; the rosters follow the store', async () => {
    const console = await staffPage(`/teacher.html?session=${sessionId}`, 'roster-body');
    const screen = await staffPage(`/classroom.html?session=${sessionId}&privacy=off`, 'roster');
    const [accepted, rejected, corrected] = live.students.slice(0, 3) as [User, User, User];
    const row = (u: User, status: string) => console.locator(`tr[data-student-id="${u.id}"][data-status="${status}"]`);
    await row(accepted, 'pending').waitFor();
    await console.click(`button[aria-label="Accept ${accepted.name}"]`);
    await row(accepted, 'present').waitFor();
    await console.click(`button[aria-label="Reject ${rejected.name}"]`);
    await row(rejected, 'rejected').waitFor();
    await screen.waitForSelector(`#roster li[data-student-id="${rejected.id}"][data-status="rejected"]`);

    ok(await command(live.staff, 'session:close', { sessionId }));
    await row(corrected, 'absent').waitFor();
    await console.selectOption('#mark-student', corrected.id);
    await console.selectOption('#mark-status', 'excused');
    await console.fill('#mark-reason', 'Doctor letter');
    await console.click('#mark-form button[type="submit"]');
    await row(corrected, 'excused').waitFor();
    await screen.waitForSelector(`#roster li[data-student-id="${corrected.id}"][data-status="excused"]`);

    const store = await storeRoster();
    expect(await rowsOf(console, '#roster-body tr')).to.deep.equal(store);
    expect(await rowsOf(screen, '#roster li')).to.deep.equal(store);
    // Still in name order after rows were replaced one by one.
    const names = await screen.locator('#roster li .student-name').allTextContents();
    expect(names).to.deep.equal([...names].sort((a, b) => a.localeCompare(b, undefined, { numeric: true })));
  });

  it('a row the teacher has focused keeps the focus when its student checks in, so a keyboard mark lands on it', async () => {
    const later = ok(
      await command(live.staff, 'session:open', {
        subjectId: live.subject.id,
        policy: { geofence: false, network: false, rotatingCode: false, selfie: false },
        parallel: true,
      }),
    ).id;
    const console = await staffPage(`/teacher.html?session=${later}`, 'roster-body');
    const student = live.students[10]!;
    const mark = `tr[data-student-id="${student.id}"] button.mark-absent`;
    await console.focus(`tr[data-student-id="${student.id}"][data-status="not-yet"] button.mark-absent`);
    // The student's check-in arrives while the teacher is about to mark them: their row is redrawn.
    ok(await command(live.phones[10]!, 'checkin:submit', { sessionId: later }));
    await console.waitForSelector(`tr[data-student-id="${student.id}"][data-status="present"]`);
    expect(await console.evaluate((sel) => document.activeElement === document.querySelector(sel), mark), 'focus kept').to.equal(true);
    await console.keyboard.press('Enter');
    await console.waitForSelector(`tr[data-student-id="${student.id}"][data-status="absent"]`);
    expect((await storeRosterOf(later)).find((e) => e.startsWith(student.id))).to.equal(`${student.id}:absent`);
  });
});

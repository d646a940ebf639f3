import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { DEMO_PASSWORDS, seedDemo } from '../../../src/domain/seed.js';
import { StoreUnavailableError } from '../../../src/domain/ports/common.js';
import type { Store } from '../../../src/domain/ports/store.js';
import type { User } from '../../../src/domain/ports/users.js';
import { rooms } from '../../../src/shared/events.js';
import { startTestServer, type TestServer } from '../../support/http.js';
import { command, connectClient, ok, type ClientSocket } from '../../support/sockets.js';
import { ensurePagesBuilt, expectAccessible, launchChromium, logIn } from '../../support/browser.js';
import { cheapPasswordHasher } from '../../support/passwords.js';
import { FakeFaceEngine } from '../../support/fake-face-engine.js';
import { startSlowUplink, type SlowUplink } from '../../support/slow-uplink.js';

const PHONE = { width: 360, height: 740 };

/**
 * A camera whose frames are noise: a selfie of it is as large as a real phone's (a still test
 * pattern compresses to 5 KB), so its upload takes as long. Two 640x480 frames, raw Y4M.
 */
function noiseVideo(): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'camera-')), 'noise.y4m');
  const frame = 640 * 480 * 1.5;
  const parts = [Buffer.from('YUV4MPEG2 W640 H480 F2:1 Ip A1:1 C420jpeg\n')];
  for (let i = 0; i < 2; i++) parts.push(Buffer.from('FRAME\n'), randomBytes(frame));
  writeFileSync(file, Buffer.concat(parts));
  return file;
}
/** The demo subject CS101's classroom (src/domain/seed.ts): radius 100 m. */
const CLASSROOM = { latitude: 51.5246, longitude: -0.134 };

// What a student on a weak phone link reads and gets: a link that drops after the tap, a busy
// database, a page reconnecting after the background, a GPS refused or too coarse. Faults are
// injected into the store the server writes check-ins with (records.writeBatch), or into the
// browser's network.
describe('student page on a weak link (Chromium)', function () {
  this.timeout(60_000);

  let srv: TestServer;
  let browser: Browser;
  let teacher: ClientSocket;
  let users: User[] = [];
  let subjectId = '';
  const contexts: BrowserContext[] = [];
  const links: SlowUplink[] = [];
  /** The next check-in writes: refused as a busy database, or held until `release`. */
  let fault: { kind: 'busy'; left: number } | { kind: 'hold'; started: () => void; release: Promise<void> } | null = null;
  /** A handshake reading its user fails as unreachable while this is set (the page keeps reconnecting). */
  let usersDown = false;

  function faultyStore(store: Store): Store {
    const records = new Proxy(store.records, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (prop !== 'writeBatch' || typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          const f = fault;
          if (f?.kind === 'busy' && f.left > 0) {
            f.left -= 1;
            throw new StoreUnavailableError('busy');
          }
          if (f?.kind === 'hold') {
            fault = null;
            f.started();
            await f.release;
          }
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const userRepo = new Proxy(store.users, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (prop !== 'get' || typeof value !== 'function') return value;
        return (...args: unknown[]) =>
          usersDown
            ? Promise.reject(new StoreUnavailableError('unreachable'))
            : (value as (...a: unknown[]) => unknown).apply(target, args);
      },
    });
    return new Proxy(store, {
      get: (target, prop, receiver) => (prop === 'records' ? records : prop === 'users' ? userRepo : Reflect.get(target, prop, receiver)),
    });
  }

  before(async () => {
    await ensurePagesBuilt('student.js');
    // No student has a face enrolled: a selfie goes to the teacher (FACE_NOT_ENROLLED), the engine never runs.
    srv = await startTestServer({}, { wrapStore: faultyStore, face: new FakeFaceEngine() });
    await seedDemo(srv.store, { passwords: cheapPasswordHasher() });
    const orgId = (await srv.store.organisations.getBySlug('demo'))!.id;
    users = (await srv.store.users.list(orgId, { limit: 1_000, offset: 0 })).items;
    subjectId = (await srv.store.subjects.list(orgId, { limit: 10, offset: 0 })).items[0]!.id;
    const ada = users.find((u) => u.email === 'ada@demo.school')!;
    teacher = await connectClient(srv.baseUrl, srv.app.tokenService.signAccess(ada).token);
    browser = await launchChromium([
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-video-capture=${noiseVideo()}`,
    ]);
  });

  afterEach(() => {
    fault = null;
    usersDown = false;
  });

  after(async () => {
    teacher?.disconnect();
    for (const ctx of contexts) await ctx.close();
    for (const link of links) await link.close();
    await browser?.close();
    await srv?.cleanup();
  });

  const student = (n: number) => users.find((u) => u.email === `student${String(n).padStart(2, '0')}@demo.school`)!;

  async function phone(
    n: number,
    sessionId: string,
    geo: { accuracy: number } | 'denied' = { accuracy: 15 },
    baseURL = srv.baseUrl,
  ): Promise<Page> {
    const ctx = await browser.newContext({
      baseURL,
      viewport: PHONE,
      isMobile: true,
      hasTouch: true,
      // axe is injected as an inline script, which the pages' CSP refuses.
      bypassCSP: true,
      ...(geo === 'denied'
        ? { permissions: ['camera'] }
        : { permissions: ['geolocation', 'camera'], geolocation: { ...CLASSROOM, accuracy: geo.accuracy } }),
    });
    ctx.setDefaultTimeout(15_000);
    contexts.push(ctx);
    const page = await ctx.newPage();
    await page.goto(`/student.html?session=${sessionId}`);
    await logIn(page, student(n).email, DEMO_PASSWORDS.student);
    await page.waitForSelector('#checkin-section:not([hidden]) #submit-checkin:enabled');
    return page;
  }

  const open = async (preset: 'manual' | 'location') =>
    ok(await command(teacher, 'session:open', { subjectId, policy: { preset, codePeriodS: 120 }, parallel: true })).id;
  const SELFIE_ONLY = { geofence: false, network: false, rotatingCode: false, selfie: true };

  /** The student's record as the store holds it. */
  async function stored(sessionId: string, n: number) {
    const roster = ok(await command(teacher, 'session:watch', { sessionId }));
    return roster.entries.find((e) => e.studentId === student(n).id)!;
  }

  it('the link drops after the tap while the check-in is being written: the page reads it back, one record, no error left', async () => {
    const sessionId = await open('manual');
    const page = await phone(1, sessionId);
    let release!: () => void;
    const started = new Promise<void>((resolve) => {
      fault = { kind: 'hold', started: resolve, release: new Promise<void>((r) => (release = r)) };
    });
    await page.tap('#submit-checkin');
    await started;
    await page.context().setOffline(true);
    await page.waitForSelector('#connection[data-state="offline"], #connection[data-state="connecting"]');
    release();
    await page.waitForFunction(() =>
      /Checking whether your check-in arrived/.test(document.getElementById('checkin-progress')?.textContent ?? ''),
    );
    await expectAccessible(page, 'student page checking after a drop');
    await page.context().setOffline(false);
    await page.waitForSelector('#decision[data-status="present"]');
    expect(await page.textContent('#checkin-error')).to.equal('');
    expect(await page.textContent('#checkin-progress')).to.equal('');
    const record = await stored(sessionId, 1);
    expect(record.status).to.equal('present');
    expect(record.attempts).to.equal(1);
  });

  it('a busy database is retried once after its hint, the student told so, and one record is written', async () => {
    const sessionId = await open('manual');
    const page = await phone(2, sessionId);
    fault = { kind: 'busy', left: 1 };
    await page.tap('#submit-checkin');
    await page.waitForFunction(() => /busy.*Trying again in \d+ s/.test(document.getElementById('checkin-progress')?.textContent ?? ''));
    await page.waitForSelector('#decision[data-status="present"]');
    expect(await page.textContent('#checkin-error')).to.equal('');
    expect((await stored(sessionId, 2)).attempts).to.equal(1);

    // Busy twice: nothing recorded, and the page says what to do rather than a raw code.
    const other = await phone(3, sessionId);
    fault = { kind: 'busy', left: 2 };
    await other.tap('#submit-checkin');
    await other.waitForFunction(() => /still busy.*tap Check in again/.test(document.getElementById('checkin-error')?.textContent ?? ''));
    expect(await other.isEnabled('#submit-checkin')).to.equal(true);
    expect((await stored(sessionId, 3)).status).to.equal('not-yet');
  });

  it('a tap while the page is reconnecting (back from the background) waits and is sent once live, not refused as offline', async () => {
    const sessionId = await open('manual');
    const page = await phone(4, sessionId);
    usersDown = true;
    // As the token cut at expiry does: the server drops the socket and the page reconnects.
    srv.app.realtime.io.in(rooms.user(student(4).id)).disconnectSockets(true);
    await page.waitForSelector('#connection:not([data-state="online"])');
    await page.tap('#submit-checkin');
    await page.waitForFunction(() => /Reconnecting/.test(document.getElementById('checkin-progress')?.textContent ?? ''));
    expect(await page.textContent('#checkin-error')).to.equal('');
    usersDown = false;
    await page.waitForSelector('#decision[data-status="present"]', { timeout: 25_000 });
    expect((await stored(sessionId, 4)).attempts).to.equal(1);
  });

  it('GPS refused or too coarse: the page says what to do before the tap is wasted', async () => {
    const sessionId = await open('location');
    const denied = await phone(5, sessionId, 'denied');
    await denied.tap('#share-location');
    await denied.waitForFunction(() => /blocked/.test(document.getElementById('location-status')?.textContent ?? ''));
    const text = (await denied.textContent('#location-status')) ?? '';
    expect(text).to.contain('Allow').and.to.contain('Share my location again');
    await denied.tap('#submit-checkin');
    await denied.waitForFunction(() => /blocked/.test(document.getElementById('checkin-error')?.textContent ?? ''));
    expect((await stored(sessionId, 5)).status).to.equal('not-yet');

    const coarse = await phone(6, sessionId, { accuracy: 1_500 });
    await coarse.tap('#share-location');
    await coarse.waitForSelector('#location-status[data-ready="true"]');
    const said = (await coarse.textContent('#location-status')) ?? '';
    expect(said).to.contain('1.5 km').and.to.contain('review').and.to.contain('Share my location again');
    await expectAccessible(coarse, 'student page with a coarse fix');
  });

  it('a fix shared while the GPS was poor is taken again at the tap: the better one is sent and the check-in passes by itself', async () => {
    const sessionId = await open('location');
    const page = await phone(8, sessionId, { accuracy: 900 });
    await page.tap('#share-location');
    await page.waitForSelector('#location-status[data-ready="true"]');
    expect(await page.textContent('#location-status')).to.contain('review');
    // Seconds later, still within the fix's 30 s, the phone has found the satellites.
    await page.context().setGeolocation({ ...CLASSROOM, accuracy: 12 });
    await page.tap('#submit-checkin');
    await page.waitForSelector('#decision:not([data-status="none"])');
    expect(await page.getAttribute('#decision', 'data-status')).to.equal('present');
    expect(await page.textContent('#location-status')).to.contain('12 m');
    const record = await stored(sessionId, 8);
    expect(record.status).to.equal('present');
    expect(record.attempts).to.equal(1);
  });

  it('a coarse fix with a typed rotating code is sent as held: a look again at the tap could outlast the code', async () => {
    // The code typed may already be the previous period's (15 s by default): waiting up to 10 s
    // more for a finer fix would have it refused CODE_INVALID and spend an attempt, where the
    // coarse fix only asks the teacher's review.
    const sessionId = ok(
      await command(teacher, 'session:open', {
        subjectId,
        policy: { geofence: true, network: false, rotatingCode: true, selfie: false, codePeriodS: 120, maxAttempts: 2 },
        parallel: true,
      }),
    ).id;
    const page = await phone(10, sessionId, { accuracy: 900 });
    await page.tap('#share-location');
    await page.waitForSelector('#location-status[data-ready="true"]');
    await page.context().setGeolocation({ ...CLASSROOM, accuracy: 12 });
    await page.fill('#code', ok(await command(teacher, 'session:code', { sessionId })).code);
    await page.tap('#submit-checkin');
    await page.waitForSelector('#decision:not([data-status="none"])');
    const record = await stored(sessionId, 10);
    expect(record.accuracyM, 'the fix held when the code was typed').to.equal(900);
    expect(record.attempts).to.equal(1);
    expect(record.flags).to.not.include('CODE_INVALID');
  });

  it('the rotating code: a tap without it is stopped before it spends an attempt, and a code refused as stale is cleared for the new one', async () => {
    const sessionId = ok(
      await command(teacher, 'session:open', {
        subjectId,
        policy: { geofence: false, network: false, rotatingCode: true, selfie: false, codePeriodS: 120, maxAttempts: 2 },
        parallel: true,
      }),
    ).id;
    const page = await phone(9, sessionId);
    await page.tap('#submit-checkin');
    await page.waitForFunction(() => /Type the code/.test(document.getElementById('checkin-error')?.textContent ?? ''));
    expect(await page.evaluate(() => document.activeElement?.id)).to.equal('code');
    expect(await page.isEnabled('#submit-checkin')).to.equal(true);
    expect((await stored(sessionId, 9)).attempts).to.equal(0);

    // A code from neither this period nor the last one, as one read two rotations ago.
    const current = ok(await command(teacher, 'session:code', { sessionId })).code;
    await page.fill('#code', String((Number(current) + 500_000) % 1_000_000).padStart(6, '0'));
    await page.tap('#submit-checkin');
    await page.waitForSelector('#decision[data-status="rejected"]');
    expect(await page.inputValue('#code'), 'the stale code is not sent again').to.equal('');
    // Typed in two groups of three, as the screen may be read aloud.
    await page.fill('#code', ` ${current.slice(0, 3)} ${current.slice(3)} `);
    await page.tap('#submit-checkin');
    // The tap's handler marks the button busy at once; its answer clears that.
    await page.waitForSelector('#submit-checkin:not([aria-busy])');
    expect(await page.getAttribute('#decision', 'data-status')).to.equal('present');
    expect((await stored(sessionId, 9)).attempts).to.equal(2);
  });

  it('a selfie on a slow upload: the page says it is still sending and waits for the answer instead of giving up at 10 s', async () => {
    const sessionId = ok(await command(teacher, 'session:open', { subjectId, policy: SELFIE_ONLY, parallel: true })).id;
    // The phone reaches the server through a relay pacing its uplink (set once the page is loaded).
    const link = await startSlowUplink(srv.baseUrl);
    links.push(link);
    const page = await phone(7, sessionId, { accuracy: 15 }, link.url);
    await page.tap('#selfie-start');
    await page.waitForFunction(() => /Camera on/.test(document.getElementById('selfie-status')?.textContent ?? ''));
    await page.tap('#selfie-take');
    await page.waitForFunction(() => /Selfie taken/.test(document.getElementById('selfie-status')?.textContent ?? ''));
    const kb = Number(/\((\d+) KB\)/.exec((await page.textContent('#selfie-status')) ?? '')?.[1]);
    expect(kb).to.be.above(100);
    // An upload of about 13 s: past the 10 s every other command waits for.
    link.setRate(Math.round((kb * 1024) / 13));
    const tappedAt = Date.now();
    await page.tap('#submit-checkin');
    await page.waitForFunction(() => /Still sending/.test(document.getElementById('checkin-progress')?.textContent ?? ''));
    await page.waitForSelector('#decision[data-status="pending"]', { timeout: 40_000 });
    expect(Date.now() - tappedAt, 'the upload took past 10 s').to.be.above(10_000);
    expect(await page.textContent('#checkin-error')).to.equal('');
    await page.waitForFunction(() => document.getElementById('checkin-progress')?.textContent === '');
    const record = await stored(sessionId, 7);
    expect(record.attempts).to.equal(1);
  });
});

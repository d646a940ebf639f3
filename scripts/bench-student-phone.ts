/**
 * The student page on a weak phone (not a test): Chromium emulating a slow 3G link (400 kbit/s
 * each way, 400 ms round trip) and a CPU six times slower, a phone viewport and a granted GPS.
 * Reports per run the bytes the page transferred (HTTP and websocket frames), the time from
 * navigation to a usable check-in form (session shown, button enabled) and from the tap to the
 * acknowledged check-in, then the median of the runs; and what the student reads when the link
 * drops right after the tap (offline for --drop-ms, then back). The student page's service worker
 * (once installed) makes its own requests, which the page's DevTools session neither sees nor
 * throttles: they are counted apart, from Playwright's context events. Last, a reload with no
 * network: how long until the page says it is offline, or the browser's error page.
 * --background instead: the page is frozen (as a phone in a pocket) until its access token has
 * expired and the server has cut it (ACCESS_TOKEN_TTL_S=61, about 70 s), then the student taps at
 * once: what they read, and how long the check-in takes.
 *
 *   node --import tsx scripts/bench-student-phone.ts [--runs 3] [--drop-ms 5000] [--no-throttle] [--background]
 *
 * The node runs in a child process on loopback, with the built pages (npm run build:web).
 */
import { parseArgs } from 'node:util';
import bcrypt from 'bcryptjs';
import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import { buildWeb } from './build-web.js';
import { BENCH_ROOM, connectBench, emitAck, seedBenchClass, startBenchNode } from './lib/bench-node.js';
import { repoRoot } from './lib/repo-root.js';
import { createSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { chromium } from 'playwright-core';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    'drop-ms': { type: 'string', default: '5000' },
    'no-throttle': { type: 'boolean', default: false },
    background: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stdout.write('usage: bench-student-phone.ts [--runs N] [--drop-ms MS] [--no-throttle] [--background]\n');
  process.exit(0);
}
const RUNS = Number(args.runs);
const DROP_MS = Number(args['drop-ms']);
const THROTTLE = !args['no-throttle'];
const PASSWORD = 'bench-student-pass';
const root = repoRoot(import.meta.url);

/** Chromium DevTools' throughput is in bytes per second. */
const SLOW_3G = { offline: false, latency: 400, downloadThroughput: 400_000 / 8, uploadThroughput: 400_000 / 8 };
const PHONE = { width: 360, height: 740 };

interface RunFigures {
  bytes: number;
  httpBytes: number;
  wsBytes: number;
  requests: number;
  /** Everything the page loaded, the sections below the form included, once the network is idle. */
  settledBytes: number;
  /** Bytes and requests of the service worker's own fetches (its install), unthrottled. */
  workerBytes: number;
  workerRequests: number;
  interactiveMs: number;
  ackMs: number;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function throttle(page: Page): Promise<CDPSession> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  if (THROTTLE) {
    await cdp.send('Network.emulateNetworkConditions', SLOW_3G);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 6 });
  }
  return cdp;
}

/** Counts what crosses the emulated link: HTTP bodies and headers as received, websocket payloads both ways. */
function countBytes(cdp: CDPSession): { http: number; ws: number; requests: number } {
  const tally = { http: 0, ws: 0, requests: 0 };
  cdp.on('Network.loadingFinished', (e) => {
    tally.http += e.encodedDataLength;
    tally.requests += 1;
  });
  cdp.on('Network.webSocketFrameReceived', (e) => (tally.ws += e.response.payloadData.length));
  cdp.on('Network.webSocketFrameSent', (e) => (tally.ws += e.response.payloadData.length));
  return tally;
}

type Phone = (email: string, accuracy: number) => Promise<{ ctx: BrowserContext; page: Page; cdp: CDPSession }>;

/** Each distinct text the student reads (progress, error, decision, connection), with when it first showed. */
function reader(page: Page): { read: () => Promise<void>; seen: Map<string, number>; t0: number } {
  const seen = new Map<string, number>();
  const t0 = performance.now();
  const read = async () => {
    // A string: this script is compiled without the DOM's types.
    const text = await page.evaluate<string>(
      `['checkin-error', 'checkin-progress', 'decision-text', 'connection']
        .map((id) => document.getElementById(id)?.textContent?.trim() ?? '')
        .filter(Boolean)
        .join(' | ')`,
    );
    if (!seen.has(text)) seen.set(text, performance.now() - t0);
  };
  return { read, seen, t0 };
}

/** Frozen past the token's expiry and the server's cut, then a tap at once. */
async function background(phone: Phone, sessionId: string, code: string): Promise<void> {
  const { ctx, page, cdp } = await phone('s0@bench', 20);
  await page.goto(`/student.html?session=${sessionId}&code=${code}`);
  await page.waitForSelector('#checkin-section:not([hidden]) #submit-checkin:enabled');
  await cdp.send('Page.enable');
  await cdp.send('Page.setWebLifecycleState', { state: 'frozen' });
  await new Promise((r) => setTimeout(r, 70_000));
  await cdp.send('Page.setWebLifecycleState', { state: 'active' });
  const { read, seen } = reader(page);
  await page.tap('#submit-checkin');
  const settle = performance.now() + 60_000;
  while (performance.now() < settle) {
    await read();
    if ((await page.getAttribute('#decision', 'data-status')) !== 'none') break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await read();
  process.stdout.write('frozen 70 s (token expired and cut meanwhile), tapped on waking; the student read:\n');
  for (const [text, at] of seen) process.stdout.write(`  +${(at / 1000).toFixed(1)} s  ${text}\n`);
  await ctx.close();
}

/** A visit online, then a reload with no network: what shows, and after how long. */
async function offlineReload(phone: Phone, sessionId: string, code: string): Promise<void> {
  const { ctx, page, cdp } = await phone('s0@bench', 20);
  await page.goto(`/student.html?session=${sessionId}&code=${code}`);
  await page.waitForSelector('#checkin-section:not([hidden])');
  // The worker registers once the page is usable; its install is given 30 s.
  const controlled = await page
    .waitForFunction('navigator.serviceWorker && navigator.serviceWorker.controller !== null', undefined, { timeout: 30_000 })
    .then(() => true)
    .catch(() => false);
  await cdp.send('Network.emulateNetworkConditions', { ...SLOW_3G, offline: true });
  const t0 = performance.now();
  await page.reload({ timeout: 15_000 }).catch(() => null);
  const said = await page
    .waitForSelector('#offline-note:not([hidden])', { timeout: 15_000 })
    .then(() => performance.now() - t0)
    .catch(() => null);
  process.stdout.write(
    `reload with no network (${controlled ? 'service worker in control' : 'no service worker'}): ` +
      (said === null
        ? `no page (${page.url().startsWith('chrome-error:') ? "the browser's error page" : page.url()})\n`
        : `"You are offline" shown after ${said.toFixed(0)} ms\n`),
  );
  await ctx.close();
}

async function main(): Promise<void> {
  await buildWeb({ root });
  const bench = await seedBenchClass('bench-phone', RUNS + 2, {
    BCRYPT_COST: '4',
    // The shortest lifetime with a renewal warning after the connect (60 s before expiry).
    ...(args.background ? { ACCESS_TOKEN_TTL_S: '61' } : {}),
  });
  const store = await createSqliteStore({ path: bench.env['SQLITE_PATH']! });
  const hash = await bcrypt.hash(PASSWORD, 4);
  for (const s of bench.students) await store.users.update(s.orgId, s.id, { passwordHash: hash });
  await store.close();
  const node = await startBenchNode(root, bench.env);
  const [teacher] = await connectBench(node.url, [bench.tokens.signAccess(bench.teacher).token]);
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    const opened = await emitAck<{ id: string }>(teacher!, 'session:open', {
      subjectId: bench.subject.id,
      policy: { preset: 'location-code', codePeriodS: 300 },
    });
    if (!opened.ok) throw new Error(`session:open: ${opened.error.code}`);
    const sessionId = opened.data.id;
    const codeAck = await emitAck<{ code: string }>(teacher!, 'session:code', { sessionId });
    if (!codeAck.ok) throw new Error('session:code refused');
    const code = codeAck.data.code;

    /** A phone already logged in (tokens stored), opening the session's link with the code. */
    const phone = async (email: string, accuracy: number): Promise<{ ctx: BrowserContext; page: Page; cdp: CDPSession }> => {
      const res = await fetch(`${node.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: PASSWORD }),
      });
      if (!res.ok) throw new Error(`login ${email}: ${res.status}`);
      const auth = (await res.json()) as Record<string, unknown>;
      const ctx = await browser.newContext({
        baseURL: node.url,
        viewport: PHONE,
        isMobile: true,
        hasTouch: true,
        deviceScaleFactor: 2,
        permissions: ['geolocation'],
        geolocation: { latitude: BENCH_ROOM.lat, longitude: BENCH_ROOM.lon, accuracy },
      });
      ctx.setDefaultTimeout(120_000);
      await ctx.addInitScript({ content: `localStorage.setItem('attendance.auth', ${JSON.stringify(JSON.stringify(auth))});` });
      const page = await ctx.newPage();
      return { ctx, page, cdp: await throttle(page) };
    };

    if (args.background) return await background(phone, sessionId, code);
    const figures: RunFigures[] = [];
    for (let run = 0; run < RUNS; run++) {
      const { ctx, page, cdp } = await phone(bench.students[run]!.email, 20);
      const tally = countBytes(cdp);
      const worker = { bytes: 0, requests: 0 };
      ctx.on('requestfinished', (r) => {
        if (!r.serviceWorker()) return;
        worker.requests += 1;
        void r.sizes().then((z) => (worker.bytes += z.responseBodySize + z.responseHeadersSize));
      });
      const t0 = performance.now();
      await page.goto(`${node.url}/student.html?session=${sessionId}&code=${code}`);
      await page.waitForSelector('#checkin-section:not([hidden]) #submit-checkin:enabled');
      const interactiveMs = performance.now() - t0;
      const t1 = performance.now();
      await page.tap('#submit-checkin');
      await page.waitForSelector('#decision:not([data-status="none"])');
      const ackMs = performance.now() - t1;
      const bytes = tally.http + tally.ws;
      const { http, ws, requests } = tally;
      await page.waitForLoadState('networkidle');
      await new Promise((r) => setTimeout(r, 11_000));
      const settledBytes = tally.http + tally.ws;
      figures.push({
        bytes,
        httpBytes: http,
        wsBytes: ws,
        requests,
        settledBytes,
        workerBytes: worker.bytes,
        workerRequests: worker.requests,
        interactiveMs,
        ackMs,
      });
      process.stdout.write(
        `run ${run + 1}: ${bytes} bytes by the ack (HTTP ${http} in ${requests} requests, websocket ${ws}), ${settledBytes} once settled, ` +
          `service worker ${worker.bytes} bytes in ${worker.requests} requests, ` +
          `interactive after ${interactiveMs.toFixed(0)} ms, tap to acknowledged check-in ${ackMs.toFixed(0)} ms, ` +
          `status ${await page.getAttribute('#decision', 'data-status')}\n`,
      );
      await ctx.close();
    }
    process.stdout.write(
      `median of ${RUNS}${THROTTLE ? ' (slow 3G, CPU x6)' : ' (no throttling)'}: ${median(figures.map((f) => f.bytes))} bytes by the ack, ` +
        `${median(figures.map((f) => f.settledBytes))} once settled (+ service worker ${median(figures.map((f) => f.workerBytes))}), ` +
        `interactive ${median(figures.map((f) => f.interactiveMs)).toFixed(0)} ms, ` +
        `tap to ack ${median(figures.map((f) => f.ackMs)).toFixed(0)} ms\n`,
    );

    // The link drops right after the tap and comes back DROP_MS later: what does the student read?
    const { ctx, page, cdp } = await phone(bench.students[RUNS]!.email, 20);
    await page.goto(`${node.url}/student.html?session=${sessionId}&code=${code}`);
    await page.waitForSelector('#checkin-section:not([hidden]) #submit-checkin:enabled');
    const { read, seen } = reader(page);
    await page.tap('#submit-checkin');
    // Only through CDP: Playwright's setOffline sets the same emulation and would drop the throttling.
    await cdp.send('Network.emulateNetworkConditions', { ...SLOW_3G, offline: true });
    const until = performance.now() + DROP_MS;
    while (performance.now() < until) {
      await read();
      await new Promise((r) => setTimeout(r, 250));
    }
    await cdp.send(
      'Network.emulateNetworkConditions',
      THROTTLE ? SLOW_3G : { ...SLOW_3G, latency: 0, downloadThroughput: -1, uploadThroughput: -1 },
    );
    const settle = performance.now() + 30_000;
    while (performance.now() < settle) {
      await read();
      if ((await page.getAttribute('#decision', 'data-status')) !== 'none' && (await page.textContent('#connection')) === 'Live') break;
      await new Promise((r) => setTimeout(r, 250));
    }
    await read();
    process.stdout.write(`link dropped for ${DROP_MS} ms right after the tap; the student read:\n`);
    for (const [text, at] of seen) process.stdout.write(`  +${(at / 1000).toFixed(1)} s  ${text}\n`);
    const watch = await emitAck<{ entries: { studentId: string; status: string; attempts: number }[] }>(teacher!, 'session:watch', {
      sessionId,
    });
    if (watch.ok) {
      const mine = watch.data.entries.find((e) => e.studentId === bench.students[RUNS]!.id);
      process.stdout.write(`  stored: ${mine?.status ?? 'nothing'} after ${mine?.attempts ?? 0} attempt(s)\n`);
    }
    await ctx.close();
    await offlineReload(phone, sessionId, code);
  } finally {
    teacher?.disconnect();
    await browser.close();
    await node.stop();
    bench.remove();
  }
}

await main();

/**
 * The classroom screen and the teacher console with a large class (not a test): N students
 * (default 300) check in at once over real sockets while both pages watch the session in
 * Chromium. Reports per page the time from the burst to the last check-in on screen, the long
 * tasks (PerformanceObserver 'longtask': count, total, longest), the roster elements added and
 * removed, the page's CPU time (CDP Performance.getMetrics TaskDuration), and whether the final
 * roster equals the store's.
 *
 *   node --import tsx scripts/bench-classroom-screen.ts [--students 300] [--cpu 1]
 *
 * --cpu N slows the pages' CPU N times (CDP Emulation.setCPUThrottlingRate), as an old
 * classroom PC. The node runs in a child process on loopback, with the built pages.
 */
import { parseArgs } from 'node:util';
import { chromium, type CDPSession, type Page } from 'playwright-core';
import type { RosterSnapshot } from '../src/shared/events.js';
import { buildWeb } from './build-web.js';
import { connectBench, emitAck, seedBenchClass, startBenchNode } from './lib/bench-node.js';
import { repoRoot } from './lib/repo-root.js';

const { values: args } = parseArgs({
  options: {
    students: { type: 'string', default: '300' },
    cpu: { type: 'string', default: '1' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stdout.write('usage: bench-classroom-screen.ts [--students N] [--cpu RATE]\n');
  process.exit(0);
}
const STUDENTS = Number(args.students);
const CPU = Number(args.cpu);
const root = repoRoot(import.meta.url);

/** Collects long tasks and the roster's element churn from the page's start (a string: no DOM types here). */
const PROBE = `
  window.__probe = { longTasks: [], added: 0, removed: 0 };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__probe.longTasks.push(e.duration);
  }).observe({ type: 'longtask', buffered: true });
  document.addEventListener('DOMContentLoaded', () => {
    for (const id of ['roster', 'roster-body']) {
      const el = document.getElementById(id);
      if (!el) continue;
      new MutationObserver((records) => {
        for (const r of records) {
          window.__probe.added += r.addedNodes.length;
          window.__probe.removed += r.removedNodes.length;
        }
      }).observe(el, { childList: true });
    }
  });
`;

interface Probe {
  longTasks: number[];
  added: number;
  removed: number;
}

async function taskSeconds(cdp: CDPSession): Promise<number> {
  const { metrics } = await cdp.send('Performance.getMetrics');
  return metrics.find((m) => m.name === 'TaskDuration')?.value ?? 0;
}

async function main(): Promise<void> {
  await buildWeb({ root });
  const bench = await seedBenchClass('bench-screen', STUDENTS, { CHECKIN_RATE_PER_MINUTE: '600' });
  const node = await startBenchNode(root, bench.env);
  const sockets: Awaited<ReturnType<typeof connectBench>> = [];
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    const [teacher] = await connectBench(node.url, [bench.tokens.signAccess(bench.teacher).token], { into: sockets });
    const opened = await emitAck<{ id: string }>(teacher!, 'session:open', { subjectId: bench.subject.id, policy: { preset: 'manual' } });
    if (!opened.ok) throw new Error(`session:open: ${opened.error.code}`);
    const sessionId = opened.data.id;
    const access = bench.tokens.signAccess(bench.teacher);
    const auth = {
      accessToken: access.token,
      accessTokenExpiresAt: access.expiresAt.toISOString(),
      refreshToken: 'unused-by-this-bench',
      user: { id: bench.teacher.id, name: bench.teacher.name, email: bench.teacher.email, role: 'teacher' },
    };
    const pages: { name: string; page: Page; cdp: CDPSession; done: string }[] = [];
    for (const [name, path, done] of [
      // Privacy mode, the default: only present and late students are named.
      [
        'classroom screen',
        `classroom.html?session=${sessionId}`,
        `document.getElementById('count-present')?.textContent === '${STUDENTS}'`,
      ],
      [
        'teacher console',
        `teacher.html?session=${sessionId}`,
        `document.querySelectorAll('#roster-body tr[data-status="present"]').length === ${STUDENTS}`,
      ],
    ] as const) {
      // Playwright polls a string predicate with eval, which the pages' CSP refuses.
      const ctx = await browser.newContext({ viewport: { width: 1920, height: 1080 }, bypassCSP: true });
      ctx.setDefaultTimeout(120_000);
      await ctx.addInitScript({ content: `localStorage.setItem('attendance.auth', ${JSON.stringify(JSON.stringify(auth))});${PROBE}` });
      const page = await ctx.newPage();
      const cdp = await ctx.newCDPSession(page);
      await cdp.send('Performance.enable');
      if (CPU > 1) await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU });
      await page.goto(`${node.url}/${path}`);
      pages.push({ name, page, cdp, done });
    }
    await pages[0]!.page.waitForFunction(`document.getElementById('count-total')?.textContent === '${STUDENTS}'`);
    await pages[1]!.page.waitForFunction(`document.querySelectorAll('#roster-body tr').length === ${STUDENTS}`);
    const phones = await connectBench(
      node.url,
      bench.students.map((s) => bench.tokens.signAccess(s).token),
      { into: sockets },
    );
    // From here on: only the burst's work.
    const before = await Promise.all(
      pages.map(async (p) => ({
        cpu: await taskSeconds(p.cdp),
        probe: (await p.page.evaluate('({ ...window.__probe, longTasks: [...window.__probe.longTasks] })')) as Probe,
      })),
    );
    const t0 = performance.now();
    const acks = await Promise.all(phones.map((s) => emitAck(s, 'checkin:submit', { sessionId })));
    const refused = acks.filter((a) => !a.ok).length;
    const ackedMs = performance.now() - t0;
    process.stdout.write(`${STUDENTS} check-ins acknowledged after ${ackedMs.toFixed(0)} ms (${refused} refused), pages CPU x${CPU}\n`);
    const watch = await emitAck<RosterSnapshot>(teacher!, 'session:watch', { sessionId });
    if (!watch.ok) throw new Error('session:watch refused');
    const storeView = watch.data.entries.map((e) => `${e.studentId}:${e.status}`).sort();
    // The screen in privacy mode names present and late students only.
    const named = storeView.filter((e) => /:(present|late)$/.test(e));
    for (const [i, p] of pages.entries()) {
      await p.page.waitForFunction(p.done, undefined, { timeout: 120_000 });
      const shownMs = performance.now() - t0;
      const probe = (await p.page.evaluate('window.__probe')) as Probe;
      const tasks = probe.longTasks.slice(before[i]!.probe.longTasks.length);
      const cpu = (await taskSeconds(p.cdp)) - before[i]!.cpu;
      const shown = (await p.page.evaluate(
        `[...document.querySelectorAll('#roster li[data-student-id], #roster-body tr[data-student-id]')].map((e) => e.dataset.studentId + ':' + e.dataset.status).sort()`,
      )) as string[];
      process.stdout.write(
        `${p.name}: all ${STUDENTS} shown ${shownMs.toFixed(0)} ms after the burst began; ` +
          `long tasks ${tasks.length}, ${tasks.reduce((a, b) => a + b, 0).toFixed(0)} ms in all, longest ${Math.max(0, ...tasks).toFixed(0)} ms; ` +
          `page CPU ${(cpu * 1000).toFixed(0)} ms; roster elements added ${probe.added - before[i]!.probe.added}, removed ${probe.removed - before[i]!.probe.removed}; ` +
          `roster equals the store: ${JSON.stringify(shown) === JSON.stringify(i === 0 ? named : storeView)}\n`,
      );
    }
  } finally {
    for (const s of sockets) s.disconnect();
    await browser.close();
    await node.stop();
    bench.remove();
  }
}

await main();

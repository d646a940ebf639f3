/**
 * Check-in benchmark on one node (not a test): many students check in without selfies while a
 * teacher screen watches. Reports check-ins per second, acknowledgement latency p50/p99 and
 * roster-update latency at the teacher, next to a plain socket.io echo measured in the same run,
 * and the ratio of the two rates.
 *
 *   node --import tsx scripts/bench-checkins.ts [--students 1000] [--sessions 4] [--window 200]
 *     [--node-flags='--max-semi-space-size=32'] [--client socketio|lean]
 *
 * BENCH_CPU_PROF=DIR: CPU profiles of the server; BENCH_HEAP_PROF=DIR: its allocation profile over
 * the check-ins (with BENCH_HEAP_PROF_PROMOTED=1: of what was promoted to the old space only,
 * scripts/lib/heap-sampling.ts); BENCH_GC_STATS=1: its garbage collections over the check-ins (count and pause
 * time by kind, on stderr), and the clients' (this process's) bytes allocated and scavenge pauses
 * per check-in and per echo message (on stdout); BENCH_PERF=FILE: `perf record -g` of every thread of the server over
 * the check-ins (Linux perf on the PATH; add --node-flags=--perf-basic-prof to name its
 * JavaScript frames), for `perf report -i FILE --sort tid,sym`; BENCH_STAGES=DIR: the stage table
 * of `scripts/loadtest.ts --stages` over the timed check-ins (where a closed-loop check-in waits:
 * the node with CHECKIN_STAGES_FILE, "offered" being "sent"), on stdout and in DIR/bench-stages.md.
 *
 * Loopback only; the server runs in a child process so client and server each get a core.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BENCH_CLIENT_KINDS, benchClients, newPhase, type BenchClientKind, type BenchClients } from './lib/bench-clients.js';
import { BENCH_ROOM as ROOM, seedBenchClass, startBenchNode } from './lib/bench-node.js';
import { batchSizes, stageTable, stageTableText, type GeneratorTimes } from './lib/checkin-stages-table.js';
import { startGcCount, type GcCount } from './lib/gc-count.js';
import { cpuByThreadName, cpuSecondsOf, threadDelta } from './lib/loadtest-timeline.js';
import { repoRoot } from './lib/repo-root.js';

const { values: args } = parseArgs({
  options: {
    students: { type: 'string', default: '1000' },
    sessions: { type: 'string', default: '4' },
    window: { type: 'string', default: '200' },
    warmup: { type: 'string', default: '0' },
    'node-flags': { type: 'string', default: '' },
    client: { type: 'string', default: 'socketio' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stdout.write(
    'usage: bench-checkins.ts [--students N] [--sessions M] [--window W] [--warmup K] [--node-flags=F] [--client C]\n  N students each check in to M concurrent sessions, at most W submissions in flight.\n  K: first, untimed, each student checks in to K other sessions, and the echo server gets\n  K × N messages (default 0: both measured from cold, the optimising compiler at work).\n  F: node options of the server (not of the echo server), space-separated, after the\n  service’s own (--max-semi-space-size=64, which both servers get).\n  C: the clients of both sides, socketio (default: socket.io-client, one per student) or lean\n  (the load generator’s own, scripts/lib/lean-socket.ts: pre-encoded frames, answers read by\n  id, roster pushes scanned). The clients share the machine and the closed loop with the\n  server; both sides use the same kind (docs/multi-node.md, “Round 32, the generator”).\n',
  );
  process.exit(0);
}
const STUDENTS = Number(args.students);
const SESSIONS = Number(args.sessions);
const WINDOW = Number(args.window);
const WARMUP = Number(args.warmup);
const NODE_FLAGS = args['node-flags'].split(/\s+/).filter((f) => f !== '');
if (!(BENCH_CLIENT_KINDS as readonly string[]).includes(args.client)) {
  process.stderr.write(`--client must be one of ${BENCH_CLIENT_KINDS.join(', ')}\n`);
  process.exit(1);
}
const CLIENT = args.client as BenchClientKind;
const LOCATION = { lat: ROOM.lat, lon: ROOM.lon, accuracy: 15 };
const root = repoRoot(import.meta.url);
// Garbage collections of the timed phases: the server's on stderr (scripts/lib/gc-stats.ts), the clients' with the figures.
const gcStats = process.env['BENCH_GC_STATS'] === '1';

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
const fmt = (n: number) => n.toFixed(1);
/** Bytes allocated per unit and the scavenges' pause per unit: the clients' side of a check-in or an echo message. */
function clientGcText(count: GcCount, units: number): string {
  const scavenge = count.byKind['scavenge'] ?? { count: 0, ms: 0 };
  return `${(count.allocatedBytes.all / units / 1024).toFixed(1)} KB allocated, ${scavenge.count} scavenges pausing ${((scavenge.ms * 1000) / units).toFixed(1)} µs`;
}
/** This process's CPU time (the clients of either server: one socket per student), ms. */
const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

/** The answered messages' latencies (ms), sorted. */
function latencies(p: { sentAt: Float64Array; answeredAt: Float64Array }): number[] {
  const out: number[] = [];
  for (let j = 0; j < p.sentAt.length; j += 1) {
    const ms = p.answeredAt[j]! - p.sentAt[j]!;
    if (!Number.isNaN(ms)) out.push(ms);
  }
  return out.sort((a, b) => a - b);
}

async function benchAttendance() {
  const heapProfDir = process.env['BENCH_HEAP_PROF'];
  const heapPromoted = process.env['BENCH_HEAP_PROF_PROMOTED'] === '1';
  const stagesDir = process.env['BENCH_STAGES'] ? path.resolve(process.env['BENCH_STAGES']) : null;
  if (stagesDir) mkdirSync(stagesDir, { recursive: true });
  const stagesFile = stagesDir ? path.join(stagesDir, 'bench-node-stages.json') : null;
  /** BENCH_STAGES: the timed check-ins' own times (absolute ms), by `${sessionId}/${studentId}`. */
  const generatorTimes = new Map<string, GeneratorTimes>();
  /** BENCH_STAGES: when the teacher's screen showed each timed check-in (absolute ms). */
  const seenAt = new Map<string, number>();
  const bench = await seedBenchClass('bench-checkins', STUDENTS, {
    CHECKIN_RATE_PER_MINUTE: '600',
    ...(stagesFile ? { CHECKIN_STAGES_FILE: stagesFile } : {}),
    ...(heapProfDir ? { HEAP_PROF_DIR: heapProfDir } : {}),
    ...(heapProfDir && heapPromoted ? { HEAP_PROF_PROMOTED: '1' } : {}),
  });
  const { teacher, students, subject, tokens } = bench;
  const server = await startBenchNode(root, bench.env, {
    nodeArgs: [
      ...NODE_FLAGS,
      ...(process.env['BENCH_CPU_PROF'] ? ['--cpu-prof', '--cpu-prof-dir', process.env['BENCH_CPU_PROF']] : []),
      ...(heapProfDir ? [...(heapPromoted ? ['--expose-gc'] : []), '--import', path.join(root, 'scripts/lib/heap-sampling.ts')] : []),
      ...(gcStats ? ['--import', path.join(root, 'scripts/lib/gc-stats.ts')] : []),
    ],
  });
  const clients: BenchClients = benchClients(CLIENT, LOCATION);
  try {
    // Each with a login id (sid), as a logged-in client's token has: the server checks that login per command.
    // Socket 0 is the teacher's, student i's is 1 + i.
    await clients.connect(server.url, [tokens.signAccess(teacher, randomUUID()).token]);
    await clients.connect(
      server.url,
      students.map((s) => tokens.signAccess(s, randomUUID()).token),
    );

    const sessionIds: string[] = [];
    for (let i = 0; i < WARMUP + SESSIONS; i += 1) {
      const opened = await clients.request<{ id: string }>(0, 'session:open', {
        subjectId: subject.id,
        policy: { geofence: true, rotatingCode: false },
        // Several sessions of one subject at once, on purpose (the one-session rule asks to confirm).
        parallel: true,
      });
      if (!opened.ok) throw new Error(opened.error.code);
      sessionIds.push(opened.data.id);
      const watched = await clients.request(0, 'session:watch', { sessionId: opened.data.id });
      if (!watched.ok) throw new Error(watched.error.code);
    }
    // The warm-up's sessions first: their check-ins are neither timed nor counted.
    const warmupIds = sessionIds.splice(0, WARMUP);
    // The timed check-ins' submit times by session and student position, in one array found by
    // two lookups: a key string and a map entry per check-in were the bench's own garbage, which
    // a real client does not make (docs/multi-node.md, "What holds the closed loop", round 29).
    const sessionIndex = new Map(sessionIds.map((id, k) => [id, k]));
    const studentIndex = new Map(students.map((s, i) => [s.id, i]));
    // The timed phase's send times, by message (k x STUDENTS + i), filled in as it sends.
    const timedPhase = newPhase(sessionIds.length * STUDENTS);
    const submittedAt = timedPhase.sentAt;
    const rosterLatency: number[] = [];
    let rosterMessages = 0;
    clients.onRoster(0, (batch) => {
      const k = sessionIndex.get(batch.sessionId);
      if (k === undefined) return; // a warm-up session
      rosterMessages += 1;
      const now = performance.now();
      for (let u = 0; u < batch.count; u += 1) {
        const i = studentIndex.get(batch.studentIds[u]!);
        const t = i === undefined ? Number.NaN : (submittedAt[k * STUDENTS + i] ?? Number.NaN);
        if (Number.isNaN(t)) continue;
        rosterLatency.push(now - t);
        if (stagesDir) seenAt.set(`${batch.sessionId}/${batch.studentIds[u]!}`, performance.timeOrigin + now);
      }
    });

    // Message k x STUDENTS + i: student i checks in to session k, session after session.
    const checkinsTo = (ids: readonly string[]) => (j: number) => ({
      socket: 1 + (j % STUDENTS),
      sessionId: ids[Math.floor(j / STUDENTS)]!,
    });
    const warm = await clients.run(warmupIds.length * STUDENTS, WINDOW, checkinsTo(warmupIds));
    const jobs = { length: sessionIds.length * STUDENTS };
    const pid = server.child.pid;
    const cpu0 = pid === undefined ? null : cpuSecondsOf(pid);
    const main0 = pid === undefined ? null : cpuSecondsOf(pid, 'main');
    const threads0 = pid === undefined ? null : cpuByThreadName(pid);
    // The allocation profile covers the check-ins only (scripts/lib/heap-sampling.ts).
    if (heapProfDir || gcStats) server.child.kill('SIGUSR2');
    const perf = pid === undefined ? null : await startPerf(pid);
    const clientGc = gcStats ? startGcCount() : null;
    const client0 = process.cpuUsage();
    const start = performance.now();
    const monotonic0 = process.hrtime.bigint();
    const timed = await clients.run(jobs.length, WINDOW, checkinsTo(sessionIds), timedPhase);
    const elapsed = (performance.now() - start) / 1000;
    const clientGcCount = await clientGc?.stop();
    const errors = warm.errors + timed.errors;
    const ackLatency = latencies(timed);
    if (stagesDir)
      for (let j = 0; j < jobs.length; j += 1) {
        if (!timed.ok[j]) continue;
        const sent = performance.timeOrigin + timed.sentAt[j]!;
        generatorTimes.set(`${sessionIds[Math.floor(j / STUDENTS)]!}/${students[j % STUDENTS]!.id}`, {
          offered: sent,
          sent,
          acked: performance.timeOrigin + timed.answeredAt[j]!,
          screen: null,
        });
      }
    // The timed check-ins on the clock of a .cpuprofile's startTime (CLOCK_MONOTONIC, µs), for
    // scripts/profile-top.ts --at: the server's profile otherwise also holds its start-up, the
    // connecting, the warm-up and the disconnecting.
    if (process.env['BENCH_CPU_PROF']) {
      process.stderr.write(`check-ins timed: --at ${monotonic0 / 1000n}-${process.hrtime.bigint() / 1000n}\n`);
    }
    const clientCpuMsPerCheckin = cpuMs(process.cpuUsage(client0)) / jobs.length;
    if (heapProfDir || gcStats) server.child.kill('SIGUSR2');
    await perf?.stop();
    const cpu1 = pid === undefined ? null : cpuSecondsOf(pid);
    const main1 = pid === undefined ? null : cpuSecondsOf(pid, 'main');
    const threads1 = pid === undefined ? null : cpuByThreadName(pid);
    // The server's own CPU time per check-in: what a busy machine changes least (the rates
    // above move with whatever else the cores are doing).
    const cpuMsPerCheckin = cpu0 === null || cpu1 === null ? null : ((cpu1 - cpu0) * 1000) / jobs.length;
    // The event loop's share alone: what work moved to other threads (WAL checkpoints) frees.
    const mainCpuMsPerCheckin = main0 === null || main1 === null ? null : ((main1 - main0) * 1000) / jobs.length;
    // The other threads by name, busiest first: the record writer's commits, the WAL
    // checkpointer's copies, and V8's and libuv's helpers together (Node names those "node").
    const otherThreadsMsPerCheckin = Object.entries(threadDelta(threads0, threads1) ?? {})
      .filter(([name, cpu]) => name !== 'main' && cpu > 0)
      .map(([name, cpu]): [string, number] => [name, (cpu * 1000) / jobs.length])
      .sort((a, b) => b[1] - a[1]);
    const deadline = Date.now() + 5_000;
    while (rosterLatency.length < jobs.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    rosterLatency.sort((a, b) => a - b);
    return {
      checkins: jobs.length,
      elapsed,
      errors,
      ackLatency,
      rosterLatency,
      rosterMessages,
      cpuMsPerCheckin,
      mainCpuMsPerCheckin,
      otherThreadsMsPerCheckin,
      clientCpuMsPerCheckin,
      clientGcCount,
      reader: clients.reader,
    };
  } finally {
    clients.close();
    await server.stop();
    bench.remove();
    // The node writes its stage times as it exits; the batch count includes the warm-up's.
    if (stagesDir && stagesFile) {
      for (const [key, at] of seenAt) {
        const g = generatorTimes.get(key);
        if (g) g.screen = at;
      }
      const table = stageTableText(stageTable(generatorTimes, [stagesFile]), batchSizes([stagesFile]));
      writeFileSync(path.join(stagesDir, 'bench-stages.md'), `${table}\n`);
      process.stdout.write(`== stages of a timed check-in (closed loop)\n${table}\n\n`);
    }
  }
}

/**
 * BENCH_PERF=FILE: samples every thread of the server (native frames too: SQLite, V8's garbage
 * collector and compilers, libuv) where --cpu-prof sees only each isolate's JavaScript.
 */
async function startPerf(pid: number): Promise<{ stop(): Promise<void> } | null> {
  const file = process.env['BENCH_PERF'];
  if (!file) return null;
  const perf = spawn('perf', ['record', '-F', '999', '-g', '-p', String(pid), '-o', file], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((resolve, reject) => {
    perf.once('error', reject);
    perf.once('exit', () => resolve());
  });
  // perf attaches to each thread before it samples: give it that time before the load starts.
  await Promise.race([exited, new Promise((r) => setTimeout(r, 500))]);
  return {
    async stop() {
      perf.kill('SIGINT');
      await exited;
    },
  };
}

/** The same traffic shape against a bare socket.io server (also a child process) that acknowledges at once. */
const ECHO_SERVER = `
import { createServer } from 'node:http';
import { Server } from 'socket.io';
const http = createServer();
const io = new Server(http, { serveClient: false });
io.on('connection', (s) => s.on('echo', (p, ack) => ack({ ok: true, data: p })));
http.listen(0, '127.0.0.1', () => console.log('listening on http://127.0.0.1:' + http.address().port));
`;

async function benchEcho(messages: number) {
  const server = await startBenchNode(root, process.env, { script: ['--input-type=module', '-e', ECHO_SERVER] });
  const clients = benchClients(CLIENT, LOCATION);
  try {
    await clients.connect(
      server.url,
      Array.from({ length: STUDENTS }, () => 'x'),
    );
    const echoTo = (j: number) => ({ socket: j % STUDENTS, sessionId: null });
    // The same warm-up as the service's: as many untimed messages as its untimed check-ins.
    await clients.run(WARMUP * STUDENTS, WINDOW, echoTo);
    const pid = server.child.pid;
    const cpu0 = pid === undefined ? null : cpuSecondsOf(pid);
    const clientGc = gcStats ? startGcCount() : null;
    const client0 = process.cpuUsage();
    const start = performance.now();
    const monotonic0 = process.hrtime.bigint();
    const timed = await clients.run(messages, WINDOW, echoTo);
    const elapsed = (performance.now() - start) / 1000;
    const clientGcCount = await clientGc?.stop();
    // The echo's timed messages on the same clock, for a profile of this process (the clients):
    // `node --cpu-prof --import tsx scripts/bench-checkins.ts`, then profile-top.ts --at each range.
    if (process.env['BENCH_CPU_PROF']) {
      process.stderr.write(`echo messages timed: --at ${monotonic0 / 1000n}-${process.hrtime.bigint() / 1000n}\n`);
    }
    const clientCpuMsPerMessage = cpuMs(process.cpuUsage(client0)) / messages;
    const cpu1 = pid === undefined ? null : cpuSecondsOf(pid);
    const cpuMsPerMessage = cpu0 === null || cpu1 === null ? null : ((cpu1 - cpu0) * 1000) / messages;
    return { elapsed, latency: latencies(timed), errors: timed.errors, cpuMsPerMessage, clientCpuMsPerMessage, clientGcCount };
  } finally {
    clients.close();
    await server.stop();
  }
}

const result = await benchAttendance();
const echo = await benchEcho(result.checkins);
const serviceRate = result.checkins / result.elapsed;
const echoRate = result.checkins / echo.elapsed;
process.stdout.write(
  [
    `students ${STUDENTS}, sessions ${SESSIONS}${WARMUP > 0 ? ` after ${WARMUP} of warm-up` : ''}, in flight ${WINDOW}, check-ins ${result.checkins}, errors ${result.errors}, client ${CLIENT}${NODE_FLAGS.length > 0 ? `, node flags ${NODE_FLAGS.join(' ')}` : ''}`,
    `attendance: ${fmt(serviceRate)} check-ins/s; ack p50 ${fmt(pct(result.ackLatency, 50))} ms, p99 ${fmt(pct(result.ackLatency, 99))} ms; roster update at teacher p50 ${fmt(pct(result.rosterLatency, 50))} ms, p99 ${fmt(pct(result.rosterLatency, 99))} ms (${result.rosterLatency.length} updates in ${result.rosterMessages} roster:updates messages)`,
    `server CPU per check-in: ${result.cpuMsPerCheckin === null ? 'n/a (no /proc)' : `${result.cpuMsPerCheckin.toFixed(3)} ms`}, of it the main thread ${result.mainCpuMsPerCheckin === null ? 'n/a' : `${result.mainCpuMsPerCheckin.toFixed(3)} ms`} (user + system, from /proc; 10 ms resolution over the run)`,
    `other threads per check-in, busiest first: ${
      result.otherThreadsMsPerCheckin.length === 0
        ? 'n/a'
        : result.otherThreadsMsPerCheckin.map(([name, ms]) => `${name} ${ms.toFixed(3)} ms`).join(', ')
    }`,
    `socket.io echo (same run, same client): ${fmt(echoRate)} msgs/s, errors ${echo.errors}; ack p50 ${fmt(pct(echo.latency, 50))} ms, p99 ${fmt(pct(echo.latency, 99))} ms; server CPU per message ${echo.cpuMsPerMessage === null ? 'n/a' : `${echo.cpuMsPerMessage.toFixed(3)} ms`}`,
    // The clients share the closed loop with the server: their time per message bounds the rate too.
    `client CPU (this process) per check-in ${result.clientCpuMsPerCheckin.toFixed(3)} ms, per echo message ${echo.clientCpuMsPerMessage.toFixed(3)} ms`,
    ...(result.clientGcCount && echo.clientGcCount
      ? [
          `client garbage (this process, BENCH_GC_STATS) per check-in ${clientGcText(result.clientGcCount, result.checkins)}; per echo message ${clientGcText(echo.clientGcCount, result.checkins)}`,
        ]
      : []),
    ...(CLIENT === 'lean'
      ? [
          `roster frames at the teacher: ${result.reader.frames} read, ${result.reader.checked} also parsed in full and compared, ${result.reader.parsedOnly} parsed in full only${result.reader.drift ? `; DRIFT: ${result.reader.drift}` : ''}`,
        ]
      : []),
    `ratio service / echo: ${(serviceRate / echoRate).toFixed(2)} (issue #20 target >= 0.5)`,
    '',
  ].join('\n'),
);

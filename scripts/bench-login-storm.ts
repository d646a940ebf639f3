/**
 * Login storm benchmark (not a test): the start of a class where the students who were not
 * logged in all log in at once while those already connected check in. One node (src/index.ts in
 * a child process, SQLite file, no face engine, no Redis) at a production-like BCRYPT_COST; a
 * session open with `--connected` students joined; then `--logins` other students POST
 * /api/v1/auth/login together while the connected ones send their check-ins spread over
 * `--spread-ms`, and a teacher socket sends a light command every 50 ms. Reported: login time
 * p50/p99/max and the answers by status (a BUSY answer is retried after its Retry-After, as a
 * patient client would, and counted), check-in acknowledgement p50/p99, the teacher's command
 * p99, and the node's event-loop delay over the storm (p99 and max, from its /metrics).
 *
 *   node --import tsx scripts/bench-login-storm.ts [--connected 300] [--logins 300] [--runs 1]
 *     [--spread-ms 10000] [--env KEY=VALUE ...] [--root OTHER_CHECKOUT]
 *
 * Loopback only, bounded (--timeout-s). --root runs another checkout's node (an A/B pair).
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import bcrypt from 'bcryptjs';
import type { Socket } from 'socket.io-client';
import { connectBench, emitAck, seedBenchClass, startBenchNode, BENCH_ROOM } from './lib/bench-node.js';
import {
  envPairs,
  stormOptions,
  openStormSession,
  probeTeacher,
  quantile,
  scrapeNode,
  stormDeadline,
  STORM_METRICS_TOKEN,
} from './lib/bench-storm.js';
import { repoRoot } from './lib/repo-root.js';
import { createSqliteStore } from '../src/store/sqlite/sqlite-store.js';

const { values: args } = parseArgs({
  options: {
    connected: { type: 'string', default: '300' },
    logins: { type: 'string', default: '300' },
    ...stormOptions({ spreadMs: 10_000, timeoutS: 300 }),
  },
});
if (args.help) {
  process.stdout.write(
    'usage: bench-login-storm.ts [--connected N] [--logins M] [--runs R] [--spread-ms MS] [--timeout-s S] [--env K=V ...] [--root DIR]\n',
  );
  process.exit(0);
}
const CONNECTED = Number(args.connected);
const LOGINS = Number(args.logins);
const RUNS = Number(args.runs);
const SPREAD_MS = Number(args['spread-ms']);
const PASSWORD = 'bench-password-1';
const PROBE_EVERY_MS = 50;
/** A BUSY login is retried at most this often, after the node's Retry-After. */
const MAX_RETRIES = 20;
const root = args.root ?? repoRoot(import.meta.url);
const extraEnv = envPairs(args.env as string[]);
const cost = Number(extraEnv['BCRYPT_COST'] ?? 12);

const sortedMs = (xs: number[]) => xs.sort((a, b) => a - b).map(Math.round);

interface StormResult {
  loginP50Ms: number;
  loginP99Ms: number;
  loginMaxMs: number;
  /** Final answers by status, and how many BUSY answers were retried on the way. */
  answers: Record<string, number>;
  busyRetries: number;
  checkinP50Ms: number;
  checkinP99Ms: number;
  checkinErrors: number;
  probeP99Ms: number;
  lagP99Ms: number;
  lagMaxMs: number;
  cpuS: number;
}

async function login(url: string, email: string): Promise<{ status: number; busy: number }> {
  let busy = 0;
  for (;;) {
    const res = await fetch(`${url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: PASSWORD, organisation: 'bench' }),
    });
    await res.arrayBuffer();
    if (res.status !== 503 || busy >= MAX_RETRIES) return { status: res.status, busy };
    busy += 1;
    await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after') ?? 1) * 1000));
  }
}

async function run(): Promise<StormResult> {
  const bench = await seedBenchClass('login-storm', CONNECTED + LOGINS, {
    METRICS_TOKEN: STORM_METRICS_TOKEN,
    BCRYPT_COST: String(cost),
    LOGIN_ADDRESS_PER_MINUTE: '100000',
    CHECKIN_RATE_PER_MINUTE: '600',
    ...extraEnv,
  });
  const connected = bench.students.slice(0, CONNECTED);
  const loggingIn = bench.students.slice(CONNECTED);
  // Every login student has the same password, hashed once here at the node's cost.
  const store = await createSqliteStore({ path: bench.dbPath });
  try {
    const hash = await bcrypt.hash(PASSWORD, cost);
    for (const s of loggingIn) await store.users.update(bench.org.id, s.id, { passwordHash: hash });
  } finally {
    await store.close();
  }
  const node = await startBenchNode(root, bench.env);
  const sockets: Socket[] = [];
  const clearDeadline = stormDeadline(Number(args['timeout-s']), node, sockets);
  try {
    const { teacher, sessionId } = await openStormSession(node, bench, sockets);
    const students = await connectBench(
      node.url,
      connected.map((s) => bench.tokens.signAccess(s).token),
      {
        into: sockets,
        then: async (s) => {
          const joined = await emitAck(s, 'session:join', { sessionId });
          if (!joined.ok) throw new Error(`session:join: ${JSON.stringify(joined)}`);
        },
      },
    );
    const before = await scrapeNode(node.url);
    const probe = probeTeacher(teacher, PROBE_EVERY_MS);

    const loginTimes: number[] = [];
    const answers: Record<string, number> = {};
    let busyRetries = 0;
    const logins = loggingIn.map(async (s) => {
      const t = performance.now();
      const { status, busy } = await login(node.url, s.email);
      loginTimes.push(performance.now() - t);
      answers[status] = (answers[status] ?? 0) + 1;
      busyRetries += busy;
    });
    const checkinTimes: number[] = [];
    let checkinErrors = 0;
    const checkins = students.map(async (s, i) => {
      await new Promise((r) => setTimeout(r, (i / Math.max(1, students.length)) * SPREAD_MS));
      const t = performance.now();
      // A socket dropped or an acknowledgement later than 10 s counts as an error, not a crash.
      const ack = await emitAck(s, 'checkin:submit', {
        sessionId,
        location: { lat: BENCH_ROOM.lat, lon: BENCH_ROOM.lon, accuracy: 15, timestamp: Date.now() },
      }).catch((err: unknown) => ({ ok: false as const, error: err }));
      checkinTimes.push(performance.now() - t);
      if (!ack.ok) checkinErrors += 1;
    });
    await Promise.all([...logins, ...checkins]);
    const p = sortedMs(await probe.stop());
    const after = await scrapeNode(node.url);
    const l = sortedMs(loginTimes);
    const c = sortedMs(checkinTimes);
    return {
      loginP50Ms: quantile(l, 0.5),
      loginP99Ms: quantile(l, 0.99),
      loginMaxMs: l[l.length - 1] ?? NaN,
      answers,
      busyRetries,
      checkinP50Ms: quantile(c, 0.5),
      checkinP99Ms: quantile(c, 0.99),
      checkinErrors,
      probeP99Ms: quantile(p, 0.99),
      lagP99Ms: Math.round(after.lagP99S * 1000),
      lagMaxMs: Math.round(after.lagMaxS * 1000),
      cpuS: Number((after.cpuS - before.cpuS).toFixed(1)),
    };
  } finally {
    clearDeadline();
    for (const s of sockets) s.disconnect();
    await node.stop();
    bench.remove();
  }
}

for (let i = 0; i < RUNS; i += 1) {
  const load = loadavg()[0]!.toFixed(1);
  const r = await run();
  process.stdout.write(
    `run ${i + 1} (load ${load}, cost ${cost}, ${CONNECTED} connected, ${LOGINS} logins, root ${root}): ${JSON.stringify(r)}\n`,
  );
}

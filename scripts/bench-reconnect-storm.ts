/**
 * Reconnect storm benchmark (not a test): what a node does when a whole school's phones
 * reconnect to it at once (their node died). N students are connected and joined to an open
 * session first; then all their sockets drop and N new ones connect at the same instant, each
 * resyncing as the student page does on every connect (`session:list-active` and `session:join`,
 * together). Reported: handshakes per second, the time until all are connected and resynced,
 * the node's CPU per reconnect and its event-loop delay over the storm (p99 and max, from its
 * /metrics), and the acknowledgement times of a teacher socket already connected that sends a
 * light command every 50 ms meanwhile (what the storm does to everyone else), and the handshakes
 * the node's admission check refused (`admission`, by reason; `refused.transport` on the clients).
 *
 *   node --import tsx scripts/bench-reconnect-storm.ts [--connections 2000] [--runs 1] [--spread-ms 0]
 *     [--cpu-prof DIR] [--env KEY=VALUE ...] [--root OTHER_CHECKOUT]
 *
 * --spread-ms: each phone waits a random time up to this before reconnecting (a client's
 * reconnection jitter), instead of all at once. Loopback only, bounded (--timeout-s). The node
 * is src/index.ts in a child process (SQLite file, no face engine, no Redis).
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { io as connect, type Socket } from 'socket.io-client';
import { connectBench, emitAck, seedBenchClass, startBenchNode } from './lib/bench-node.js';
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

const { values: args } = parseArgs({
  options: {
    connections: { type: 'string', default: '2000' },
    ...stormOptions({ spreadMs: 0, timeoutS: 180 }),
    /** Writes the node's CPU profile (.cpuprofile) here; scripts/profile-top.ts reads it. */
    'cpu-prof': { type: 'string' },
  },
});
if (args.help) {
  process.stdout.write(
    'usage: bench-reconnect-storm.ts [--connections N] [--runs R] [--spread-ms MS] [--timeout-s S] [--cpu-prof DIR] [--env K=V ...] [--root DIR]\n',
  );
  process.exit(0);
}
const N = Number(args.connections);
const RUNS = Number(args.runs);
const SPREAD_MS = Number(args['spread-ms']);
const PROBE_EVERY_MS = 50;
const root = args.root ?? repoRoot(import.meta.url);

interface Scrape {
  cpuS: number;
  lagP99S: number;
  lagMaxS: number;
  /** Handshakes the node's admission check refused, by reason (docs/limits.md, "Overload"). */
  admission: Record<string, number>;
}

async function scrape(url: string): Promise<Scrape> {
  const { text, ...times } = await scrapeNode(url);
  const admission: Record<string, number> = {};
  for (const m of text.matchAll(/^attendance_socket_admission_refusals_total\{reason="(\w+)"\} ([0-9.eE+-]+)$/gm))
    admission[m[1]!] = Number(m[2]);
  return { ...times, admission };
}

interface StormResult {
  connectedMs: number;
  resyncedMs: number;
  handshakesPerS: number;
  refused: Record<string, number>;
  /** The node's admission refusals during the storm, by reason (none on a node without the check). */
  admission: Record<string, number>;
  connectP50Ms: number;
  connectP99Ms: number;
  cpuMsPerReconnect: number;
  lagP99Ms: number;
  lagMaxMs: number;
  probeP99Ms: number;
  probeMaxMs: number;
  resyncBytes: number;
}

async function run(): Promise<StormResult> {
  const bench = await seedBenchClass('reconnect-storm', N, { METRICS_TOKEN: STORM_METRICS_TOKEN, ...envPairs(args.env as string[]) });
  const nodeArgs = args['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', args['cpu-prof']] : [];
  const node = await startBenchNode(root, bench.env, { nodeArgs });
  const sockets: Socket[] = [];
  const clearDeadline = stormDeadline(Number(args['timeout-s']), node, sockets);
  try {
    const { teacher, sessionId } = await openStormSession(node, bench, sockets);
    const tokens = bench.students.map((s) => bench.tokens.signAccess(s).token);
    const resync = async (s: Socket): Promise<number> => {
      const [list, join] = await Promise.all([emitAck(s, 'session:list-active', {}), emitAck(s, 'session:join', { sessionId })]);
      if (!list.ok || !join.ok) throw new Error(`resync: ${JSON.stringify(list.ok ? join : list)}`);
      return JSON.stringify(list.data).length + JSON.stringify(join.data).length;
    };
    const first = await connectBench(node.url, tokens, { into: sockets, then: async (s) => void (await resync(s)) });
    // The node dies for these phones: their sockets drop, and the node under test sees them go.
    for (const s of first) s.disconnect();
    await new Promise((r) => setTimeout(r, 2_000));

    const before = await scrape(node.url);
    const probe = probeTeacher(teacher, PROBE_EVERY_MS);

    const t0 = performance.now();
    const connectTimes: number[] = [];
    const refused: Record<string, number> = {};
    let connectedAt = 0;
    let resyncBytes = 0;
    const storm = tokens.map(async (token) => {
      if (SPREAD_MS > 0) await new Promise((r) => setTimeout(r, Math.random() * SPREAD_MS));
      const s = connect(node.url, { auth: { token }, transports: ['websocket'], forceNew: true, reconnectionDelayMax: 5_000 });
      sockets.push(s);
      const started = performance.now();
      await new Promise<void>((resolve) => {
        s.on('connect_error', (err: Error & { data?: { code?: string; details?: { retryAfterMs?: number } } }) => {
          const code = err.data?.code ?? 'transport';
          refused[code] = (refused[code] ?? 0) + 1;
          // As the page does: a coded refusal is retried after its hint (socket.io retries transport errors itself).
          if (err.data?.code) setTimeout(() => s.connect(), err.data.details?.retryAfterMs ?? 1_000);
        });
        s.once('connect', () => resolve());
      });
      connectTimes.push(performance.now() - started);
      connectedAt = Math.max(connectedAt, performance.now() - t0);
      const bytes = await resync(s);
      resyncBytes += bytes;
    });
    await Promise.all(storm);
    const resyncedMs = performance.now() - t0;
    const probeTimes = await probe.stop();
    const after = await scrape(node.url);
    connectTimes.sort((x, y) => x - y);
    return {
      connectedMs: Math.round(connectedAt),
      resyncedMs: Math.round(resyncedMs),
      handshakesPerS: Math.round((N / connectedAt) * 1000),
      refused,
      admission: Object.fromEntries(Object.entries(after.admission).map(([k, n]) => [k, n - (before.admission[k] ?? 0)])),
      connectP50Ms: Math.round(quantile(connectTimes, 0.5)),
      connectP99Ms: Math.round(quantile(connectTimes, 0.99)),
      cpuMsPerReconnect: Number((((after.cpuS - before.cpuS) * 1000) / N).toFixed(2)),
      lagP99Ms: Math.round(after.lagP99S * 1000),
      lagMaxMs: Math.round(after.lagMaxS * 1000),
      probeP99Ms: Math.round(quantile(probeTimes, 0.99)),
      probeMaxMs: Math.round(probeTimes[probeTimes.length - 1] ?? NaN),
      resyncBytes: Math.round(resyncBytes / N),
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
  process.stdout.write(`run ${i + 1} (load ${load}, ${N} phones, spread ${SPREAD_MS} ms): ${JSON.stringify(r)}\n`);
}

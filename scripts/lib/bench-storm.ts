import type { Socket } from 'socket.io-client';
import { connectBench, emitAck, type BenchClass, type BenchNode } from './bench-node.js';

/**
 * What the storm benchmarks (bench-login-storm, bench-reconnect-storm) share: their `--env`
 * pairs, the node's /metrics, the run's deadline, the teacher's open session, and the teacher's
 * light command timed all through the storm (what it does to everyone else).
 */

/** The node's metrics token in a storm benchmark (its environment's METRICS_TOKEN). */
export const STORM_METRICS_TOKEN = 'bench-metrics-token-0123456789';

/**
 * The options every storm benchmark takes, for node:util's parseArgs: `--runs`, `--spread-ms`,
 * `--timeout-s` (the bound of one run), `--env KEY=VALUE` for the node, `--root` (another
 * checkout's node, an A/B pair), `--help`.
 */
export function stormOptions(defaults: { spreadMs: number; timeoutS: number }) {
  return {
    runs: { type: 'string', default: '1' },
    'spread-ms': { type: 'string', default: String(defaults.spreadMs) },
    'timeout-s': { type: 'string', default: String(defaults.timeoutS) },
    env: { type: 'string', multiple: true, default: [] as string[] },
    root: { type: 'string' },
    help: { type: 'boolean', default: false },
  } as const;
}

/** `--env KEY=VALUE` pairs as an environment. */
export function envPairs(pairs: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    pairs.map((kv) => {
      const i = kv.indexOf('=');
      return [kv.slice(0, i), kv.slice(i + 1)];
    }),
  );
}

/** The node's CPU and event-loop delay so far, from its /metrics; `text` for anything else read from it. */
export interface NodeScrape {
  cpuS: number;
  lagP99S: number;
  lagMaxS: number;
  text: string;
}

export async function scrapeNode(url: string): Promise<NodeScrape> {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${STORM_METRICS_TOKEN}` } });
  const text = await res.text();
  const value = (name: string) => {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm').exec(text);
    if (!m) throw new Error(`/metrics has no ${name}`);
    return Number(m[1]);
  };
  return {
    cpuS: value('process_cpu_seconds_total'),
    lagP99S: value('nodejs_eventloop_lag_p99_seconds'),
    lagMaxS: value('nodejs_eventloop_lag_max_seconds'),
    text,
  };
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Past `timeoutS`, disconnects the sockets, stops the node and exits 2 (a bounded run); call the answer to clear it. */
export function stormDeadline(timeoutS: number, node: BenchNode, sockets: readonly Socket[]): () => void {
  const timer = setTimeout(() => {
    process.stderr.write(`timed out after ${timeoutS} s\n`);
    for (const s of sockets) s.disconnect();
    void node.stop().then(() => process.exit(2));
  }, timeoutS * 1000);
  return () => clearTimeout(timer);
}

/** Connects the class's teacher and opens a session of its subject (no checks: any check-in is accepted). */
export async function openStormSession(
  node: BenchNode,
  bench: BenchClass,
  sockets: Socket[],
): Promise<{ teacher: Socket; sessionId: string }> {
  const [teacher] = await connectBench(node.url, [bench.tokens.signAccess(bench.teacher).token], { into: sockets });
  const opened = await emitAck<{ id: string }>(teacher!, 'session:open', {
    subjectId: bench.subject.id,
    policy: { geofence: false, rotatingCode: false, network: false },
  });
  if (!opened.ok) throw new Error(`session:open: ${JSON.stringify(opened)}`);
  return { teacher: teacher!, sessionId: opened.data.id };
}

/**
 * Sends `session:list-active` from the teacher's socket every `everyMs` until stopped; `stop`
 * resolves to each answer's time in ms, sorted (one that failed is timed until it failed).
 */
export function probeTeacher(teacher: Socket, everyMs: number): { stop(): Promise<number[]> } {
  const times: number[] = [];
  let probing = true;
  const probe = (async () => {
    while (probing) {
      const t = performance.now();
      await emitAck(teacher, 'session:list-active', {}).catch(() => undefined);
      times.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      probing = false;
      await probe;
      return times.sort((a, b) => a - b);
    },
  };
}

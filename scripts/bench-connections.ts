/**
 * Connection memory benchmark (not a test): what each connected student socket costs one node.
 * N students connect over the websocket transport, each with its own access token and a phone
 * browser's upgrade headers (--bare-headers: Node's), and join an open session's room; the node's heap and RSS after a full GC, before and after, divided by N.
 *
 *   node --import tsx scripts/bench-connections.ts [--connections 2000] [--runs 1] [--parser json|msgpack]
 *
 * Loopback only, bounded (--timeout-s). The node is src/index.ts in a child process (SQLite
 * file, no face engine) so the clients' own memory is not counted; it is read through the
 * debug-only IPC probe of scripts/lib/memory-probe.ts. A warm-up round of other students
 * connects, joins and leaves first, so compiled code and lazily built tables are in the baseline.
 */
import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Socket } from 'socket.io-client';
import { connectBench, emitAck, seedBenchClass, startBenchNode } from './lib/bench-node.js';
import { readMemory, waitForHandles, type MemorySample } from './lib/memory-probe.js';
import { repoRoot } from './lib/repo-root.js';

const { values: args } = parseArgs({
  options: {
    connections: { type: 'string', default: '2000' },
    warmup: { type: 'string', default: '100' },
    runs: { type: 'string', default: '1' },
    'timeout-s': { type: 'string', default: '300' },
    /** Writes before.heapsnapshot and connected.heapsnapshot of each run here (Chrome DevTools reads them). */
    'heap-snapshots': { type: 'string' },
    /** Only the headers Node's websocket client sends, instead of a phone browser's. */
    'bare-headers': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stdout.write(
    'usage: bench-connections.ts [--connections N] [--warmup W] [--runs R] [--timeout-s S] [--heap-snapshots DIR] [--bare-headers]\n',
  );
  process.exit(0);
}
const N = Number(args.connections);
const WARMUP = Number(args.warmup);
const RUNS = Number(args.runs);
const root = repoRoot(import.meta.url);

/** What a phone's browser adds to the websocket upgrade (its Origin is set per run). */
const BROWSER_HEADERS = {
  'user-agent':
    'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.135 Mobile Safari/537.36',
  'accept-encoding': 'gzip, deflate, br, zstd',
  'accept-language': 'en-GB,en;q=0.9,pl;q=0.8',
  'cache-control': 'no-cache',
  pragma: 'no-cache',
};

interface RunResult {
  before: MemorySample;
  connected: MemorySample;
  after: MemorySample;
  connectMs: number;
}

const kb = (bytes: number) => (bytes / 1024).toFixed(2);

/** Connects and joins the session, a batch at a time (a lecture hall, not one burst of N handshakes). */
function connectAndJoin(url: string, tokens: readonly string[], sessionId: string | null, into: Socket[]): Promise<Socket[]> {
  return connectBench(url, tokens, {
    ...(args['bare-headers'] ? {} : { headers: { ...BROWSER_HEADERS, origin: url } }),
    into,
    then: async (s) => {
      if (!sessionId) return;
      const joined = await emitAck(s, 'session:join', { sessionId });
      if (!joined.ok) throw new Error(`session:join: ${joined.error.code}`);
    },
  });
}

async function oneRun(run: number): Promise<RunResult> {
  const bench = await seedBenchClass('bench-connections', N + WARMUP, { MEMORY_PROBE: '1' });
  const { teacher, students, subject, tokens } = bench;
  const node = await startBenchNode(root, bench.env, {
    nodeArgs: ['--expose-gc', '--import', path.join(root, 'scripts/lib/memory-probe.ts')],
    ipc: true,
  });
  const open: Socket[] = [];
  try {
    const url = node.url;
    const [teacherSocket] = await connectAndJoin(url, [tokens.signAccess(teacher).token], null, open);
    const opened = await emitAck<{ id: string }>(teacherSocket!, 'session:open', { subjectId: subject.id });
    if (!opened.ok) throw new Error(`session:open: ${opened.error.code}`);
    const sessionId = opened.data.id;
    const watched = await emitAck(teacherSocket!, 'session:watch', { sessionId });
    if (!watched.ok) throw new Error(`session:watch: ${watched.error.code}`);

    // Each with a login id, as a real login's token has: the socket also joins that login's room.
    const signed = students.map((s) => tokens.signAccess(s, randomUUID()).token);
    // The listening socket and the teacher's connection.
    const { tcpHandles: idle } = await readMemory(node.child, { collect: false });
    const warm = await connectAndJoin(url, signed.slice(N), sessionId, open);
    for (const s of warm) s.disconnect();
    await waitForHandles(node.child, idle);

    const snapshot = (name: string) =>
      args['heap-snapshots'] ? { snapshot: path.resolve(args['heap-snapshots'], `run${run}-${name}.heapsnapshot`) } : {};
    const before = await readMemory(node.child, snapshot('before'));
    const t0 = performance.now();
    const sockets = await connectAndJoin(url, signed.slice(0, N), sessionId, open);
    const connectMs = performance.now() - t0;
    const connected = await readMemory(node.child, snapshot('connected'));
    for (const s of sockets) s.disconnect();
    await waitForHandles(node.child, idle);
    const after = await readMemory(node.child, snapshot('after'));
    if (connected.tcpHandles < idle + N) throw new Error(`only ${connected.tcpHandles - idle} of ${N} connections open at the node`);
    process.stdout.write(
      `run ${run}: ${N} sockets in ${(connectMs / 1000).toFixed(1)} s; per connection heap ${kb((connected.heapUsed - before.heapUsed) / N)} KB, ` +
        `RSS ${kb((connected.rss - before.rss) / N)} KB, external ${kb((connected.external - before.external) / N)} KB; ` +
        `after disconnect heap +${kb(after.heapUsed - before.heapUsed)} KB\n`,
    );
    return { before, connected, after, connectMs };
  } finally {
    for (const s of open) s.disconnect();
    await node.stop();
    bench.remove();
  }
}

const deadline = setTimeout(
  () => {
    process.stderr.write(`bench-connections: over --timeout-s ${args['timeout-s']}, giving up\n`);
    process.exit(2);
  },
  Number(args['timeout-s']) * 1000,
);
deadline.unref();

const loadBefore = loadavg();
const results: RunResult[] = [];
for (let run = 1; run <= RUNS; run += 1) results.push(await oneRun(run));
const per = (f: (r: RunResult) => number) => results.map(f).map((v) => v / N / 1024);
const heap = per((r) => r.connected.heapUsed - r.before.heapUsed);
const rss = per((r) => r.connected.rss - r.before.rss);
const range = (xs: number[]) => `${Math.min(...xs).toFixed(2)} to ${Math.max(...xs).toFixed(2)}`;
process.stdout.write(
  [
    `connections ${N} (websocket${args['bare-headers'] ? '' : ', browser headers'}, each its own student, joined to one session's room), runs ${RUNS}`,
    `heap per connection: ${range(heap)} KB (issue #20 budget 12.7 KB); RSS per connection: ${range(rss)} KB`,
    `machine: ${cpus().length} cores, load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')} before, ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} after`,
    '',
  ].join('\n'),
);

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
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { io as connect, type Socket } from 'socket.io-client';
import { JwtTokenSigner } from '../src/adapters/jwt-token-signer.js';
import { loadConfig } from '../src/config.js';
import type { Ack } from '../src/shared/errors.js';
import { createSqliteStore } from '../src/store/sqlite/sqlite-store.js';
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
const SECRET = 'bench-secret-0123456789abcdef0123456789';
const BATCH = 50;
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

async function waitListening(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      const m = /listening on http:\/\/[^:]+:(\d+)/.exec(buf);
      if (m) {
        child.stdout?.off('data', onData);
        resolve(Number(m[1]));
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`node exited with ${code}: ${buf.slice(-500)}`)));
  });
}

function emitAck<T>(s: Socket, event: string, payload: unknown): Promise<Ack<T>> {
  return s.timeout(10_000).emitWithAck(event, payload) as Promise<Ack<T>>;
}

/** Connects and joins the session, BATCH at a time (a lecture hall, not one burst of N handshakes). */
async function connectAndJoin(url: string, tokens: readonly string[], sessionId: string | null): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let i = 0; i < tokens.length; i += BATCH) {
    const batch = tokens.slice(i, i + BATCH).map(async (token) => {
      const s = connect(url, {
        auth: { token },
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
        ...(args['bare-headers'] ? {} : { extraHeaders: { ...BROWSER_HEADERS, origin: url } }),
      });
      sockets.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once('connect', resolve);
        s.once('connect_error', reject);
      });
      if (sessionId) {
        const joined = await emitAck(s, 'session:join', { sessionId });
        if (!joined.ok) throw new Error(`session:join: ${joined.error.code}`);
      }
    });
    await Promise.all(batch);
  }
  return sockets;
}

async function oneRun(run: number): Promise<RunResult> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-connections-'));
  const dbPath = path.join(dir, 'bench.db');
  const env = {
    ...process.env,
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    SQLITE_PATH: dbPath,
    SEED_DEMO: 'false',
    JWT_SECRET: SECRET,
    FACE_ENABLED: 'false',
    // Every client is on loopback: one address, so the per-address handshake budget must hold N.
    SOCKET_CONNECT_RATE_PER_MINUTE: '1000000',
    MEMORY_PROBE: '1',
  };
  const config = loadConfig(env);
  const store = await createSqliteStore({ path: dbPath });
  const org = await store.organisations.create({ name: 'Bench', slug: 'bench', timezone: 'UTC' });
  const teacher = await store.users.create(org.id, {
    email: 't@bench',
    name: 'Teacher',
    role: 'teacher',
    studentNumber: null,
    passwordHash: null,
    active: true,
  });
  const students = await store.users.createMany(
    org.id,
    Array.from({ length: N + WARMUP }, (_, i) => ({
      email: `s${i}@bench`,
      name: `Student ${i}`,
      role: 'student' as const,
      studentNumber: `N${i}`,
      passwordHash: null,
      active: true,
    })),
  );
  const subject = await store.subjects.create(org.id, {
    code: 'B1',
    name: 'Bench',
    teacherIds: [teacher.id],
    location: { lat: 52.2297, lon: 21.0122, radiusM: 100 },
    allowedIpRanges: [],
  });
  await store.subjects.enrol(
    org.id,
    subject.id,
    students.map((s) => s.id),
  );
  await store.close();

  const node = spawn(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', '--import', path.join(root, 'scripts/lib/memory-probe.ts'), path.join(root, 'src/index.ts')],
    { env, stdio: ['ignore', 'pipe', 'inherit', 'ipc'], cwd: root },
  );
  const open: Socket[] = [];
  try {
    const port = await waitListening(node);
    const url = `http://127.0.0.1:${port}`;
    const tokens = new JwtTokenSigner(config.jwt);
    const [teacherSocket] = await connectAndJoin(url, [tokens.signAccess(teacher).token], null);
    open.push(teacherSocket!);
    const opened = await emitAck<{ id: string }>(teacherSocket!, 'session:open', { subjectId: subject.id });
    if (!opened.ok) throw new Error(`session:open: ${opened.error.code}`);
    const sessionId = opened.data.id;
    const watched = await emitAck(teacherSocket!, 'session:watch', { sessionId });
    if (!watched.ok) throw new Error(`session:watch: ${watched.error.code}`);

    // Each with a login id, as a real login's token has: the socket also joins that login's room.
    const signed = students.map((s) => tokens.signAccess(s, randomUUID()).token);
    // The listening socket and the teacher's connection.
    const { tcpHandles: idle } = await readMemory(node, { collect: false });
    const warm = await connectAndJoin(url, signed.slice(N), sessionId);
    for (const s of warm) s.disconnect();
    await waitForHandles(node, idle);

    const snapshot = (name: string) =>
      args['heap-snapshots'] ? { snapshot: path.resolve(args['heap-snapshots'], `run${run}-${name}.heapsnapshot`) } : {};
    const before = await readMemory(node, snapshot('before'));
    const t0 = performance.now();
    const sockets = await connectAndJoin(url, signed.slice(0, N), sessionId);
    open.push(...sockets);
    const connectMs = performance.now() - t0;
    const connected = await readMemory(node, snapshot('connected'));
    for (const s of sockets) s.disconnect();
    await waitForHandles(node, idle);
    const after = await readMemory(node, snapshot('after'));
    if (connected.tcpHandles < idle + N) throw new Error(`only ${connected.tcpHandles - idle} of ${N} connections open at the node`);
    process.stdout.write(
      `run ${run}: ${N} sockets in ${(connectMs / 1000).toFixed(1)} s; per connection heap ${kb((connected.heapUsed - before.heapUsed) / N)} KB, ` +
        `RSS ${kb((connected.rss - before.rss) / N)} KB, external ${kb((connected.external - before.external) / N)} KB; ` +
        `after disconnect heap +${kb(after.heapUsed - before.heapUsed)} KB\n`,
    );
    return { before, connected, after, connectMs };
  } finally {
    for (const s of open) s.disconnect();
    node.kill('SIGTERM');
    await new Promise((r) => node.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
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

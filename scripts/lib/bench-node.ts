/**
 * What the benchmarks (bench-checkins.ts, bench-connections.ts, bench-bulk.ts) and
 * test/integration/group-commit-durability.test.ts share: a class seeded into a store (a new
 * SQLite file for a node), the node (src/index.ts) started on it in a child process, and websocket
 * clients connected to it a batch at a time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { io as connect, type Socket } from 'socket.io-client';
import { JwtTokenSigner } from '../../src/adapters/jwt-token-signer.js';
import { loadConfig } from '../../src/config.js';
import type { Organisation } from '../../src/domain/ports/organisations.js';
import type { Store } from '../../src/domain/ports/store.js';
import type { Subject } from '../../src/domain/ports/subjects.js';
import type { User } from '../../src/domain/ports/users.js';
import type { Ack } from '../../src/shared/errors.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { SERVICE_NODE_FLAGS } from './service-node-flags.js';

const SECRET = 'bench-secret-0123456789abcdef0123456789';
/** Handshakes in flight at once: a lecture hall, not one burst of N. */
const CONNECT_BATCH = 50;
export const BENCH_ROOM = { lat: 52.2297, lon: 21.0122, radiusM: 100 };

export interface BenchClass {
  /** The node's environment (extend it before starting the node). */
  env: NodeJS.ProcessEnv;
  /** The SQLite file, for a test that reopens it once the node has stopped. */
  dbPath: string;
  org: Organisation;
  teacher: User;
  students: User[];
  subject: Subject;
  tokens: JwtTokenSigner;
  /** Removes the database's directory. */
  remove(): void;
}

/**
 * A new SQLite file with one organisation, a teacher and `students` students enrolled in one
 * subject, and the environment of a node on it (loopback, port 0, no face engine, no demo
 * data, any number of handshakes from one address).
 */
export async function seedBenchClass(name: string, students: number, env: Record<string, string> = {}): Promise<BenchClass> {
  const dir = mkdtempSync(path.join(tmpdir(), `${name}-`));
  const dbPath = path.join(dir, 'bench.db');
  const nodeEnv = {
    ...process.env,
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    SQLITE_PATH: dbPath,
    SEED_DEMO: 'false',
    JWT_SECRET: SECRET,
    FACE_ENABLED: 'false',
    // Every client is on loopback: one address, so the per-address handshake budget must hold them all.
    SOCKET_CONNECT_RATE_PER_MINUTE: '1000000',
    SOCKET_CONNECT_USER_RATE_PER_MINUTE: '1000000',
    ...env,
  };
  const store = await createSqliteStore({ path: dbPath });
  try {
    const { org, teacher, students: enrolled, subject } = await seedClass(store, students);
    return {
      env: nodeEnv,
      dbPath,
      org,
      teacher,
      students: enrolled,
      subject,
      tokens: new JwtTokenSigner(loadConfig(nodeEnv).jwt),
      remove: () => rmSync(dir, { recursive: true, force: true }),
    };
  } finally {
    await store.close();
  }
}

export interface SeededClass {
  org: Organisation;
  teacher: User;
  students: User[];
  subject: Subject;
}

/**
 * One organisation in `store`, a teacher and `students` students enrolled in one subject whose
 * classroom is BENCH_ROOM.
 */
export async function seedClass(store: Store, students: number): Promise<SeededClass> {
  const org = await store.organisations.create({ name: 'Bench', slug: 'bench', timezone: 'UTC' });
  const teacher = await store.users.create(org.id, {
    email: 't@bench',
    name: 'Teacher',
    role: 'teacher',
    studentNumber: null,
    passwordHash: null,
    active: true,
  });
  const enrolled = await store.users.createMany(
    org.id,
    Array.from({ length: students }, (_, i) => ({
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
    location: BENCH_ROOM,
    allowedIpRanges: [],
  });
  await store.subjects.enrol(
    org.id,
    subject.id,
    enrolled.map((s) => s.id),
  );
  return { org, teacher, students: enrolled, subject };
}

export interface BenchNode {
  child: ChildProcess;
  url: string;
  /** SIGTERM, resolved once the node has exited. */
  stop(): Promise<void>;
}

/**
 * Starts src/index.ts under tsx with `nodeArgs` (or `script`: node's arguments for another server
 * printing "listening on http://HOST:PORT") in a child process; resolves once it listens.
 */
export async function startBenchNode(
  root: string,
  env: NodeJS.ProcessEnv,
  opts: { nodeArgs?: string[]; ipc?: boolean; script?: string[] } = {},
): Promise<BenchNode> {
  // tsx first: a module imported by a later --import may be TypeScript.
  // The service's own node options first (what ships), so that a later one in nodeArgs overrides them.
  const args = [...SERVICE_NODE_FLAGS, ...(opts.script ?? ['--import', 'tsx', ...(opts.nodeArgs ?? []), path.join(root, 'src/index.ts')])];
  const child = spawn(process.execPath, args, {
    env,
    stdio: opts.ipc ? ['ignore', 'pipe', 'inherit', 'ipc'] : ['ignore', 'pipe', 'inherit'],
    cwd: root,
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  try {
    const port = await waitListening(child);
    return { child, url: `http://127.0.0.1:${port}`, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function waitListening(child: ChildProcess): Promise<number> {
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

export function emitAck<T>(s: Socket, event: string, payload: unknown): Promise<Ack<T>> {
  return s.timeout(10_000).emitWithAck(event, payload) as Promise<Ack<T>>;
}

/**
 * Connects one websocket client per token, CONNECT_BATCH at a time; `then` runs on each once
 * connected (a session:join), within its batch. Every socket made is pushed to `into` at once,
 * so the caller can disconnect them all even when one fails.
 */
export async function connectBench(
  url: string,
  tokens: readonly string[],
  opts: { headers?: Record<string, string>; then?: (s: Socket) => Promise<void>; into?: Socket[] } = {},
): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let i = 0; i < tokens.length; i += CONNECT_BATCH) {
    const batch = tokens.slice(i, i + CONNECT_BATCH).map(async (token) => {
      const s = connect(url, {
        auth: { token },
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
        ...(opts.headers ? { extraHeaders: opts.headers } : {}),
      });
      sockets.push(s);
      opts.into?.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once('connect', resolve);
        s.once('connect_error', reject);
      });
      await opts.then?.(s);
    });
    await Promise.all(batch);
  }
  return sockets;
}

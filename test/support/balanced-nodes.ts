/**
 * What the real-process fault tests share: a seeded class, two node processes (`a`, `b`) on one
 * SQLite file and the suite's Redis, a balancer in front, and a live session watched by two
 * teacher screens as the pages make them (the projector and the teacher's phone).
 */
import { expect } from 'chai';
import { seedBenchClass, startBenchNode, type BenchClass, type BenchNode } from '../../scripts/lib/bench-node.js';
import { repoRoot } from '../../scripts/lib/repo-root.js';
import type { AttendanceRecord } from '../../src/domain/ports/records.js';
import type { PolicyInput } from '../../src/shared/policy.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { startFailoverBalancer } from './failover-balancer.js';
import { screen, shownRoster, type AppSocket, type PageTransport } from './page-clients.js';
import type { RedisSuite } from './redis-server.js';
import { command, ok, pollUntil, waitFor } from './sockets.js';

const root = repoRoot(import.meta.url);

/** A balancer in front of the nodes' ports: the one with no stickiness (WebSocket clients) or a sticky one. */
export interface Balancer {
  port: number;
  readonly relayed: Map<number, number>;
  close(): Promise<void>;
}

export interface BalancedNodes<B extends Balancer> {
  bench: BenchClass;
  a: BenchNode;
  b: BenchNode;
  balancer: B;
  /** The balancer's address, for clients. */
  url: string;
  portOf(node: BenchNode): number;
  /** Sockets the describe's `after` disconnects. */
  keep(...sockets: AppSocket[]): void;
}

export interface WatchedSession {
  sessionId: string;
  /** The first screen through the balancer (on A), and the second (on B). */
  projector: ReturnType<typeof screen>;
  teacherPhone: ReturnType<typeof screen>;
}

/**
 * Registers the describe's `after` (nodes SIGKILLed if still running, sockets disconnected, the
 * balancer closed, the database removed) and answers a function that seeds `students` with
 * `env`, starts A and B and the balancer (the failover one unless `balance` says otherwise).
 */
export function useBalancedNodes(
  suite: RedisSuite,
): <B extends Balancer>(
  name: string,
  students: number,
  env: Record<string, string>,
  balance?: (ports: number[]) => Promise<B>,
) => Promise<BalancedNodes<B>> {
  let bench: BenchClass | null = null;
  const nodes: BenchNode[] = [];
  let balancer: Balancer | null = null;
  const sockets: AppSocket[] = [];
  after(async () => {
    // The nodes first: a hook cut short by its timeout must not leave them running.
    for (const n of nodes) {
      if (n.child.exitCode === null && n.child.signalCode === null) n.child.kill('SIGKILL');
    }
    for (const s of sockets) s.disconnect();
    await balancer?.close();
    bench?.remove();
  });
  return async <B extends Balancer>(
    name: string,
    students: number,
    env: Record<string, string>,
    balance?: (ports: number[]) => Promise<B>,
  ): Promise<BalancedNodes<B>> => {
    const seeded = await seedBenchClass(name, students, { ...env, REDIS_URL: suite.redis.url });
    bench = seeded;
    const [a, b] = await Promise.all(['a', 'b'].map((id) => startBenchNode(root, { ...seeded.env, NODE_ID: id })));
    nodes.push(a!, b!);
    const portOf = (n: BenchNode) => Number(new URL(n.url).port);
    const ports = [portOf(a!), portOf(b!)];
    const front = balance ? await balance(ports) : ((await startFailoverBalancer(ports)) as unknown as B);
    balancer = front;
    return {
      bench: seeded,
      a: a!,
      b: b!,
      balancer: front,
      url: `http://127.0.0.1:${front.port}`,
      portOf,
      keep: (...s) => sockets.push(...s),
    };
  };
}

/**
 * The projector, then the teacher's phone, connected through the balancer (taking turns, it puts
 * them on A and on B; a balancer hashing addresses puts each where its `from` address hashes), a
 * session opened with `policy` and watched by both.
 */
export async function openWatched<B extends Balancer>(
  nodes: BalancedNodes<B>,
  policy: PolicyInput,
  transport: PageTransport = 'websocket',
  from: [string, string] | [] = [],
): Promise<WatchedSession> {
  const { bench, url } = nodes;
  const token = () => bench.tokens.signAccess(bench.teacher).token;
  let sessionId: string | null = null;
  const projector = screen(url, token(), () => sessionId, transport, from[0]);
  nodes.keep(projector.socket);
  await waitFor(() => projector.socket.connected);
  const teacherPhone = screen(url, token(), () => sessionId, transport, from[1]);
  nodes.keep(teacherPhone.socket);
  await waitFor(() => teacherPhone.socket.connected);
  const sid = ok(await command(projector.socket, 'session:open', { subjectId: bench.subject.id, policy })).id;
  sessionId = sid;
  await Promise.all([projector.feed.watch(sid), teacherPhone.feed.watch(sid)]);
  return { sessionId: sid, projector, teacherPhone };
}

/** The session's records and its 'checkin.submit' audit entries, read from the nodes' file. */
export async function readSession(bench: BenchClass, sessionId: string): Promise<{ records: AttendanceRecord[]; submitted: number }> {
  const store = await createSqliteStore({ path: bench.dbPath });
  try {
    const records = await store.records.listBySession(bench.org.id, sessionId);
    const audit = await store.audit.listForSession(bench.org.id, sessionId);
    return { records, submitted: audit.filter((e) => e.action === 'checkin.submit').length };
  } finally {
    await store.close();
  }
}

/** Waits until both screens show the store's records (`status@version` per student), then asserts it. */
export async function expectScreensEqual(
  session: WatchedSession,
  records: readonly AttendanceRecord[],
  names: [string, string],
): Promise<void> {
  const truth = new Map(records.map((r) => [r.studentId, `${r.status}@${r.version}`]));
  const same = (m: Map<string, string>) => m.size === truth.size && [...m].every(([k, v]) => truth.get(k) === v);
  const { projector, teacherPhone } = session;
  await pollUntil(() => same(shownRoster(projector.feed)) && same(shownRoster(teacherPhone.feed)), 20_000, 50);
  expect(shownRoster(projector.feed), names[0]).to.deep.equal(truth);
  expect(shownRoster(teacherPhone.feed), names[1]).to.deep.equal(truth);
}

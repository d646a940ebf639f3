import { expect } from 'chai';
import path from 'node:path';
import { createOrg, createUser, PASSWORD } from './fixtures.js';
import { startNodes, type StartedNodes, type TestNode } from './nodes.js';
import { addressesSeen, proxyClients, type Answer, type Credentials, type ProxySocketOptions, type ProxyTarget } from './proxy-clients.js';
import { useRedis } from './redis-server.js';
import { skipBecause } from './skip.js';
import { command, ok, waitFor } from './sockets.js';

export interface ProxiedNodes<P> {
  /** Valid inside tests and hooks registered after useProxiedNodes, like the rest. */
  readonly cluster: StartedNodes;
  readonly proxy: P;
  /** A student of the nodes' organisation. */
  readonly student: Credentials;
  /** Clients through the proxy, disconnected after the suite. */
  readonly clients: ReturnType<typeof proxyClients>;
  /** The student's login through the proxy from `from`, with `password`. */
  login(from: string, password: string, headers?: Record<string, string>): Promise<Answer>;
  /** The student's access token, logged in through the proxy from `from`. */
  tokenFor(from: string): Promise<string>;
  /** The addresses each running node recorded for its own sockets. */
  addressesSeen(): ReturnType<typeof addressesSeen>;
}

/**
 * Mocha hooks of a suite running a reverse proxy (as deployed) in front of two nodes sharing
 * Redis and one SQLite file, each with `env`. Skips the suite, saying why, when `missing()` names
 * what is not installed. After the suite: clients disconnected, proxy stopped, nodes closed, in
 * that order, before Redis stops.
 */
export function useProxiedNodes<P extends { stop(): Promise<void> }>(
  name: string,
  opts: {
    missing: () => string | null;
    env: Record<string, string>;
    /** Before the nodes start (building pages the proxy serves). */
    prepare?: () => Promise<void>;
    start: (upstreams: string[]) => Promise<P>;
    target: (proxy: P) => ProxyTarget;
  },
): ProxiedNodes<P> {
  before(function () {
    const missing = opts.missing();
    if (missing) skipBecause(this, missing);
  });
  const suite = useRedis(name);
  let cluster: StartedNodes | null = null;
  let proxy: P | null = null;
  let student: Credentials | null = null;
  const started = <T>(value: T | null, what: string): T => {
    if (value === null) throw new Error(`useProxiedNodes: ${what} not started yet (read it inside a hook or test)`);
    return value;
  };
  const clients = proxyClients(() => opts.target(started(proxy, 'proxy')));

  before(async () => {
    await opts.prepare?.();
    cluster = await startNodes(2, { redisUrl: suite.redis.url, sqlitePath: path.join(suite.dir, 'attendance.db'), env: opts.env });
    proxy = await opts.start(cluster.nodes.map((n) => new URL(n.url).host));
    const org = await createOrg(cluster.nodes[0]!.store);
    student = { email: (await createUser(cluster.nodes[0]!.store, org.id, 'student')).email, password: PASSWORD };
  });
  suite.beforeStop(async () => {
    clients.disconnectAll();
    await proxy?.stop();
    await cluster?.cleanup();
  });

  return {
    get cluster() {
      return started(cluster, 'nodes');
    },
    get proxy() {
      return started(proxy, 'proxy');
    },
    get student() {
      return started(student, 'student');
    },
    clients,
    login: (from, password, headers = {}) => clients.login(from, { email: started(student, 'student').email, password }, { headers }),
    tokenFor: (from) => clients.tokenFor(from, started(student, 'student')),
    addressesSeen: () => addressesSeen(started(cluster, 'nodes').nodes),
  };
}

/**
 * The cases every proxy in front of two nodes passes, whatever its own (each proxy's test adds
 * those before): readiness, Socket.IO both ways, rate limits by the client's own address (the
 * nodes' HTTP_PUBLIC_RATE_PER_MINUTE at `publicPerMinute`), and last, as it kills a node, a socket
 * (`killedNodeSocket`) moving to the other node.
 */
export function proxiedNodesCases(
  fixture: ProxiedNodes<{ log(): string }>,
  opts: { socketIoTitle: string; publicPerMinute: number; killedNodeSocket: ProxySocketOptions },
): void {
  const { request, socketFrom, connected } = fixture.clients;

  it('answers /readyz through the proxy with every check of a node', async () => {
    const res = await request('127.0.0.2', '/readyz');
    expect(res.status, res.body).to.equal(200);
    const checks = JSON.parse(res.body) as Record<string, { ok: boolean }>;
    expect(checks['store']?.ok).to.equal(true);
    expect(checks['redis']?.ok).to.equal(true);
  });

  it(opts.socketIoTitle, async () => {
    const token = await fixture.tokenFor('127.0.0.3');
    const socket = socketFrom('127.0.0.3', token);
    await connected(socket);
    await waitFor(() => socket.io.engine.transport.name === 'websocket', 10_000);
    expect(ok(await command(socket, 'session:list-active', {}))).to.be.an('array');
    const direct = socketFrom('127.0.0.3', token, { transports: ['websocket'] });
    await connected(direct);
    expect(ok(await command(direct, 'session:list-active', {}))).to.be.an('array');
  });

  it('limits each client by its own address behind the proxy (one classroom does not exhaust another)', async () => {
    const perMinute = opts.publicPerMinute;
    // Failed logins from one phone, each forging another X-Forwarded-For: still one client.
    const answers: number[] = [];
    for (let i = 0; i <= perMinute; i += 1) {
      answers.push((await fixture.login('127.0.0.5', 'wrong-password', { 'x-forwarded-for': `203.0.113.${i + 1}` })).status);
    }
    expect(answers.slice(0, perMinute)).to.deep.equal(Array<number>(perMinute).fill(401));
    expect(answers[perMinute]).to.equal(429);
    // Another phone behind the same proxy still logs in.
    expect((await fixture.login('127.0.0.6', PASSWORD)).status).to.equal(200);
  });

  it('moves the clients of a killed node to the other: sockets reconnect, requests keep working', async () => {
    const token = await fixture.tokenFor('127.0.0.7');
    const socket = socketFrom('127.0.0.7', token, { ...opts.killedNodeSocket, reconnection: true });
    await connected(socket);
    await waitFor(() => socket.io.engine.transport.name === 'websocket', 10_000);
    const holder = (await fixture.addressesSeen()).find((s) => s.ip === '127.0.0.7')!.node;
    const victim: TestNode = fixture.cluster.nodes.find((n) => n.name === holder)!;
    const survivor = fixture.cluster.nodes.find((n) => n.name !== holder)!;

    const reconnected = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no reconnection through the proxy within 15 s:\n${fixture.proxy.log().slice(-2000)}`)),
        15_000,
      );
      socket.io.once('reconnect', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    await victim.kill();
    await reconnected;
    expect(ok(await command(socket, 'session:list-active', {}))).to.be.an('array');
    expect((await fixture.addressesSeen()).filter((s) => s.ip === '127.0.0.7').map((s) => s.node)).to.deep.equal([survivor.name]);
    const ready = await request('127.0.0.7', '/readyz');
    expect(ready.status, ready.body).to.equal(200);
  });
}

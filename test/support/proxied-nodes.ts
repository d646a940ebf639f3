import path from 'node:path';
import { createOrg, createUser, PASSWORD } from './fixtures.js';
import { startNodes, type StartedNodes } from './nodes.js';
import { addressesSeen, proxyClients, type Answer, type Credentials, type ProxyTarget } from './proxy-clients.js';
import { useRedis } from './redis-server.js';
import { skipBecause } from './skip.js';

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

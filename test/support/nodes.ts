import { randomBytes } from 'node:crypto';
import type { Socket as NetSocket } from 'node:net';
import { Redis } from 'ioredis';
import { createApplication, type Application } from '../../src/app.js';
import { createClusterDeps, type ClusterDeps } from '../../src/cluster/cluster-deps.js';
import { NODE_REGISTRY_KEY } from '../../src/cluster/node-registry.js';
import type { Config } from '../../src/config.js';
import type { FaceEngine } from '../../src/domain/face/face-engine.js';
import { createLogger } from '../../src/logger.js';
import { pino } from 'pino';
import { createStore } from '../../src/store/index.js';
import type { Store } from '../../src/domain/ports/store.js';
import { testMongoStoreConfig } from './ferretdb.js';
import { testConfig } from './http.js';

export interface TestNode {
  name: string;
  url: string;
  app: Application;
  store: Store;
  cluster: ClusterDeps;
  config: Config;
  /** True once killed or closed. */
  readonly down: boolean;
  /** True once killed (its node registry entry is left to age out). */
  readonly killed: boolean;
  /**
   * Dies without any goodbye, like a SIGKILLed process: TCP connections are destroyed (clients
   * see a transport close, no disconnect packet), Redis connections dropped, nothing drained.
   */
  kill(): Promise<void>;
  /** Graceful shutdown in the documented order. */
  close(): Promise<void>;
}

export interface StartedNodes {
  nodes: TestNode[];
  /** One JWT secret for all nodes, so any node accepts any token. */
  jwtSecret: string;
  cleanup(): Promise<void>;
}

/**
 * Starts n applications on port 0 behind one Redis and one SQLite file (WAL), or one MongoDB
 * database when `mongoUri` names one, each with its own store connection and its own Redis
 * clients, as separate processes would have.
 */
export async function startNodes(
  n: number,
  opts: {
    redisUrl: string;
    sqlitePath: string;
    mongoUri?: string;
    env?: Record<string, string>;
    /** Per node (by index), how far its clock is from the host's: the application's, the store's and the node registry's. */
    clockSkewMs?: number[];
    /**
     * Per node (by index), the application's clock alone (the store and the node registry keep the
     * host's, so the node's clock is not reported skewed): a test moves it to run a job early.
     */
    appClocks?: ((() => Date) | undefined)[];
    /** Per node (by index), its face engine; none by default. */
    faces?: (FaceEngine | undefined)[];
    /** Each node's log lines (JSON, level info and above), with its name; none kept by default. */
    log?: (node: string, line: string) => void;
  },
): Promise<StartedNodes> {
  const jwtSecret = randomBytes(32).toString('base64url');
  const nodes: TestNode[] = [];
  const cleanup = async () => {
    for (const node of nodes) if (!node.down) await node.close();
    // A killed node leaves its registry entry to age out (30 s), as a crashed process does; the
    // next test's nodes, with another secret, would wait to see whether it still runs.
    const killed = nodes.filter((n) => n.killed).map((n) => n.name);
    if (killed.length > 0) {
      const redis = new Redis(opts.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
      redis.on('error', () => undefined); // the rejection of connect() below says it
      const connected = await redis.connect().then(
        () => true,
        // The test stopped Redis: with no persistence, nothing of the killed nodes is left.
        () => false,
      );
      if (connected) await redis.hdel(NODE_REGISTRY_KEY, ...killed);
      redis.disconnect(false);
    }
  };
  try {
    for (let i = 0; i < n; i += 1) {
      nodes.push(
        await startNode(`node-${String.fromCharCode(65 + i)}`, jwtSecret, opts, opts.clockSkewMs?.[i] ?? 0, {
          clock: opts.appClocks?.[i],
          face: opts.faces?.[i],
        }),
      );
    }
  } catch (err) {
    await cleanup();
    throw err;
  }
  return { nodes, jwtSecret, cleanup };
}

async function startNode(
  name: string,
  jwtSecret: string,
  opts: {
    redisUrl: string;
    sqlitePath: string;
    mongoUri?: string;
    env?: Record<string, string>;
    log?: (node: string, line: string) => void;
  },
  skewMs: number,
  own: { clock: (() => Date) | undefined; face: FaceEngine | undefined },
): Promise<TestNode> {
  const config: Config = {
    ...testConfig({ JWT_SECRET: jwtSecret, REDIS_URL: opts.redisUrl, NODE_ID: name, ...opts.env }),
    store: opts.mongoUri ? testMongoStoreConfig(opts.mongoUri) : { kind: 'sqlite', path: opts.sqlitePath },
  };
  const log = opts.log;
  const logger = log ? pino({ level: 'info' }, { write: (line: string) => log(name, line) }) : createLogger('silent');
  const skewed = skewMs === 0 ? null : () => Date.now() + skewMs;
  const clock = skewed ? () => new Date(skewed()) : undefined;
  const store = await createStore(config.store, clock);
  let cluster: ClusterDeps;
  try {
    cluster = await createClusterDeps(config, logger, skewed ? { now: skewed } : {});
  } catch (err) {
    await store.close();
    throw err;
  }
  const appClock = own.clock ?? clock;
  const app = createApplication({
    config,
    store,
    logger,
    cluster,
    ...(appClock ? { clock: appClock } : {}),
    ...(own.face ? { face: own.face } : {}),
  });
  const connections = new Set<NetSocket>();
  app.httpServer.on('connection', (s: NetSocket) => {
    connections.add(s);
    s.once('close', () => connections.delete(s));
  });
  const address = await app.listen();
  let down = false;
  let killed = false;

  return {
    name,
    url: `http://127.0.0.1:${address.port}`,
    app,
    store,
    cluster,
    config,
    get down() {
      return down;
    },
    get killed() {
      return killed;
    },
    async kill() {
      if (down) return;
      down = true;
      killed = true;
      for (const s of connections) s.destroy();
      app.httpServer.close();
      app.realtime.io.engine.close();
      await app.attendance.scheduler.stop();
      await app.abandonedVerifications.stop();
      await cluster.closeAbruptly();
      await store.close();
    },
    async close() {
      if (down) return;
      down = true;
      await app.close();
      await cluster.close();
    },
  };
}

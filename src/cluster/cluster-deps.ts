import { createAdapter, createShardedAdapter } from '@socket.io/redis-adapter';
import { confirmingJoins } from './confirmed-joins.js';
import type { Redis } from 'ioredis';
import type { ServerOptions } from 'socket.io';
import type { Config } from '../config.js';
import type { LimiterBackend } from '../domain/limiters.js';
import type { ReadinessCheck } from '../shared/readiness.js';
import type { Logger } from '../logger.js';
import type { FanoutLink } from '../shared/fanout-link.js';
import { NodeRegistry, signingKeyFingerprint, type ClockReport } from './node-registry.js';
import { connectRedis, quitRedis, redactRedisUrl } from './redis.js';
import { RedisFanoutLink } from './fanout-link.js';
import { redisBackoffLimiter, redisRateLimiter } from './redis-rate-limiter.js';

/** What makes a node one of many (ApplicationDeps.cluster), plus the Redis clients' shutdown. */
export interface ClusterDeps {
  /** Up while broadcasts reach the other nodes; screens resync when it comes back. */
  fanoutLink: FanoutLink;
  /** Builds every limiter over Redis (the same settings table as in memory), so all nodes count against one budget. */
  limiters: LimiterBackend;
  socketAdapter: ServerOptions['adapter'];
  readinessChecks: ReadinessCheck[];
  /** This node's clock against Redis's and its peers' (docs/deploy.md, "The nodes' clocks disagree"). */
  clock(): ClockReport;
  /** Whether each of this node's Redis clients (pub, sub, data) is connected and ready. */
  status(): Record<string, boolean>;
  /** Quits Redis. Call after the application closed (socket.io's adapter unsubscribes first). */
  close(): Promise<void>;
  /** Drops the Redis connections at once, without QUIT (tests use it to play a crashed node). */
  closeAbruptly(): Promise<void>;
}

/** Readiness: Redis answers PING on the data connection and the adapter's subscriber is connected. */
export function redisCheck(url: string, data: Redis, sub: Redis): ReadinessCheck {
  return {
    name: 'redis',
    // Where Redis is (host, port, database) is the deployment's inside: the operator's detail,
    // never the public probe's facts.
    detail: { target: redactRedisUrl(url) },
    async run() {
      if (sub.status !== 'ready') throw new Error(`redis subscriber is ${sub.status}`);
      await data.ping();
    },
  };
}

/**
 * Readiness: this node's clock is not the odd one out. A node minutes off would close sessions
 * early or late, mark students late by the wrong time and refuse their codes and location fixes;
 * not ready, the balancer sends them to its peers.
 */
export function clockCheck(registry: NodeRegistry): ReadinessCheck {
  return {
    name: 'clock',
    detail: {
      get offsetMs() {
        return registry.clock().offsetMs;
      },
      get peers() {
        return registry.clock().peers;
      },
    },
    async run() {
      const { skewed, offsetMs } = registry.clock();
      if (skewed) throw new Error(`this node's clock is ${offsetMs} ms off Redis's and its peers': set up NTP`);
      return Promise.resolve();
    },
  };
}

/**
 * Connects this node's three Redis clients (throws RedisUnavailableError when Redis does not
 * answer) and builds the shared pieces.
 *
 * Adapter choice (docs/multi-node.md): by default the sharded adapter (Redis 7 SSUBSCRIBE) in
 * its "dynamic" mode, one channel per room, so a node receives only the broadcasts of rooms it
 * has sockets in. With the classic adapter (one PSUBSCRIBE pattern) every node receives and
 * decodes every broadcast, and every check-in makes two (roster + the student's decision).
 */
export async function createClusterDeps(config: Config, logger: Logger, host: { now?: () => number } = {}): Promise<ClusterDeps> {
  const url = config.redisUrl;
  if (!url) throw new Error('createClusterDeps needs config.redisUrl');
  const opts = { nodeId: config.nodeId, logger, commandTimeoutMs: config.redisCommandTimeoutMs };
  const clients: Redis[] = [];
  try {
    for (const role of ['pub', 'sub', 'data'] as const) clients.push(await connectRedis(url, role, opts));
  } catch (err) {
    for (const c of clients) c.disconnect(false);
    throw err;
  }
  const [pub, sub, data] = clients as [Redis, Redis, Redis];
  const registry = new NodeRegistry(data, {
    nodeId: config.nodeId,
    keyFingerprint: signingKeyFingerprint(config.jwt),
    logger: logger.child({ component: 'nodes' }),
    ...(host.now ? { now: host.now } : {}),
  });
  try {
    await registry.join();
  } catch (err) {
    for (const c of clients) c.disconnect(false);
    throw err;
  }
  const adapterLogger = logger.child({ component: 'adapter' });
  return {
    fanoutLink: new RedisFanoutLink(pub, sub, logger.child({ component: 'fanout' })),
    limiters: {
      rate: (opts) => redisRateLimiter(data, opts, config.rateLimitLocalShare),
      backoff: (opts) => redisBackoffLimiter(data, opts),
    },
    // A join answers once this node hears the room (confirmed-joins.ts).
    socketAdapter:
      config.redisAdapter === 'sharded'
        ? confirmingJoins(
            createShardedAdapter(pub, sub, { channelPrefix: 'attendance', subscriptionMode: 'dynamic' }),
            sub,
            'per-room',
            adapterLogger,
          )
        : confirmingJoins(createAdapter(pub, sub, { key: 'attendance' }), sub, 'at-start', adapterLogger),
    readinessChecks: [redisCheck(url, data, sub), clockCheck(registry)],
    clock: () => registry.clock(),
    status() {
      return { pub: pub.status === 'ready', sub: sub.status === 'ready', data: data.status === 'ready' };
    },
    async close() {
      await registry
        .leave()
        .catch((err: unknown) => logger.warn({ err }, 'could not remove this node from the node registry; it ages out'));
      await Promise.all(clients.map((c) => quitRedis(c)));
    },
    async closeAbruptly() {
      registry.stop();
      for (const c of clients) c.disconnect(false);
    },
  };
}

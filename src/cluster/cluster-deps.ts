import { createAdapter, createShardedAdapter } from '@socket.io/redis-adapter';
import type { Redis } from 'ioredis';
import type { ServerOptions } from 'socket.io';
import type { Config } from '../config.js';
import type { RateLimiter } from '../domain/rate-limiter.js';
import type { RateLimiterFactory } from '../domain/request-limits.js';
import { createLoginLimiters, type LoginLimiters } from '../domain/accounts/login-throttle.js';
import type { ReadinessCheck } from '../shared/readiness.js';
import type { Logger } from '../logger.js';
import type { FanoutLink } from '../shared/fanout-link.js';
import { connectRedis, quitRedis, redactRedisUrl } from './redis.js';
import { RedisFanoutLink } from './fanout-link.js';
import { redisBackoffLimiter, RedisRateLimiter } from './redis-rate-limiter.js';

/** The ApplicationDeps pieces that make a node one of many, plus the Redis clients' shutdown. */
export interface ClusterDeps {
  /** Up while broadcasts reach the other nodes; screens resync when it comes back. */
  fanoutLink: FanoutLink;
  submitLimiter: RateLimiter;
  loginLimiters: LoginLimiters;
  faceUploadLimiter: RateLimiter;
  /** Forgot-password emails per address, counted across nodes. */
  resetLimiter: RateLimiter;
  /** Builds the request-rate limiters over Redis, so every node counts against one budget. */
  rateLimiterFactory: RateLimiterFactory;
  socketAdapter: ServerOptions['adapter'];
  readinessChecks: ReadinessCheck[];
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
    facts: { target: redactRedisUrl(url) },
    async run() {
      if (sub.status !== 'ready') throw new Error(`redis subscriber is ${sub.status}`);
      await data.ping();
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
export async function createClusterDeps(config: Config, logger: Logger): Promise<ClusterDeps> {
  const url = config.redisUrl;
  if (!url) throw new Error('createClusterDeps needs config.redisUrl');
  const opts = { nodeId: config.nodeId, logger };
  const clients: Redis[] = [];
  try {
    for (const role of ['pub', 'sub', 'data'] as const) clients.push(await connectRedis(url, role, opts));
  } catch (err) {
    for (const c of clients) c.disconnect(false);
    throw err;
  }
  const [pub, sub, data] = clients as [Redis, Redis, Redis];
  return {
    fanoutLink: new RedisFanoutLink(pub, sub, logger.child({ component: 'fanout' })),
    submitLimiter: new RedisRateLimiter(data, { points: config.checkin.ratePerMinute, windowS: 60, keyPrefix: 'checkin' }),
    loginLimiters: createLoginLimiters(config.login, {
      rate: (opts) => new RedisRateLimiter(data, opts),
      backoff: (opts) => redisBackoffLimiter(data, opts),
    }),
    faceUploadLimiter: new RedisRateLimiter(data, { points: config.faceUploadsPerHour, windowS: 60 * 60, keyPrefix: 'face-upload' }),
    resetLimiter: new RedisRateLimiter(data, { points: config.accounts.resetEmailsPerHour, windowS: 60 * 60, keyPrefix: 'reset-mail' }),
    rateLimiterFactory: (opts) => new RedisRateLimiter(data, opts),
    socketAdapter:
      config.redisAdapter === 'sharded'
        ? createShardedAdapter(pub, sub, { channelPrefix: 'attendance', subscriptionMode: 'dynamic' })
        : createAdapter(pub, sub, { key: 'attendance' }),
    readinessChecks: [redisCheck(url, data, sub)],
    status() {
      return { pub: pub.status === 'ready', sub: sub.status === 'ready', data: data.status === 'ready' };
    },
    async close() {
      await Promise.all(clients.map((c) => quitRedis(c)));
    },
    async closeAbruptly() {
      for (const c of clients) c.disconnect(false);
    },
  };
}

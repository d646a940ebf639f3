import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../logger.js';

/**
 * Redis connections of one node. Three clients, because a subscribed connection can do nothing
 * else: `pub` and `sub` for the Socket.IO adapter, `data` for rate limits.
 */

/** Raised when Redis does not answer at start; index.ts prints it and exits 1. */
export class RedisUnavailableError extends Error {
  constructor(target: string, cause: unknown) {
    super(
      `cannot reach Redis at ${target}: ${cause instanceof Error ? cause.message : String(cause)}. ` +
        'REDIS_URL is set, so this node refuses to start without Redis (unset REDIS_URL to run a single node).',
    );
    this.name = 'RedisUnavailableError';
  }
}

/** How long the start-up connection may take before the node gives up. */
export const CONNECT_TIMEOUT_MS = 5_000;

/**
 * Reconnection back-off: 100 ms doubling to 2 s, forever. A node keeps serving HTTP and its own
 * sockets while Redis is away; readiness reports it down so the balancer can react.
 */
export function retryDelay(attempt: number): number {
  return Math.min(100 * 2 ** Math.max(0, attempt - 1), 2_000);
}

/** `redis://user:secret@host:6379/0` → `redis://host:6379/0`: safe to log. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '(unparseable REDIS_URL)';
  }
}

export type RedisRole = 'pub' | 'sub' | 'data';

/**
 * Per-command retry budgets. Adapter clients queue commands while reconnecting without limit
 * (`null`): the adapter publishes without catching, so a rejected PUBLISH would be an unhandled
 * rejection, and a short Redis restart should delay fan-out rather than drop it (while the link
 * is known to be down, broadcasts stay on the node instead: src/realtime/fanout.ts). The data
 * client gives a command about 10 s of reconnect attempts, then fails it; rate limits fall back
 * to counting in memory meanwhile.
 */
const MAX_RETRIES: Record<RedisRole, number | null> = { pub: null, sub: null, data: 8 };

/** The data client's bound on one command when no option says otherwise (REDIS_COMMAND_TIMEOUT_MS). */
export const COMMAND_TIMEOUT_MS = 1_000;

/**
 * `commandTimeoutMs` bounds the data client's commands. A Redis that hangs (a stopped process, a
 * stalled host) keeps its connections open, so nothing fails: without a bound, a rate-limit count
 * waited for Redis, and the check-in behind it went unanswered until Redis came back. Timed out,
 * the count falls back to the node's in-memory window like a refused one. The adapter's clients
 * get none: their publishes are not awaited and would reject unhandled; they are simply late.
 */
export function redisOptions(role: RedisRole, nodeId: string, commandTimeoutMs = COMMAND_TIMEOUT_MS): RedisOptions {
  return {
    ...(role === 'data' ? { commandTimeout: commandTimeoutMs } : {}),
    lazyConnect: true,
    connectionName: `attendance:${nodeId}:${role}`,
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: MAX_RETRIES[role],
    retryStrategy: retryDelay,
    // The adapter's subscriptions come back by themselves after a reconnect.
    autoResubscribe: true,
    enableReadyCheck: true,
    // A hard disconnect (Redis unreachable at shutdown) waits this long for the socket to close
    // before destroying it; ioredis' 2 s default held the process open after everything else.
    disconnectTimeout: 300,
  };
}

/**
 * Connects one client, failing fast: if Redis does not answer within `timeoutMs`, the client is
 * disconnected (no background retries) and RedisUnavailableError is thrown. After a successful
 * start, connection errors are logged (once per outage, never the URL's credentials) and the
 * client reconnects with `retryDelay`.
 */
export async function connectRedis(
  url: string,
  role: RedisRole,
  opts: { nodeId: string; logger: Logger; timeoutMs?: number; commandTimeoutMs?: number },
): Promise<Redis> {
  const target = redactRedisUrl(url);
  const client = new Redis(url, redisOptions(role, opts.nodeId, opts.commandTimeoutMs));
  const log = opts.logger.child({ component: 'redis', role, target });
  let down = false;
  let started = false;
  let lastError: Error | null = null;
  // Without an 'error' listener ioredis prints every failed attempt to stderr.
  client.on('error', (err: Error) => {
    lastError = err;
    if (down || !started) return;
    down = true;
    log.warn({ err: { message: err.message, code: (err as NodeJS.ErrnoException).code } }, 'redis connection lost; reconnecting');
  });
  client.on('ready', () => {
    if (down) log.info('redis connection restored');
    down = false;
  });

  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${opts.timeoutMs ?? CONNECT_TIMEOUT_MS} ms`)),
          opts.timeoutMs ?? CONNECT_TIMEOUT_MS,
        );
      }),
    ]);
    await client.ping();
  } catch (err) {
    client.disconnect(false);
    // ioredis rejects with "Connection is closed"; the socket error says why (ECONNREFUSED...).
    throw new RedisUnavailableError(target, lastError ?? err);
  } finally {
    clearTimeout(timer);
  }
  down = false;
  started = true;
  return client;
}

/** Closes a client: QUIT when connected (pending replies arrive first), otherwise a hard disconnect. */
export async function quitRedis(client: Redis): Promise<void> {
  if (client.status === 'ready') {
    try {
      await client.quit();
      return;
    } catch {
      // QUIT failed because the connection died meanwhile; disconnect below ends the retries.
    }
  }
  client.disconnect(false);
}

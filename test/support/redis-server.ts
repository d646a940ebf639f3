import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { onFreePort } from '../../scripts/lib/ports.js';
import { redisReady } from '../../scripts/lib/redis-ready.js';
import { skipBecause } from './skip.js';

export interface TestRedis {
  url: string;
  /** True when this helper started the server (restart() needs that). */
  owned: boolean;
  /** Stops the server abruptly (SIGKILL): an outage, not a shutdown. */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty: no persistence); no-op while it runs. */
  start(): Promise<void>;
  /** kill() then start(). */
  restart(): Promise<void>;
  /**
   * Hangs the server (SIGSTOP) without closing a connection: commands are sent and wait for an
   * answer instead of failing, as a Redis host that stalls does. `resume()` continues it (SIGCONT).
   */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

/** Whether the tests can have a Redis: REDIS_URL is set, or a redis-server binary is on PATH. */
export function redisAvailable(): boolean {
  if (process.env['REDIS_URL']) return true;
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * A redis-server of the test's own on a free loopback port, without persistence. With
 * REDIS_URL set, that server is used instead (and kill/restart are unavailable).
 */
export async function startRedisServer(): Promise<TestRedis> {
  const external = process.env['REDIS_URL'];
  if (external) {
    const unsupported = () => Promise.reject(new Error('cannot restart an external REDIS_URL server'));
    const cannot = () => {
      throw new Error('cannot pause an external REDIS_URL server');
    };
    return {
      url: external,
      owned: false,
      kill: unsupported,
      start: unsupported,
      restart: unsupported,
      pause: cannot,
      resume: cannot,
      stop: async () => {},
    };
  }
  let port = 0;
  let child: ChildProcess | null = null;

  const start = async () => {
    // Already running: starting again would orphan it behind a second server that cannot bind.
    if (child && child.exitCode === null && child.signalCode === null) return;
    const proc = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'notice'],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    child = proc;
    await redisReady(proc);
  };
  const kill = async () => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null) return;
    const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGKILL');
    await gone;
  };

  const signal = (name: 'SIGSTOP' | 'SIGCONT') => {
    if (!child || child.exitCode !== null) throw new Error(`redis-server is not running (${name})`);
    child.kill(name);
  };

  // Never leave a server behind, even when the test process dies before the suite's `after`.
  const onExit = () => child?.kill('SIGKILL');
  process.once('exit', onExit);
  // The port is named before redis-server binds it: another may take it first (scripts/lib/ports.ts).
  await onFreePort(async (free) => {
    port = free;
    await start();
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    owned: true,
    kill,
    start,
    async restart() {
      await kill();
      await start();
    },
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    async stop() {
      process.off('exit', onExit);
      await kill();
    },
  };
}

export interface RedisSuite {
  /** The suite's Redis; valid inside tests and hooks registered after useRedis. */
  readonly redis: TestRedis;
  /** A temporary folder of the suite (SQLite files shared by its nodes), removed after it. */
  readonly dir: string;
  /**
   * Runs `fn` after the suite, before Redis stops: nodes must quit Redis while it still answers
   * (mocha runs `after` hooks in the order they were declared, and this one is declared first).
   */
  beforeStop(fn: () => Promise<void> | void): void;
}

/**
 * Mocha hooks for a suite that needs Redis: skips it, saying why, when there is no
 * redis-server (CI installs one), else starts one and a temporary folder before the suite and
 * removes both after it.
 */
export function useRedis(name: string): RedisSuite {
  let redis: TestRedis | null = null;
  let dir = '';
  const first: Array<() => Promise<void> | void> = [];
  before(function () {
    if (!redisAvailable()) {
      skipBecause(this, 'redis-server is not installed and REDIS_URL is not set (CI installs redis-server)');
    }
  });
  before(async () => {
    redis = await startRedisServer();
    dir = mkdtempSync(path.join(tmpdir(), `${name}-`));
  });
  after(async () => {
    for (const fn of first) await fn();
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return {
    beforeStop(fn) {
      first.push(fn);
    },
    get redis() {
      if (!redis) throw new Error('useRedis: Redis is not started yet (read it inside a hook or test)');
      return redis;
    },
    get dir() {
      return dir;
    },
  };
}

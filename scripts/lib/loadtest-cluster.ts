import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { SERVICE_NODE_FLAGS } from './service-node-flags.js';

/** One node process started by the load generator. */
export interface NodeProcess {
  name: string;
  url: string;
  child: ChildProcess;
  /** Resident set size in bytes, read from /proc (Linux); NaN elsewhere. */
  rss(): number;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export function rssOf(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : Number.NaN;
  } catch {
    // Not Linux, or the process is gone: the report prints n/a.
    return Number.NaN;
  }
}

async function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const hard = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(hard);
}

async function waitReady(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`node at ${url} exited with ${child.exitCode}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) return;
    } catch {
      // Not listening yet: poll again.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`node at ${url} not ready within ${timeoutMs} ms`);
}

/**
 * Starts `src/index.ts` as a child process on a free loopback port and waits for /healthz
 * (Redis is connected by then: a node that cannot reach it exits). `cpuProfDir`: the node runs
 * under `--cpu-prof` and writes its .cpuprofile there (Node's name: date, time, pid) when it
 * exits after SIGTERM. `nodeFlags`: node's own options before the script (V8's garbage collector
 * and thread pool settings, compared with scripts/loadtest.ts --node-flags), after the service's
 * own (SERVICE_NODE_FLAGS), so that they override those.
 */
export async function startNodeProcess(
  root: string,
  name: string,
  env: Record<string, string>,
  cpuProfDir: string | null = null,
  nodeFlags: readonly string[] = [],
  /** Modules imported before the service, after tsx (so they may be TypeScript). */
  preloads: readonly string[] = [],
): Promise<NodeProcess> {
  const port = await freePort();
  const profile = cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] : [];
  const imports = preloads.flatMap((p) => ['--import', p]);
  const child = spawn(
    process.execPath,
    [...SERVICE_NODE_FLAGS, ...nodeFlags, ...profile, '--import', 'tsx', ...imports, path.join(root, 'src/index.ts')],
    {
      cwd: root,
      env: { ...process.env, ...env, HOST: '127.0.0.1', PORT: String(port), NODE_ID: name },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitReady(url, child, 30_000);
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  // Writing a profile or the stage times of a long run takes a few seconds after the shutdown
  // (more on a busy machine): no SIGKILL meanwhile.
  const writesAtExit = cpuProfDir !== null || env['CHECKIN_STAGES_FILE'] !== undefined;
  return { name, url, child, rss: () => rssOf(child.pid), stop: () => stopChild(child, writesAtExit ? 60_000 : 5_000) };
}

/**
 * Waits for /readyz to answer 200: with FACE_ENABLED the models load after /healthz is up, and
 * selfies sent before would measure the model loading.
 */
export async function waitReadyz(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.ok) return;
      last = `${res.status} ${await res.text()}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    // Each refusal is a warning in the node's log: poll slowly.
    await new Promise((r) => setTimeout(r, 1_000));
  }
  throw new Error(`${url}/readyz not ready within ${timeoutMs} ms (last: ${last})`);
}

/** A redis-server of the load test's own, without persistence, on a free loopback port. */
export async function startRedis(): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (err) => reject(new Error(`cannot start redis-server (${err.message}); pass --redis URL`)));
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
  failed.catch(() => undefined);
  const deadline = Date.now() + 5_000;
  for (;;) {
    const up = await Promise.race([
      failed,
      new Promise<boolean>((resolve) => {
        const s = net.connect(port, '127.0.0.1');
        s.once('connect', () => {
          s.destroy();
          resolve(true);
        });
        s.once('error', () => resolve(false));
      }),
    ]);
    if (up) break;
    if (Date.now() > deadline) {
      await stopChild(child);
      throw new Error('redis-server did not start within 5 s');
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `redis://127.0.0.1:${port}`, stop: () => stopChild(child, 1_000) };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

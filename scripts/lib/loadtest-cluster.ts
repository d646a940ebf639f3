import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { onFreePort } from './ports.js';
import { redisReady } from './redis-ready.js';
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

/**
 * Waits for the node's /healthz or its end, whichever comes: no timer, so a loaded machine's slow
 * start is waited for (a node that hangs is seen at the terminal and stopped there).
 */
async function waitReady(url: string, child: ChildProcess, said: () => string): Promise<void> {
  // A program that took the port first may accept the request and never answer: the node's end
  // cancels that request, so its refusal is seen. 'close', not 'exit': by then all it said on
  // stderr has been read.
  const ended = new AbortController();
  const onClose = () => ended.abort();
  child.once('close', onClose);
  try {
    for (;;) {
      if (ended.signal.aborted) throw new Error(`node at ${url} exited with ${child.exitCode}: ${said()}`);
      try {
        const res = await fetch(`${url}/healthz`, { signal: ended.signal });
        if (res.ok) return;
      } catch {
        // Not listening yet, or it exited: the loop says which.
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    child.off('close', onClose);
  }
}

/**
 * Starts `src/index.ts` as a child process on a free loopback port and waits for /healthz
 * (Redis is connected by then: a node that cannot reach it exits). The port is named before the
 * node binds it, so another program may take it first: the node refuses that port and is started
 * again on another (ports.ts). `cpuProfDir`: the node runs under `--cpu-prof` and writes its
 * .cpuprofile there (Node's name: date, time, pid) when it exits after SIGTERM. `nodeFlags`:
 * node's own options before the script (V8's garbage collector and thread pool settings, compared
 * with scripts/loadtest.ts --node-flags), after the service's own (SERVICE_NODE_FLAGS), so that
 * they override those.
 */
export function startNodeProcess(...start: NodeStart): Promise<NodeProcess> {
  return onFreePort((port) => startNodeOn(port, ...start));
}

/** What startNodeProcess is given (see there). */
type NodeStart = [
  root: string,
  name: string,
  env: Record<string, string>,
  cpuProfDir?: string | null,
  nodeFlags?: readonly string[],
  /** Modules imported before the service, after tsx (so they may be TypeScript). */
  preloads?: readonly string[],
];

/** startNodeProcess on a port already chosen; rejects with the node's refusal when it is taken. */
export async function startNodeOn(
  port: number,
  ...[root, name, env, cpuProfDir = null, nodeFlags = [], preloads = []]: NodeStart
): Promise<NodeProcess> {
  const profile = cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] : [];
  const imports = preloads.flatMap((p) => ['--import', p]);
  const child = spawn(
    process.execPath,
    [...SERVICE_NODE_FLAGS, ...nodeFlags, ...profile, '--import', 'tsx', ...imports, path.join(root, 'src/index.ts')],
    {
      cwd: root,
      env: { ...process.env, ...env, HOST: '127.0.0.1', PORT: String(port), NODE_ID: name },
      stdio: ['ignore', 'inherit', 'pipe'],
    },
  );
  // Its errors still reach the terminal; the last of them also name why a start failed.
  let said = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    said = (said + chunk.toString()).slice(-4_096);
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitReady(url, child, () => said);
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

/**
 * A redis-server of the load test's own, without persistence, on a free loopback port (started
 * again on another when one is taken before it binds, ports.ts).
 */
export function startRedis(): Promise<{ url: string; stop(): Promise<void> }> {
  return onFreePort(async (port) => {
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    try {
      await redisReady(child);
    } catch (err) {
      // Never spawned (no redis-server): there is no process to stop.
      if (child.pid !== undefined) await stopChild(child, 1_000);
      if ((err as Error).message.startsWith('cannot start redis-server'))
        throw new Error(`${(err as Error).message}; pass --redis URL`, { cause: err });
      throw err;
    }
    return { url: `redis://127.0.0.1:${port}`, stop: () => stopChild(child, 1_000) };
  });
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

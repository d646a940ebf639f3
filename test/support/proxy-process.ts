import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import tls from 'node:tls';

/**
 * Replaces exactly one match of `pattern` in the text of `file` (a deployed configuration), so a
 * change to the deployed file fails loudly here rather than testing something else.
 */
export function replaceOnce(file: string, text: string, pattern: RegExp, by: string, what: string): string {
  const flags = pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`;
  const found = text.match(new RegExp(pattern.source, flags)) ?? [];
  if (found.length !== 1) throw new Error(`${file}: expected one ${what}, found ${found.length}`);
  return text.replace(pattern, by);
}

export interface ProxyProcess {
  /** What the proxy printed so far, then its log file's text when it has one. */
  log(): string;
  /** Stops the proxy, waits for it to exit and removes its folder. */
  stop(): Promise<void>;
}

/**
 * Spawns a reverse proxy (nginx, Caddy) whose files are all in `dir`, and waits until a TLS
 * handshake verified against `ca()` (read again on each try: Caddy writes its root late)
 * succeeds for each of `names` on `httpsPort`. If it exits first or is not serving within
 * `withinMs`, it is stopped, `dir` removed, and the error carries its log.
 */
export async function startProxyProcess(opts: {
  /** For messages: `nginx`, `caddy`. */
  name: string;
  bin: string;
  args: string[];
  dir: string;
  env?: NodeJS.ProcessEnv;
  /** A log the proxy writes to a file rather than to its output. */
  logFile?: string;
  stopSignal: NodeJS.Signals;
  httpsPort: number;
  names: string[];
  ca: () => string;
  withinMs: number;
  retryMs: number;
}): Promise<ProxyProcess & { ca: string }> {
  const child: ChildProcess = spawn(opts.bin, opts.args, {
    cwd: opts.dir,
    ...(opts.env ? { env: opts.env } : {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  let exited = false;
  // A handshake in flight is cut when the proxy exits: the port may be another program's that
  // accepts and never answers (the proxy exits for want of it), and the wait would never end.
  const gone = new AbortController();
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      gone.abort();
      resolve();
    }),
  );
  const { logFile } = opts;
  const log = () => out + (logFile && existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  const stop = async () => {
    if (!exited) child.kill(opts.stopSignal);
    await exit;
    rmSync(opts.dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + opts.withinMs;
  for (;;) {
    if (exited) {
      const why = log();
      await stop();
      throw new Error(`${opts.name} exited before serving:\n${why}`);
    }
    try {
      const ca = opts.ca();
      for (const name of opts.names) await handshake(opts.httpsPort, ca, name, gone.signal, deadline);
      return { ca, log, stop };
    } catch (err) {
      if (Date.now() > deadline) {
        const why = log();
        await stop();
        throw new Error(`${opts.name} did not serve HTTPS within ${opts.withinMs / 1_000} s (${(err as Error).message}):\n${why}`, {
          cause: err,
        });
      }
      await new Promise((r) => setTimeout(r, opts.retryMs));
    }
  }
}

/** A verified TLS handshake with `name` on `port`; fails when `cut` aborts or at `deadline` (Date.now() time). */
function handshake(port: number, ca: string, name: string, cut: AbortSignal, deadline: number): Promise<void> {
  // No SNI for an address, as browsers send none; the name is still checked against the certificate.
  const servername = /^[\d.]+$|:/.test(name) ? '' : name;
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      { host: '127.0.0.1', port, ca, servername, checkServerIdentity: (_h, cert) => tls.checkServerIdentity(name, cert) },
      () => {
        done();
        socket.end();
        resolve();
      },
    );
    const fail = (err: Error) => {
      done();
      socket.destroy();
      reject(err);
    };
    const onCut = () => fail(new Error('the proxy exited during the handshake'));
    const timer = setTimeout(() => fail(new Error(`no TLS handshake on port ${port} by the deadline`)), Math.max(0, deadline - Date.now()));
    const done = () => {
      clearTimeout(timer);
      cut.removeEventListener('abort', onCut);
    };
    if (cut.aborted) return onCut();
    cut.addEventListener('abort', onCut, { once: true });
    socket.once('error', fail);
  });
}

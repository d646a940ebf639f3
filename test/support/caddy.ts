import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { REPO_ROOT } from './run-node.js';

/**
 * The Caddy the tests run: CADDY_BIN, else `caddy` on PATH (scripts/test-setup.sh installs
 * Debian's 2.6; the compose file's caddy:2 image is the newest 2.x, and CADDY_BIN points the
 * tests at a build of it, e.g. `go install github.com/caddyserver/caddy/v2/cmd/caddy@v2.11.9`).
 */
export const CADDY = process.env['CADDY_BIN'] ?? 'caddy';

export function caddyAvailable(): boolean {
  return spawnSync(CADDY, ['version'], { stdio: 'ignore' }).status === 0;
}

export interface TestCaddy {
  httpsPort: number;
  httpPort: number;
  /** The local CA's root certificate (PEM), as devices install it. */
  rootPem: string;
  /** The Caddyfiles as run, for a failing assertion's message. */
  files: Record<string, string>;
  /** What Caddy logged so far. */
  log(): string;
  stop(): Promise<void>;
}

/** Replaces exactly one match of `pattern`, so a change to the deployed file fails loudly here. */
function replaceOnce(text: string, pattern: RegExp, by: string, what: string): string {
  const found = text.match(new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`)) ?? [];
  if (found.length !== 1) throw new Error(`deploy/caddy: expected one ${what}, found ${found.length}`);
  return text.replace(pattern, by);
}

/**
 * Runs deploy/caddy/lan.Caddyfile (with proxy.caddy) as the compose file does, changed only where
 * Docker differs from one test machine: the replicas are `upstreams` instead of the compose
 * service's DNS name, the ports are free high ones instead of 80/443, the admin endpoint is off
 * (several runs at once), and the CA lives in a temporary data folder instead of /data.
 */
export async function startLanCaddy(opts: {
  upstreams: string[];
  siteAddress: string;
  httpPort: number;
  httpsPort: number;
}): Promise<TestCaddy> {
  const dir = mkdtempSync(path.join(tmpdir(), 'caddy-test-'));
  const dataHome = path.join(dir, 'data');
  mkdirSync(dataHome);
  const source = (name: string) => readFileSync(path.join(REPO_ROOT, 'deploy/caddy', name), 'utf8');
  const proxy = replaceOnce(source('proxy.caddy'), /dynamic a \{[^}]*\}/, `to ${opts.upstreams.join(' ')}`, '`dynamic a` upstream block');
  let lan = replaceOnce(
    source('lan.Caddyfile'),
    /^\tskip_install_trust$/m,
    `\tskip_install_trust\n\tadmin off\n\thttp_port ${opts.httpPort}\n\thttps_port ${opts.httpsPort}`,
    'skip_install_trust global option',
  );
  lan = replaceOnce(lan, /\/data\/caddy\/pki/, path.join(dataHome, 'caddy/pki'), 'root certificate folder');
  writeFileSync(path.join(dir, 'proxy.caddy'), proxy);
  writeFileSync(path.join(dir, 'lan.Caddyfile'), lan);

  const child: ChildProcess = spawn(CADDY, ['run', '--config', 'lan.Caddyfile', '--adapter', 'caddyfile'], {
    cwd: dir,
    env: { ...process.env, HOME: dir, XDG_DATA_HOME: dataHome, XDG_CONFIG_HOME: path.join(dir, 'config'), SITE_ADDRESS: opts.siteAddress },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const stop = async () => {
    if (!exited) child.kill('SIGTERM');
    await exit;
    rmSync(dir, { recursive: true, force: true });
  };

  const rootFile = path.join(dataHome, 'caddy/pki/authorities/local/root.crt');
  const deadline = Date.now() + 20_000;
  let rootPem: string;
  // Ready once a TLS handshake verified against the local CA's root succeeds for every site
  // address: Caddy issues each name's certificate on its own, the root first.
  const names = opts.siteAddress.split(',').map((n) => n.trim());
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`caddy exited before serving:\n${out}`);
    }
    try {
      rootPem = readFileSync(rootFile, 'utf8');
      for (const name of names) await handshake(opts.httpsPort, rootPem, name);
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`caddy did not serve HTTPS within 20 s (${(err as Error).message}):\n${out}`, { cause: err });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    httpsPort: opts.httpsPort,
    httpPort: opts.httpPort,
    rootPem,
    files: { 'lan.Caddyfile': lan, 'proxy.caddy': proxy },
    log: () => out,
    stop,
  };
}

function handshake(port: number, ca: string, name: string): Promise<void> {
  // No SNI for an address, as browsers send none; the name is still checked against the certificate.
  const servername = /^[\d.]+$|:/.test(name) ? '' : name;
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      { host: '127.0.0.1', port, ca, servername, checkServerIdentity: (_h, cert) => tls.checkServerIdentity(name, cert) },
      () => {
        socket.end();
        resolve();
      },
    );
    socket.once('error', reject);
  });
}

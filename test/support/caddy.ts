import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { replaceOnce as replaceText, startProxyProcess } from './proxy-process.js';
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

const replaceOnce = (text: string, pattern: RegExp, by: string, what: string) => replaceText('deploy/caddy', text, pattern, by, what);

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

  const rootFile = path.join(dataHome, 'caddy/pki/authorities/local/root.crt');
  const started = await startProxyProcess({
    name: 'caddy',
    bin: CADDY,
    args: ['run', '--config', 'lan.Caddyfile', '--adapter', 'caddyfile'],
    dir,
    env: { ...process.env, HOME: dir, XDG_DATA_HOME: dataHome, XDG_CONFIG_HOME: path.join(dir, 'config'), SITE_ADDRESS: opts.siteAddress },
    stopSignal: 'SIGTERM',
    httpsPort: opts.httpsPort,
    // Ready once a TLS handshake verified against the local CA's root succeeds for every site
    // address: Caddy issues each name's certificate on its own, the root first.
    names: opts.siteAddress.split(',').map((n) => n.trim()),
    ca: () => readFileSync(rootFile, 'utf8'),
    withinMs: 20_000,
    retryMs: 100,
  });
  return {
    httpsPort: opts.httpsPort,
    httpPort: opts.httpPort,
    rootPem: started.ca,
    files: { 'lan.Caddyfile': lan, 'proxy.caddy': proxy },
    log: started.log,
    stop: started.stop,
  };
}

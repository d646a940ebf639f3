import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { replaceOnce as replaceText, startProxyProcess } from './proxy-process.js';
import { REPO_ROOT } from './run-node.js';

/**
 * The nginx the tests run: NGINX_BIN, else `nginx` on PATH, else Debian's /usr/sbin/nginx (not on
 * a normal user's PATH). scripts/test-setup.sh installs Debian's package.
 */
export function nginxBinary(): string | null {
  const candidates = [process.env['NGINX_BIN'], 'nginx', '/usr/sbin/nginx'].filter((c): c is string => Boolean(c));
  for (const bin of candidates) if (spawnSync(bin, ['-v'], { stdio: 'ignore' }).status === 0) return bin;
  return null;
}

/** deploy/nginx/attendance.conf as docs/deploy.md shows it ("Several nodes without Docker", step 4). */
export const NGINX_CONF = path.join(REPO_ROOT, 'deploy/nginx/attendance.conf');

export interface TestNginx {
  httpPort: number;
  httpsPort: number;
  /** The self-signed certificate nginx serves (PEM), the only one the test clients trust. */
  certPem: string;
  /** The configuration under test as run (in `http`), for a failing assertion's message. */
  conf: string;
  /** nginx's error log so far. */
  log(): string;
  stop(): Promise<void>;
}

const replaceOnce = (text: string, pattern: RegExp, by: string, what: string) => replaceText('deploy/nginx', text, pattern, by, what);

/** Where the test's certificate and key are, for the configuration under test. */
export interface NginxPaths {
  cert: string;
  key: string;
}

/**
 * deploy/nginx/attendance.conf as a school's /etc/nginx/conf.d file, changed only where one test
 * machine differs from the school's server: the nodes are `upstreams` instead of ports 3001 and
 * 3002, nginx listens on free loopback ports instead of 80 and 443, and the certificate is the
 * test's.
 */
export function siteConf(opts: { upstreams: string[]; httpPort: number; httpsPort: number }, paths: NginxPaths): string {
  let conf = readFileSync(NGINX_CONF, 'utf8');
  const upstream = /(upstream attendance \{[^}]*?\n)(\s*server 127\.0\.0\.1:3001;\n\s*server 127\.0\.0\.1:3002;\n)/;
  conf = replaceOnce(
    conf,
    upstream,
    `$1${opts.upstreams.map((u) => `    server ${u};\n`).join('')}`,
    'upstream block with servers 127.0.0.1:3001 and :3002',
  );
  conf = replaceOnce(conf, /listen 80;/, `listen 127.0.0.1:${opts.httpPort};`, '`listen 80;`');
  conf = replaceOnce(conf, /listen 443 ssl;/, `listen 127.0.0.1:${opts.httpsPort} ssl;`, '`listen 443 ssl;`');
  conf = replaceOnce(conf, /\/etc\/attendance\/fullchain\.pem/, paths.cert, 'certificate path');
  return replaceOnce(conf, /\/etc\/attendance\/site\.key/, paths.key, 'key path');
}

/** deploy/nginx/path-prefix.conf as docs/deploy.md shows it ("Under a path of an existing site"). */
export const NGINX_PREFIX_CONF = path.join(REPO_ROOT, 'deploy/nginx/path-prefix.conf');

/**
 * deploy/nginx/path-prefix.conf put where docs/deploy.md says: its `map` in `http`, the rest in
 * the HTTPS server block of the school's existing site (here a bare one for `name`), with the
 * node at `upstream` instead of 127.0.0.1:3000.
 */
export function pathPrefixConf(opts: { upstream: string; name: string; httpsPort: number }, paths: NginxPaths): string {
  const text = readFileSync(NGINX_PREFIX_CONF, 'utf8');
  const map = /^map [^\n]*\n/m;
  const mapLine = map.exec(text)?.[0];
  if (!mapLine) throw new Error('deploy/nginx/path-prefix.conf: expected a `map` line');
  // The URI part of proxy_pass (its trailing slash strips the prefix) is kept as written.
  const proxyPass = /proxy_pass http:\/\/127\.0\.0\.1:3000(\/?);/;
  const locations = replaceOnce(text.replace(map, ''), proxyPass, `proxy_pass http://${opts.upstream}$1;`, 'proxy_pass to 127.0.0.1:3000');
  const indented = locations.trim().replace(/^/gm, '    ');
  return `${mapLine}
server {
    listen 127.0.0.1:${opts.httpsPort} ssl;
    server_name ${opts.name};
    ssl_certificate     ${paths.cert};
    ssl_certificate_key ${paths.key};
    # The school's own site, outside the prefix.
    location / { return 404; }
${indented}
}
`;
}

/**
 * Runs `conf(paths)` (siteConf or pathPrefixConf) with a self-signed certificate made here for
 * `names`, inside a main configuration like Debian's /etc/nginx/nginx.conf (conf.d included in
 * `http`, with Debian's default site answering any other name on the HTTP port), whose paths are
 * in a temporary folder so several runs can coexist and no root is needed.
 */
export async function startNginx(opts: {
  names: string[];
  httpPort: number;
  httpsPort: number;
  conf: (paths: NginxPaths) => string;
}): Promise<TestNginx> {
  const bin = nginxBinary();
  if (!bin) throw new Error('nginx is not installed');
  const dir = mkdtempSync(path.join(tmpdir(), 'nginx-test-'));
  try {
    return await launch(bin, dir, opts);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

async function launch(
  bin: string,
  dir: string,
  opts: { names: string[]; httpPort: number; httpsPort: number; conf: (paths: NginxPaths) => string },
): Promise<TestNginx> {
  const cert = path.join(dir, 'fullchain.pem');
  const key = path.join(dir, 'site.key');
  const san = opts.names.map((n) => (/^[\d.]+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  const made = spawnSync(
    'openssl',
    // prettier-ignore
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
      '-subj', `/CN=${opts.names[0]}`, '-addext', `subjectAltName=${san}`, '-keyout', key, '-out', cert],
    { encoding: 'utf8' },
  );
  if (made.status !== 0) throw new Error(`openssl could not make the test certificate: ${made.stderr}`);
  const conf = opts.conf({ cert, key });
  writeFileSync(path.join(dir, 'attendance.conf'), conf);

  const temp = path.join(dir, 'temp');
  mkdirSync(temp);
  const errorLog = path.join(dir, 'error.log');
  // Workers run as the user starting the test (as root, nginx would otherwise switch them to
  // `nobody`, who cannot write this folder).
  const main = `
${process.getuid?.() === 0 ? `user ${userInfo().username};` : ''}
daemon off;
worker_processes 1;
pid ${path.join(dir, 'nginx.pid')};
error_log ${errorLog} info;
events { worker_connections 512; }
http {
    access_log off;
    client_body_temp_path ${temp}/body;
    proxy_temp_path ${temp}/proxy;
    fastcgi_temp_path ${temp}/fastcgi;
    uwsgi_temp_path ${temp}/uwsgi;
    scgi_temp_path ${temp}/scgi;
    include ${path.join(dir, 'attendance.conf')};
    # Debian's /etc/nginx/sites-enabled/default, enabled by the package: it answers every name
    # that no other server on the HTTP port lists.
    server {
        listen 127.0.0.1:${opts.httpPort} default_server;
        server_name _;
        return 404;
    }
}
`;
  writeFileSync(path.join(dir, 'nginx.conf'), main);

  const started = await startProxyProcess({
    name: 'nginx',
    bin,
    args: ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', errorLog],
    dir,
    logFile: errorLog,
    // SIGQUIT: the graceful stop, which waits for the worker; SIGTERM would leave it running a moment.
    stopSignal: 'SIGQUIT',
    httpsPort: opts.httpsPort,
    names: [opts.names[0]!],
    ca: () => readFileSync(cert, 'utf8'),
    withinMs: 10_000,
    retryMs: 50,
  });
  return { httpPort: opts.httpPort, httpsPort: opts.httpsPort, certPem: started.ca, conf, log: started.log, stop: started.stop };
}

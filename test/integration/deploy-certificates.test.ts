import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startTestServer, type TestServer } from '../support/http.js';
import { REPO_ROOT } from '../support/run-node.js';
import { skipBecause } from '../support/skip.js';

/**
 * docs/deploy.md, "One school server without Docker", step 1 run as written: the openssl commands
 * make a school root and a site certificate, and a node given them (step 2's TLS_CERT_FILE and
 * TLS_KEY_FILE) is trusted by a device that installed only the root, under each name the
 * certificate lists.
 */
function certificateSteps(): string {
  const doc = readFileSync(path.join(REPO_ROOT, 'docs/deploy.md'), 'utf8');
  const section = doc.slice(doc.indexOf('### One school server without Docker'));
  const block = /```sh\n([^]*?)```/.exec(section)?.[1];
  if (!block || !block.includes('openssl req -x509')) throw new Error('deploy.md: no openssl block in step 1');
  return block;
}

describe("deploy.md's school CA steps (openssl)", function () {
  this.timeout(30_000);
  let dir: string;
  let server: TestServer;

  before(async function () {
    if (spawnSync('openssl', ['version'], { stdio: 'ignore' }).status !== 0) skipBecause(this, 'openssl is not installed');
    dir = mkdtempSync(path.join(tmpdir(), 'deploy-certs-'));
    const run = spawnSync('bash', ['-euo', 'pipefail', '-c', certificateSteps()], { cwd: dir, encoding: 'utf8' });
    expect(run.status, run.stderr).to.equal(0);
    server = await startTestServer({ TLS_CERT_FILE: path.join(dir, 'fullchain.pem'), TLS_KEY_FILE: path.join(dir, 'site.key') });
  });
  after(async () => {
    await server?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** GET /healthz as a device that trusts only school-root.crt, opening `name`. */
  function get(name: string): Promise<{ status: number; hsts: unknown }> {
    const port = Number(new URL(server.baseUrl).port);
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port,
          path: '/healthz',
          ca: readFileSync(path.join(dir, 'school-root.crt')),
          // The name the device opened, checked against the certificate (no SNI for an address).
          servername: /^[\d.]+$/.test(name) ? '' : name,
          checkServerIdentity: (_host, cert) => tls.checkServerIdentity(name, cert),
          headers: { host: name },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, hsts: res.headers['strict-transport-security'] }));
        },
      );
      req.once('error', reject);
      req.end();
    });
  }

  it('a device with the root installed trusts the node under the DNS name and the address', async () => {
    for (const name of ['attendance.school.lan', '192.168.1.10']) {
      const res = await get(name);
      expect(res.status, name).to.equal(200);
    }
    expect((await get('attendance.school.lan')).hsts).to.equal('max-age=31536000');
  });

  it('refuses any other name, and a device without the root', async () => {
    let refused: Error | null = null;
    await get('other.school.lan').catch((err: Error) => (refused = err));
    expect(refused, 'a name the certificate does not list').to.not.equal(null);
    const port = Number(new URL(server.baseUrl).port);
    const untrusted = await new Promise<Error | null>((resolve) => {
      const req = https.request({ host: '127.0.0.1', port, path: '/healthz', servername: 'attendance.school.lan' }, (res) => {
        res.resume();
        resolve(null);
      });
      req.once('error', resolve);
      req.end();
    });
    expect(untrusted?.message).to.match(/certificate/);
  });
});

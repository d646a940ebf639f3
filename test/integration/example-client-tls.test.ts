import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createSelfSignedCertificate } from '../../src/tls/self-signed.js';
import { runNode } from '../support/run-node.js';

// An operator trying README's example client against their own HTTPS deployment, whose
// certificate is signed by the school's own root, read only "cannot reach ... (fetch failed)":
// the certificate problem was in the error's cause, and nothing said what to do.
describe("README's example client against a server whose certificate Node does not trust", function () {
  this.timeout(60_000);
  let dir: string;
  let certFile: string;
  let server: https.Server;
  let url: string;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'example-client-tls-'));
    const cert = createSelfSignedCertificate({ names: ['127.0.0.1'] });
    certFile = path.join(dir, 'school-root.crt');
    writeFileSync(certFile, cert.cert);
    // Enough of the service to tell a trusted connection from a refused one: every login fails.
    server = https.createServer({ cert: cert.cert, key: cert.key }, (_req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'INVALID_CREDENTIALS', message: 'Wrong email or password.' } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  function run(env: NodeJS.ProcessEnv) {
    return runNode(['--import', 'tsx', 'scripts/example-client.ts', '--url', url], { env });
  }

  it('names the certificate problem and NODE_EXTRA_CA_CERTS', async () => {
    const env = { ...process.env };
    delete env['NODE_EXTRA_CA_CERTS'];
    const res = await run(env);
    expect(res.code, res.out).to.equal(1);
    expect(res.stderr).to.contain('self-signed certificate');
    expect(res.stderr).to.contain("Node does not trust the server's certificate");
    expect(res.stderr).to.contain('NODE_EXTRA_CA_CERTS=');
  });

  it('with the root given to Node, it gets through to the server', async () => {
    const res = await run({ ...process.env, NODE_EXTRA_CA_CERTS: certFile });
    expect(res.code, res.out).to.equal(1);
    expect(res.stderr).to.contain('INVALID_CREDENTIALS');
    expect(res.stderr).to.not.contain('certificate');
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createSelfSignedCertificate, type Certificate } from '../../src/tls/self-signed.js';
import { startTestServer, type TestServer } from '../support/http.js';

const HOST = 'attendance.school.example';

/** GET over TLS to 127.0.0.1 as if to `host` (SNI and Host header), trusting `ca` only. */
function get(
  srv: TestServer,
  host: string,
  pathname: string,
  ca: string,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const port = Number(new URL(srv.baseUrl).port);
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path: pathname,
        servername: host,
        headers: { host: `${host}:${port}` },
        ca,
        checkServerIdentity: () => undefined,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('the node serving HTTPS itself', () => {
  let dir: string;
  let cert: Certificate;
  let withFiles: TestServer;
  let selfSigned: TestServer;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'https-server-'));
    cert = createSelfSignedCertificate({ names: [HOST, 'localhost'] });
    writeFileSync(path.join(dir, 'cert.pem'), cert.cert);
    writeFileSync(path.join(dir, 'key.pem'), cert.key);
    withFiles = await startTestServer({ TLS_CERT_FILE: path.join(dir, 'cert.pem'), TLS_KEY_FILE: path.join(dir, 'key.pem') });
    selfSigned = await startTestServer({ TLS_SELF_SIGNED: 'true' });
  });
  after(async () => {
    await withFiles?.cleanup();
    await selfSigned?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers over TLS with its certificate, the API and the Socket.IO handshake included', async () => {
    const health = await get(withFiles, HOST, '/healthz', cert.cert);
    expect(health.status).to.equal(200);
    const socket = await get(withFiles, HOST, '/socket.io/?EIO=4&transport=polling', cert.cert);
    expect(socket.body).to.match(/^0\{"sid"/);
  });

  it('sends HSTS with a real certificate, except to loopback names', async () => {
    expect((await get(withFiles, HOST, '/healthz', cert.cert)).headers['strict-transport-security']).to.equal('max-age=31536000');
    expect((await get(withFiles, 'localhost', '/healthz', cert.cert)).headers['strict-transport-security']).to.equal(undefined);
  });

  it('never sends HSTS with a self-signed development certificate (its warning must stay clickable)', async () => {
    const ca = selfSigned.config.tls?.cert ?? expect.fail('no certificate');
    const res = await get(selfSigned, 'localhost', '/healthz', ca);
    expect(res.status).to.equal(200);
    expect(res.headers['strict-transport-security']).to.equal(undefined);
  });
});

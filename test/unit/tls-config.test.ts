import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ConfigError, loadConfig, startWarnings } from '../../src/config.js';
import { developmentCertificate, phoneUrls } from '../../src/tls/dev-certificate.js';
import { createSelfSignedCertificate } from '../../src/tls/self-signed.js';

function problemsOf(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return (err as ConfigError).problems.join('\n');
  }
  return expect.fail('expected a ConfigError');
}

describe('TLS configuration', () => {
  let dir: string;
  let certFile: string;
  let keyFile: string;
  const production = () => ({
    NODE_ENV: 'production',
    JWT_SECRET: 's'.repeat(40),
    SQLITE_PATH: path.join(dir, 'a.db'),
    PUBLIC_URL: 'https://attendance.school.example',
  });

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tls-config-'));
    const made = createSelfSignedCertificate({ names: ['attendance.school.example'] });
    certFile = path.join(dir, 'cert.pem');
    keyFile = path.join(dir, 'key.pem');
    writeFileSync(certFile, made.cert);
    writeFileSync(keyFile, made.key);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('serves plain HTTP by default (behind a TLS proxy, or npm start on its embedded defaults)', () => {
    expect(loadConfig({ NODE_ENV: 'test' }).tls).to.equal(null);
    expect(loadConfig({ NODE_ENV: 'development', DATA_DIR: dir }).tls).to.equal(null);
  });

  it('serves HTTPS with TLS_CERT_FILE and TLS_KEY_FILE, in production too', () => {
    const tls = loadConfig({ ...production(), TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile }).tls;
    expect(tls?.selfSigned).to.equal(false);
    expect(tls?.cert).to.equal(readFileSync(certFile, 'utf8'));
  });

  it('refuses one file without the other, unreadable files and a key of another certificate', () => {
    expect(problemsOf({ NODE_ENV: 'test', TLS_CERT_FILE: certFile })).to.match(/TLS_CERT_FILE and TLS_KEY_FILE go together/);
    expect(problemsOf({ NODE_ENV: 'test', TLS_CERT_FILE: certFile, TLS_KEY_FILE: path.join(dir, 'none.pem') })).to.match(
      /TLS_KEY_FILE: cannot read/,
    );
    const other = path.join(dir, 'other-key.pem');
    writeFileSync(other, createSelfSignedCertificate({ names: ['x.example'] }).key);
    expect(problemsOf({ NODE_ENV: 'test', TLS_CERT_FILE: certFile, TLS_KEY_FILE: other })).to.match(/not a usable certificate and key/);
  });

  it('warns at start when the certificate does not name the host of PUBLIC_URL, has ended or ends within 30 days', () => {
    const files = { TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile };
    const now = new Date();
    const day = 86_400_000;
    const at = (t: number) => new Date(now.getTime() + t);
    expect(startWarnings(loadConfig({ ...production(), ...files }), now)).to.deep.equal([]);
    const otherHost = startWarnings(loadConfig({ ...production(), ...files, PUBLIC_URL: 'https://attendance.school.lan' }), now);
    expect(otherHost).to.have.length(1);
    expect(otherHost[0]).to.contain('does not name attendance.school.lan').and.contain('DNS:attendance.school.example');
    const byAddress = startWarnings(loadConfig({ ...production(), ...files, PUBLIC_URL: 'https://192.168.1.10' }), now);
    expect(byAddress[0]).to.contain('does not name 192.168.1.10');
    // Made for 365 days: fine at 300, renew at 350, refused by browsers at 400.
    expect(startWarnings(loadConfig({ ...production(), ...files }), at(300 * day))).to.deep.equal([]);
    expect(startWarnings(loadConfig({ ...production(), ...files }), at(350 * day))[0]).to.match(
      /expires on \d{4}-\d\d-\d\d: sign a new one/,
    );
    expect(startWarnings(loadConfig({ ...production(), ...files }), at(400 * day))[0]).to.match(
      /expired on \d{4}-\d\d-\d\d: browsers refuse it/,
    );
  });

  it('never self-signs in production', () => {
    expect(problemsOf({ ...production(), TLS_SELF_SIGNED: 'true' })).to.match(/TLS_SELF_SIGNED=true is for development only/);
  });

  it('in development makes a certificate once under DATA_DIR/tls and reuses it', () => {
    const dataDir = path.join(dir, 'dev');
    const first = loadConfig({ NODE_ENV: 'development', DATA_DIR: dataDir, TLS_SELF_SIGNED: 'true' }).tls;
    expect(first?.selfSigned).to.equal(true);
    expect(first?.certFile).to.equal(path.join(dataDir, 'tls', 'dev-cert.pem'));
    expect(statSync(path.join(dataDir, 'tls', 'dev-key.pem')).mode & 0o777).to.equal(0o600);
    const x509 = new X509Certificate(first!.cert);
    expect(x509.checkHost('localhost')).to.equal('localhost');
    expect(x509.checkIP('127.0.0.1')).to.equal('127.0.0.1');
    const second = loadConfig({ NODE_ENV: 'development', DATA_DIR: dataDir, TLS_SELF_SIGNED: 'true' }).tls;
    expect(second?.cert).to.equal(first?.cert);
  });

  it('makes the development certificate again for a new address or near its end', () => {
    const dataDir = path.join(dir, 'moves');
    const home = developmentCertificate(dataDir, ['localhost', '192.168.1.20']);
    expect(home.created).to.equal(true);
    expect(developmentCertificate(dataDir, ['localhost', '192.168.1.20']).created).to.equal(false);
    const school = developmentCertificate(dataDir, ['localhost', '10.4.0.7']);
    expect(school.created).to.equal(true);
    expect(new X509Certificate(school.cert).checkIP('10.4.0.7')).to.equal('10.4.0.7');
    const later = new Date(Date.now() + 340 * 86_400_000);
    expect(developmentCertificate(dataDir, ['localhost', '10.4.0.7'], later).created).to.equal(true);
  });

  it('the generated certificate is a valid self-signed X.509 v3 server certificate for its names', () => {
    const made = createSelfSignedCertificate({ names: ['school.test', '10.0.0.5', '::1'], validDays: 30 });
    const x509 = new X509Certificate(made.cert);
    expect(x509.verify(x509.publicKey)).to.equal(true);
    expect(x509.checkPrivateKey(createPrivateKey(made.key))).to.equal(true);
    expect(x509.subjectAltName).to.equal('DNS:school.test, IP Address:10.0.0.5, IP Address:0:0:0:0:0:0:0:1');
    expect(x509.ca).to.equal(false);
    expect(x509.keyUsage).to.deep.equal(['1.3.6.1.5.5.7.3.1']);
    const days = (new Date(x509.validTo).getTime() - new Date(x509.validFrom).getTime()) / 86_400_000;
    expect(Math.round(days)).to.equal(30);
  });

  it('lists for phones only the addresses the node listens on: none on loopback, IPv4 only on 0.0.0.0', () => {
    const names = ['localhost', '127.0.0.1', '::1', 'laptop', 'laptop.local', '192.168.1.23', 'fd00::2'];
    expect(phoneUrls(names, '127.0.0.1', 3000)).to.deep.equal([]);
    expect(phoneUrls(names, '::1', 3000)).to.deep.equal([]);
    expect(phoneUrls(names, '0.0.0.0', 3000)).to.deep.equal([
      'https://laptop:3000/student.html',
      'https://laptop.local:3000/student.html',
      'https://192.168.1.23:3000/student.html',
    ]);
    expect(phoneUrls(names, '::', 3000)).to.include('https://[fd00::2]:3000/student.html');
    expect(phoneUrls(names, '192.168.1.23', 3443)).to.deep.equal(['https://192.168.1.23:3443/student.html']);
  });
});

import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ConfigError, loadConfig, startWarnings } from '../../src/config.js';

const SECRET = 's'.repeat(40);

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  return expect.fail('expected a ConfigError');
}

describe('config', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'config-test-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('has documented defaults', () => {
    const c = loadConfig({ NODE_ENV: 'test' });
    expect(c.port).to.equal(3000);
    expect(c.host).to.equal('0.0.0.0');
    expect(c.jwt.algorithm).to.equal('HS256');
    expect(c.jwt.accessTtlS).to.equal(900);
    expect(c.jwt.secret).to.be.a('string').with.length.of.at.least(32);
    expect(c.bcrypt.cost).to.equal(12);
    expect(c.bodyLimitBytes).to.equal(1024 * 1024);
    expect(c.login).to.deep.equal({
      accountFreeFailures: 20,
      addressAccountFreeFailures: 10,
      backoffBaseMs: 1_000,
      backoffMaxMs: 900_000,
      addressPerMinute: 300,
    });
    expect(c.trustProxy).to.equal(false);
    expect(c.seedDemo).to.equal(true);
    expect(c.store.kind).to.equal('sqlite');
    expect(c.defaultTimezone).to.equal('UTC');
  });

  it('sizes the bcrypt pool from the cores unless told, and refuses a pool without a thread', () => {
    const c = loadConfig({ NODE_ENV: 'test' });
    expect(c.bcrypt.threads).to.equal(Math.min(4, Math.max(1, availableParallelism() - 1)));
    expect(c.bcrypt.maxQueue).to.equal(100);
    expect(loadConfig({ NODE_ENV: 'test', BCRYPT_THREADS: '3', BCRYPT_MAX_QUEUE: '0' }).bcrypt).to.deep.equal({
      cost: 12,
      threads: 3,
      maxQueue: 0,
    });
    expect(problemsOf({ NODE_ENV: 'test', BCRYPT_THREADS: '0' }).join('\n')).to.match(/BCRYPT_THREADS/);
    expect(problemsOf({ NODE_ENV: 'test', BCRYPT_MAX_QUEUE: '-1' }).join('\n')).to.match(/BCRYPT_MAX_QUEUE/);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ NODE_ENV: 'test', PORT: '' }).port).to.equal(3000);
  });

  it('refuses production without JWT_SECRET', () => {
    const problems = problemsOf({ NODE_ENV: 'production', SQLITE_PATH: path.join(dir, 'a.db') });
    expect(problems.join('\n')).to.match(/JWT_SECRET/);
  });

  it('lists in one start both a malformed value and what the checks across variables find in the others', () => {
    const problems = problemsOf({ NODE_ENV: 'production', JWT_SECRET: 'short', PORT: 'eighty', TLS_SELF_SIGNED: 'true' });
    const text = problems.join('\n');
    // The secret by its length only; every other value as given.
    expect(text).to.match(/^JWT_SECRET \(5 characters, not shown\): too short; allowed: at least 32 characters/m);
    expect(text).to.not.contain('JWT_SECRET=');
    expect(text).to.match(/^PORT=eighty: not a number; allowed: 0 to 65 535$/m);
    expect(text).to.match(/TLS_SELF_SIGNED=true is for development only/);
    expect(text).to.match(/store location/);
    expect(text).to.match(/production requires PUBLIC_URL/);
    // The malformed secret is reported once, as malformed, not again as missing.
    expect(problems.filter((p) => p.includes('JWT_SECRET'))).to.have.length(1);
  });

  it('writes nothing while it reports a development configuration that did not parse', () => {
    const dataDir = path.join(dir, 'dry');
    const problems = problemsOf({ NODE_ENV: 'development', DATA_DIR: dataDir, PORT: 'eighty', TLS_SELF_SIGNED: 'true' });
    expect(problems).to.have.length(1);
    expect(existsSync(dataDir)).to.equal(false);
  });

  it('says how to make a good value of a malformed JWT_SECRET, PUBLIC_URL or MAIL_FROM', () => {
    const problems = problemsOf({
      NODE_ENV: 'test',
      JWT_SECRET: 'short',
      PUBLIC_URL: 'attendance.school.lan',
      MAIL_FROM: 'Example School',
    });
    expect(problems.find((p) => p.startsWith('JWT_SECRET '))).to.contain('openssl rand -base64 48');
    expect(problems.find((p) => p.startsWith('PUBLIC_URL=attendance.school.lan: '))).to.contain('https://attendance.school.example');
    expect(problems.find((p) => p.startsWith('MAIL_FROM="Example School": '))).to.contain('<attendance@school.example>');
    for (const from of ['attendance@school.example', 'Example School <attendance@school.example>', '"École, Paris" <a@b.fr>']) {
      expect(loadConfig({ NODE_ENV: 'test', MAIL_FROM: from }).mail.from, from).to.equal(from);
    }
  });

  it('refuses an SMTP_URL that is not a URL (a "/" in its password), saying how, without the password', () => {
    const problems = problemsOf({ NODE_ENV: 'test', SMTP_URL: 'smtps://attendance:ab/cd#ef@mail.school.example' });
    const smtp = problems.find((p) => p.startsWith('SMTP_URL=smtps://***@mail.school.example: '));
    expect(smtp, problems.join('\n')).to.contain('%2F');
    expect(problems.join('\n')).to.not.contain('ab/cd');
    expect(loadConfig({ NODE_ENV: 'test', SMTP_URL: 'smtps://attendance:ab%2Fcd%23ef@mail.school.example' }).mail.smtpUrl).to.equal(
      'smtps://attendance:ab%2Fcd%23ef@mail.school.example',
    );
  });

  it("names a refused value without repeating a token or a URL's password, and quotes one with spaces", () => {
    const problems = problemsOf({
      NODE_ENV: 'test',
      METRICS_TOKEN: 'tok3n',
      MONGODB_URI: 'mysql://admin:p@ss/w0rd@db.school.lan/attendance',
      LOG_LEVEL: 'very verbose',
    });
    expect(problems).to.include.members([
      'METRICS_TOKEN (5 characters, not shown): too short; allowed: at least 16 characters',
      'MONGODB_URI=mysql://***@db.school.lan/attendance: must start with mongodb:// or mongodb+srv://',
      'LOG_LEVEL="very verbose": not one of the values; allowed: fatal, error, warn, info, debug, trace, silent',
    ]);
    expect(problems.join('\n')).to.not.match(/tok3n|p@ss|w0rd/);
  });

  it("never repeats a URL's password, even in a value refused for its shape (quoted, a space first, a slash missing, no scheme)", () => {
    for (const [given, shown] of [
      ['"mongodb://admin:s3cret@db.school.lan/attendance"', '"\\"mongodb://***@db.school.lan/attendance\\""'],
      [' mongodb://admin:s3cret@db.school.lan/attendance', '" mongodb://***@db.school.lan/attendance"'],
      ['mongodb:/admin:s3cret@db.school.lan', 'mongodb:/***@db.school.lan'],
      ['admin:s3cret@db.school.lan:27017', '***@db.school.lan:27017'],
    ] as const) {
      const problems = problemsOf({ NODE_ENV: 'test', MONGODB_URI: given, SMTP_URL: given.replace('mongodb', 'smtps') });
      expect(problems.join('\n'), given).to.not.contain('s3cret');
      expect(
        problems.find((p) => p.startsWith('MONGODB_URI=')),
        given,
      ).to.satisfy((p: string) => p.startsWith(`MONGODB_URI=${shown}: `));
    }
  });

  it('refuses production without an explicit store location', () => {
    const problems = problemsOf({ NODE_ENV: 'production', JWT_SECRET: SECRET });
    expect(problems.join('\n')).to.match(/store location/);
  });

  it('refuses production without PUBLIC_URL, naming it, as invitation links would lead to localhost', () => {
    const problems = problemsOf({ NODE_ENV: 'production', JWT_SECRET: SECRET, SQLITE_PATH: path.join(dir, 'a.db') });
    expect(problems).to.have.length(1);
    expect(problems[0]).to.match(/^production requires PUBLIC_URL/);
    expect(loadConfig({ NODE_ENV: 'test' }).accounts).to.include({ publicUrl: 'http://localhost:3000', publicUrlGiven: false });
  });

  it('refuses production that sends through SMTP_URL without MAIL_FROM, as every email would come from no-reply@localhost', () => {
    const production = {
      NODE_ENV: 'production',
      JWT_SECRET: SECRET,
      SQLITE_PATH: path.join(dir, 'm.db'),
      PUBLIC_URL: 'https://attendance.school.example',
      SMTP_URL: 'smtps://user:pass@mail.school.example',
    };
    const problems = problemsOf(production);
    expect(problems).to.have.length(1);
    expect(problems[0]).to.match(/^production with SMTP_URL requires MAIL_FROM/);
    // Empty counts as unset (the compose file passes MAIL_FROM through, empty when not given).
    expect(problemsOf({ ...production, MAIL_FROM: '' })[0]).to.match(/^production with SMTP_URL requires MAIL_FROM/);
    const from = 'Example School <attendance@school.example>';
    expect(loadConfig({ ...production, MAIL_FROM: from }).mail.from).to.equal(from);
    // Without SMTP_URL the emails stay in the outbox folder, and elsewhere than production the default serves.
    const { SMTP_URL: _smtp, ...outboxOnly } = production;
    expect(loadConfig(outboxOnly).mail.from).to.equal('Classroom attendance <no-reply@localhost>');
    expect(loadConfig({ NODE_ENV: 'test', SMTP_URL: production.SMTP_URL }).mail.from).to.equal('Classroom attendance <no-reply@localhost>');
  });

  it('accepts production with a secret, a store location and PUBLIC_URL, and does not seed by default', () => {
    const c = loadConfig({
      NODE_ENV: 'production',
      JWT_SECRET: SECRET,
      SQLITE_PATH: path.join(dir, 'a.db'),
      PUBLIC_URL: 'https://attendance.school.example/',
    });
    expect(c.jwt.secret).to.equal(SECRET);
    expect(c.seedDemo).to.equal(false);
    expect(c.accounts.publicUrl).to.equal('https://attendance.school.example');
  });

  it("takes the path prefix from PUBLIC_URL's path and refuses one a proxy and a browser could read differently", () => {
    const basePath = (url: string) => loadConfig({ NODE_ENV: 'test', PUBLIC_URL: url }).basePath;
    expect(loadConfig({ NODE_ENV: 'test' }).basePath).to.equal('');
    expect(basePath('https://attendance.school.example/')).to.equal('');
    expect(basePath('https://www.school.example/attendance/')).to.equal('/attendance');
    expect(basePath('https://www.school.example/it/attendance')).to.equal('/it/attendance');
    for (const bad of [
      'https://x.example/a?b=1',
      'https://x.example/a#b',
      'https://u:p@x.example/a',
      'https://x.example/a%20b',
      'https://x.example//a',
    ]) {
      const problems = problemsOf({ NODE_ENV: 'test', PUBLIC_URL: bad });
      expect(problems, bad).to.have.length(1);
      expect(problems[0], bad).to.match(/^PUBLIC_URL: .* plain path/);
    }
  });

  it('refuses a short JWT secret', () => {
    expect(problemsOf({ NODE_ENV: 'test', JWT_SECRET: 'short' }).join('\n')).to.match(/JWT_SECRET/);
  });

  it('refuses a bad PORT', () => {
    expect(problemsOf({ NODE_ENV: 'test', PORT: 'eighty' })[0]).to.match(/^PORT/);
    expect(problemsOf({ NODE_ENV: 'test', PORT: '70000' })[0]).to.match(/^PORT/);
  });

  it("takes the connections' grace at shutdown from CONNECTION_CLOSE_GRACE_MS, 2 s by default, 100 ms to 30 s", () => {
    expect(loadConfig({ NODE_ENV: 'test' }).connectionCloseGraceMs).to.equal(2_000);
    expect(loadConfig({ NODE_ENV: 'test', CONNECTION_CLOSE_GRACE_MS: '10000' }).connectionCloseGraceMs).to.equal(10_000);
    expect(problemsOf({ NODE_ENV: 'test', CONNECTION_CLOSE_GRACE_MS: '0' })[0]).to.match(/^CONNECTION_CLOSE_GRACE_MS/);
    expect(problemsOf({ NODE_ENV: 'test', CONNECTION_CLOSE_GRACE_MS: '60000' })[0]).to.match(/^CONNECTION_CLOSE_GRACE_MS/);
  });

  it('refuses RS256 without key files, and reports unreadable ones', () => {
    expect(problemsOf({ NODE_ENV: 'test', JWT_ALGORITHM: 'RS256' }).join('\n')).to.match(/JWT_PRIVATE_KEY_FILE/);
    const missing = problemsOf({
      NODE_ENV: 'test',
      JWT_ALGORITHM: 'RS256',
      JWT_PRIVATE_KEY_FILE: path.join(dir, 'nope.pem'),
      JWT_PUBLIC_KEY_FILE: path.join(dir, 'nope.pub'),
    });
    expect(missing.join('\n')).to.match(/cannot read key file/);
  });

  it('loads RS256 key files', () => {
    const keys = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    writeFileSync(path.join(dir, 'key.pem'), keys.privateKey);
    writeFileSync(path.join(dir, 'key.pub'), keys.publicKey);
    const c = loadConfig({
      NODE_ENV: 'production',
      SQLITE_PATH: path.join(dir, 'a.db'),
      PUBLIC_URL: 'https://attendance.school.example',
      JWT_ALGORITHM: 'RS256',
      JWT_PRIVATE_KEY_FILE: path.join(dir, 'key.pem'),
      JWT_PUBLIC_KEY_FILE: path.join(dir, 'key.pub'),
    });
    expect(c.jwt.publicKey).to.equal(keys.publicKey);
    expect(c.jwt.secret).to.equal(null);
  });

  it('refuses an unknown time zone', () => {
    expect(problemsOf({ NODE_ENV: 'test', DEFAULT_TIMEZONE: 'Mars/Olympus' }).join('\n')).to.match(/time zone/);
  });

  it('parses TRUST_PROXY forms', () => {
    expect(loadConfig({ NODE_ENV: 'test', TRUST_PROXY: 'true' }).trustProxy).to.equal(true);
    expect(loadConfig({ NODE_ENV: 'test', TRUST_PROXY: '2' }).trustProxy).to.equal(2);
    expect(loadConfig({ NODE_ENV: 'test', TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).trustProxy).to.deep.equal(['10.0.0.0/8', '127.0.0.1']);
  });

  it('refuses a TRUST_PROXY list entry that is no address, range or name, with the other problems, instead of crashing later', () => {
    const problems = problemsOf({ NODE_ENV: 'production', TRUST_PROXY: '10.0.0.0/8, caddy', SQLITE_PATH: path.join(dir, 'p.db') });
    expect(problems.join('\n')).to.match(/^TRUST_PROXY="10\.0\.0\.0\/8, caddy": .*caddy; allowed: false, true, a hop count/m);
    expect(problems.join('\n')).to.match(/JWT_SECRET/);
    expect(loadConfig({ NODE_ENV: 'test', TRUST_PROXY: 'loopback, uniquelocal' }).trustProxy).to.deep.equal(['loopback', 'uniquelocal']);
  });

  it('warns at a production start whose PUBLIC_URL is plain http, as phones then give the pages no location or camera', () => {
    const production = { NODE_ENV: 'production', JWT_SECRET: SECRET, SQLITE_PATH: path.join(dir, 'w.db') };
    const warned = startWarnings(loadConfig({ ...production, PUBLIC_URL: 'http://attendance.school.example' }));
    expect(warned).to.have.length(1);
    expect(warned[0]).to.contain('PUBLIC_URL').and.contain('https://');
    expect(startWarnings(loadConfig({ ...production, PUBLIC_URL: 'https://attendance.school.example' }))).to.deep.equal([]);
    expect(startWarnings(loadConfig({ NODE_ENV: 'test', PUBLIC_URL: 'http://localhost:3000' }))).to.deep.equal([]);
  });

  it('keeps a generated development secret under DATA_DIR across loads', () => {
    const dataDir = path.join(dir, 'data');
    const a = loadConfig({ NODE_ENV: 'development', DATA_DIR: dataDir });
    const b = loadConfig({ NODE_ENV: 'development', DATA_DIR: dataDir });
    expect(a.jwt.secret).to.equal(b.jwt.secret);
    expect(a.store).to.deep.equal({
      kind: 'sqlite',
      path: path.join(dataDir, 'attendance.db'),
      checkpointWorker: true,
      writerWorker: true,
    });
  });

  it('SQLITE_CHECKPOINT_WORKER turns the WAL checkpoint worker off, and refuses what is not a boolean', () => {
    expect(loadConfig({ NODE_ENV: 'test', SQLITE_CHECKPOINT_WORKER: 'false' }).store).to.include({ checkpointWorker: false });
    expect(loadConfig({ NODE_ENV: 'test', SQLITE_WRITER_WORKER: 'false' }).store).to.include({ writerWorker: false });
    expect(() => loadConfig({ NODE_ENV: 'test', SQLITE_CHECKPOINT_WORKER: 'sometimes' })).to.throw(ConfigError, /SQLITE_CHECKPOINT_WORKER/);
  });

  it('MAIL_MAX_PER_MINUTE: no bound by default, a relay limit when set, 1 too (a sliding minute keeps it)', () => {
    expect(loadConfig({ NODE_ENV: 'test' }).mail.maxPerMinute).to.equal(0);
    expect(loadConfig({ NODE_ENV: 'test', MAIL_MAX_PER_MINUTE: '30' }).mail.maxPerMinute).to.equal(30);
    expect(loadConfig({ NODE_ENV: 'test', MAIL_MAX_PER_MINUTE: '1' }).mail.maxPerMinute).to.equal(1);
    expect(() => loadConfig({ NODE_ENV: 'test', MAIL_MAX_PER_MINUTE: '-1' })).to.throw(ConfigError, /MAIL_MAX_PER_MINUTE/);
  });
});

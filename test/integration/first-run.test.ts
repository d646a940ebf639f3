import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { sampleBundle } from '../support/oneroster-bundle.js';
import { refusal, type Json } from '../support/http.js';
import { runNode, type NodeRun } from '../support/run-node.js';
import { waitFor } from '../support/sockets.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const ADMIN_CLI = path.join(REPO, 'scripts', 'admin.ts');
const SERVICE = path.join(REPO, 'src', 'index.ts');

/** Starts src/index.ts with `env`; resolves with the process and its address once it logs that it listens. */
function spawnService(
  env: NodeJS.ProcessEnv,
  onLog: (text: string) => void,
): Promise<{ child: ChildProcessWithoutNullStreams; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SERVICE], { cwd: REPO, env });
    let log = '';
    const take = (d: Buffer) => {
      log += d.toString();
      onLog(d.toString());
    };
    child.stderr.on('data', take);
    child.stdout.on('data', (d: Buffer) => {
      take(d);
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(log);
      if (m) resolve({ child, url: m[1]! });
    });
    child.once('exit', (code) => reject(new Error(`service exited with ${code}:\n${log}`)));
  });
}

/** Stops a service started by spawnService, if it still runs. */
async function stopService(child: ChildProcessWithoutNullStreams | null): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** The environment of the test run without the developer's own store, Redis, secrets or listen settings. */
function isolatedEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (
      !/^(STORE|SQLITE_PATH|MONGODB_|REDIS_URL|DATA_DIR|FACE_|SEED_DEMO|NODE_ENV|JWT_|PUBLIC_URL|PORT|HOST|LOG_LEVEL|BCRYPT_COST|DEFAULT_TIMEZONE)/.test(
        k,
      )
    )
      env[k] = v;
  }
  return env;
}

/**
 * The documented first run of a production deployment, with real processes: the service
 * (NODE_ENV=production, an explicit JWT_SECRET and SQLITE_PATH) starts on an empty store and
 * says so; the admin CLI, run against the same SQLite file while the service runs, creates the
 * first organisation and its admin; that admin logs in through the HTTP API.
 */
describe('first run in production (service and admin CLI as child processes)', function () {
  this.timeout(120_000);
  let root: string;
  let env: NodeJS.ProcessEnv;
  let service: ChildProcessWithoutNullStreams | null = null;
  let serviceLog = '';
  let baseUrl = '';

  before(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'first-run-'));
    // The developer's own store, Redis or secrets must not leak into the run.
    env = isolatedEnv();
    Object.assign(env, {
      NODE_ENV: 'production',
      JWT_SECRET: 'first-run-test-secret-that-is-long-enough-0123456789',
      PUBLIC_URL: 'https://attendance.school.example',
      SQLITE_PATH: path.join(root, 'store', 'attendance.db'),
      DATA_DIR: path.join(root, 'data'),
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      BCRYPT_COST: '4',
      FACE_ENABLED: 'false',
    });
  });

  after(async () => {
    await stopService(service);
    rmSync(root, { recursive: true, force: true });
  });

  function cli(args: string[], stdin?: string): Promise<NodeRun> {
    return runNode(['--import', 'tsx', ADMIN_CLI, ...args], { cwd: REPO, env, ...(stdin !== undefined ? { stdin } : {}) });
  }

  /** Starts the service and resolves with its address once it logs that it listens. */
  async function startService(): Promise<string> {
    const started = await spawnService(env, (text) => (serviceLog += text));
    service = started.child;
    return started.url;
  }

  async function api(method: string, url: string, opts: { token?: string; body?: unknown } = {}): Promise<{ status: number; body: Json }> {
    const res = await fetch(baseUrl + url, {
      method,
      headers: {
        ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      },
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  it('starts on an empty store, creating nothing, and tells the operator to run the CLI', async () => {
    baseUrl = await startService();
    const lines = serviceLog
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { level: number; msg: string });
    const hint = lines.filter((l) => l.msg.includes('no organisation yet'));
    expect(hint, serviceLog).to.have.length(1);
    expect(hint[0]!.msg).to.include('npm run admin -- org create').and.include('admin create');
    // No demo data and no default account in production.
    const login = await api('POST', '/api/v1/auth/login', { body: { email: 'admin@demo.school', password: 'admin-demo-pass' } });
    expect(login.status).to.equal(401);
    expect(login.body.error.code).to.equal('INVALID_CREDENTIALS');
  });

  it('creates the first organisation and admin with the CLI; the admin logs in over HTTP', async () => {
    const created = await cli(['org', 'create', '--name', 'Example School', '--slug', 'example', '--timezone', 'Europe/Paris']);
    expect(created.code, created.stderr).to.equal(0);
    expect(created.stdout).to.include('created organisation example');

    const admin = await cli(
      ['admin', 'create', '--org', 'example', '--email', 'Head@Example.org', '--name', 'Head Teacher', '--password-stdin'],
      'first-admin-password\n',
    );
    expect(admin.code, admin.stderr).to.equal(0);
    expect(admin.stdout).to.include('created admin head@example.org').and.not.include('first-admin-password');

    const login = await api('POST', '/api/v1/auth/login', { body: { email: 'head@example.org', password: 'first-admin-password' } });
    expect(login.status, JSON.stringify(login.body)).to.equal(200);
    expect(login.body.user).to.include({ role: 'admin', email: 'head@example.org', name: 'Head Teacher' });
    const org = await api('GET', '/api/v1/organisation', { token: login.body.accessToken });
    expect(org.status).to.equal(200);
    expect(org.body).to.include({ slug: 'example', name: 'Example School', timezone: 'Europe/Paris', active: true });

    const list = await cli(['org', 'list']);
    expect(list.code).to.equal(0);
    expect(list.stdout).to.match(/example\s+Example School\s+Europe\/Paris\s+active/);
  });

  it('a reset gives a new password (printed once) and ends the earlier logins', async () => {
    const before = await api('POST', '/api/v1/auth/login', { body: { email: 'head@example.org', password: 'first-admin-password' } });
    expect(before.status).to.equal(200);
    const reset = await cli(['admin', 'reset', '--org', 'example', '--email', 'head@example.org']);
    expect(reset.code, reset.stderr).to.equal(0);
    const password = /password \(shown once\): (\S+)/.exec(reset.stdout)?.[1];
    expect(password).to.be.a('string').with.length.above(15);

    expect((await api('GET', '/api/v1/me', { token: before.body.accessToken })).body.error.code).to.equal('TOKEN_REVOKED');
    expect(refusal(await api('POST', '/api/v1/auth/refresh', { body: { refreshToken: before.body.refreshToken } }))).to.deep.equal([
      401,
      'REFRESH_TOKEN_INVALID',
    ]);
    expect(
      (await api('POST', '/api/v1/auth/login', { body: { email: 'head@example.org', password: 'first-admin-password' } })).status,
    ).to.equal(401);
    expect((await api('POST', '/api/v1/auth/login', { body: { email: 'head@example.org', password } })).status).to.equal(200);
  });

  it('a deactivated organisation is refused at login and on every request, until activated again', async () => {
    const reset = await cli(
      ['admin', 'reset', '--org', 'example', '--email', 'head@example.org', '--password-stdin'],
      'second-admin-password',
    );
    expect(reset.code, reset.stderr).to.equal(0);
    const login = await api('POST', '/api/v1/auth/login', { body: { email: 'head@example.org', password: 'second-admin-password' } });
    expect(login.status).to.equal(200);

    expect((await cli(['org', 'deactivate', '--org', 'example'])).code).to.equal(0);
    const refused = await api('GET', '/api/v1/organisation', { token: login.body.accessToken });
    expect([refused.status, refused.body.error.code]).to.deep.equal([403, 'ORGANISATION_DISABLED']);
    const relogin = await api('POST', '/api/v1/auth/login', { body: { email: 'head@example.org', password: 'second-admin-password' } });
    expect([relogin.status, relogin.body.error.code]).to.deep.equal([403, 'ORGANISATION_DISABLED']);

    expect((await cli(['org', 'activate', '--org', 'example'])).code).to.equal(0);
    expect((await api('GET', '/api/v1/organisation', { token: login.body.accessToken })).status).to.equal(200);
  });

  it('answers bad usage with exit code 2 and failures with 1, changing nothing', async () => {
    expect((await cli(['org', 'create', '--slug', 'x'])).code).to.equal(2);
    expect((await cli(['bogus'])).code).to.equal(2);
    const help = await cli(['--help']);
    expect([help.code, help.stdout.includes('admin create --org SLUG')]).to.deep.equal([0, true]);
    const taken = await cli(['org', 'create', '--name', 'Again', '--slug', 'example']);
    expect([taken.code, taken.stderr.trim()]).to.deep.equal([1, 'ORGANISATION_SLUG_TAKEN: An organisation with this slug already exists.']);
    const badZone = await cli(['org', 'create', '--name', 'Z', '--slug', 'zone', '--timezone', 'Mars/Olympus']);
    expect(badZone.code).to.equal(1);
    const dup = await cli(
      ['admin', 'create', '--org', 'example', '--email', 'head@example.org', '--name', 'Dup', '--password-stdin'],
      'another-password',
    );
    expect([dup.code, dup.stderr]).to.satisfy(([c, e]: [number, string]) => c === 1 && e.startsWith('EMAIL_TAKEN'));
    const short = await cli(
      ['admin', 'create', '--org', 'example', '--email', 'b@example.org', '--name', 'B', '--password-stdin'],
      'short',
    );
    expect(short.code).to.equal(1);
    const list = await cli(['org', 'list']);
    expect(list.stdout.trim().split('\n')).to.have.length(2);
  });

  it('audits every change under the CLI: actorId null, reason admin-cli', async () => {
    const store = await createSqliteStore({ path: env['SQLITE_PATH']! });
    try {
      const org = (await store.organisations.getBySlug('example'))!;
      const orgAudit = await store.audit.listForEntity(org.id, 'organisation', org.id);
      expect(orgAudit.map((a) => a.action)).to.deep.equal(['organisation.create', 'organisation.deactivate', 'organisation.activate']);
      const admin = (await store.users.getByEmail(org.id, 'head@example.org'))!;
      const userAudit = await store.audit.listForEntity(org.id, 'user', admin.id);
      expect(userAudit.map((a) => a.action)).to.deep.equal(['user.create', 'user.update', 'user.update']);
      for (const a of [...orgAudit, ...userAudit]) expect(a).to.include({ actorId: null, reason: 'admin-cli' });
      expect(JSON.stringify(userAudit)).to.not.include('admin-password').and.not.include('$2');
    } finally {
      await store.close();
    }
  });

  // After the audit check above: the import adds its own entries.
  it('imports a OneRoster directory with the CLI: a dry run writes nothing, two runs give the same roster', async () => {
    const dir = path.join(root, 'sis');
    mkdirSync(dir);
    for (const [name, text] of Object.entries(sampleBundle())) writeFileSync(path.join(dir, `${name}.csv`), text!);
    const roster = async () => {
      const store = await createSqliteStore({ path: env['SQLITE_PATH']! });
      try {
        const org = (await store.organisations.getBySlug('example'))!;
        return (await store.users.list(org.id, { role: 'student', limit: 100, offset: 0 })).items;
      } finally {
        await store.close();
      }
    };
    const dry = await cli(['oneroster', 'import', '--org', 'example', '--dir', dir, '--dry-run']);
    expect(dry.stdout).to.include('users: 3 created, 0 updated, 0 unchanged, 1 skipped, 1 refused');
    expect(await roster()).to.deep.equal([]);
    const first = await cli(['oneroster', 'import', '--org', 'example', '--dir', dir]);
    // A refused row makes the exit code 1; the other rows are imported.
    expect([first.code, first.stdout.includes('refused users.csv line 5 (s-3): email is invalid')]).to.deep.equal([1, true]);
    const after1 = await roster();
    expect(after1.map((u) => u.studentNumber)).to.deep.equal(['S001', 'S002']);
    const second = await cli(['oneroster', 'import', '--org', 'example', '--dir', dir]);
    expect(second.stdout).to.include('users: 0 created, 0 updated, 3 unchanged, 1 skipped, 1 refused');
    expect(await roster()).to.deep.equal(after1);
    expect((await cli(['oneroster', 'import', '--org', 'example'])).code).to.equal(2);
  });
});

// `npm start` on a fresh clone: embedded defaults, the demo organisation made on the first start.
describe('first run on the embedded defaults (npm start, development)', function () {
  this.timeout(120_000);
  let root: string;
  let child: ChildProcessWithoutNullStreams | null = null;

  before(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'first-dev-run-'));
  });
  after(async () => {
    await stopService(child);
    rmSync(root, { recursive: true, force: true });
  });

  it('tells in its log where and as whom to sign in, and those credentials work', async () => {
    let log = '';
    const env = {
      ...isolatedEnv(),
      DATA_DIR: root,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      BCRYPT_COST: '4',
      FACE_ENABLED: 'false',
    };
    const started = await spawnService(env, (text) => (log += text));
    child = started.child;
    const messages = () =>
      log
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { msg: string }).msg);
    await waitFor(() => messages().some((m) => m.includes('sign in at')), 10_000);
    const hint = messages().find((m) => m.includes('sign in at'))!;
    const m = /sign in at (\S+)\/admin\.html as (\S+) \(password (\S+)\)/.exec(hint);
    expect(m, hint).to.not.equal(null);
    expect(m![1]).to.equal(started.url);
    const login = await fetch(`${started.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: m![2], password: m![3] }),
    });
    expect(login.status).to.equal(200);
  });
});

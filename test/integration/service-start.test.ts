import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { NODE_REGISTRY_KEY, NodeRegistry, signingKeyFingerprint } from '../../src/cluster/node-registry.js';
import { createLogger } from '../../src/logger.js';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { repoRoot } from '../../scripts/lib/repo-root.js';
import { redisAvailable, startRedisServer } from '../support/redis-server.js';

const ROOT = repoRoot(import.meta.url);

// What an IT person sees when the service cannot start for a reason of the machine rather than
// of the configuration: one line saying what to do, exit code 1, no stack trace.
describe('service start refusals (src/index.ts as a child process)', function () {
  // A case starts one or two node processes through tsx: 10 s in CI, but 20 to 50 s each on a
  // machine at load 30 to 45, where two of five cases met 60 s (as the other real-process suites, 120 s).
  this.timeout(120_000);
  let dir: string;
  let held: Server | null = null;

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'service-start-'));
  });
  afterEach(async () => {
    if (held) await new Promise((resolve) => held!.close(resolve));
    held = null;
    rmSync(dir, { recursive: true, force: true });
  });

  function start(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
    return new Promise((resolve, reject) => {
      const clean = Object.fromEntries(
        Object.entries(process.env).filter(([k]) => !/^(STORE|SQLITE_|MONGODB_|REDIS_URL|PORT|HOST|PUBLIC_URL)$/.test(k)),
      );
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'index.ts')], {
        cwd: ROOT,
        env: {
          ...clean,
          NODE_ENV: 'production',
          JWT_SECRET: 'service-start-test-secret-long-enough-0123456789',
          PUBLIC_URL: 'https://attendance.school.example',
          SQLITE_PATH: path.join(dir, 'attendance.db'),
          DATA_DIR: dir,
          HOST: '127.0.0.1',
          FACE_ENABLED: 'false',
          LOG_LEVEL: 'warn',
          ...env,
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.once('error', reject);
      // 'close', not 'exit': at 'exit' the child's stderr may still hold unread lines, and the
      // line each case asserts on is the last the node writes before it exits.
      child.once('close', (code) => resolve({ code, stderr }));
    });
  }

  it('a port already in use: one line naming it and PORT, exit 1', async () => {
    held = createServer();
    await new Promise<void>((resolve) => held!.listen(0, '127.0.0.1', resolve));
    const port = (held.address() as AddressInfo).port;
    const run = await start({ PORT: String(port) });
    expect(run.code, run.stderr).to.equal(1);
    expect(run.stderr).to.contain(`127.0.0.1:${port}`).and.to.contain('PORT');
    expect(run.stderr, 'no stack trace').to.not.match(/^\s+at /m);
  });

  it('a SQLite file a newer release migrated: the schema versions and what to do, exit 1', async () => {
    const file = path.join(dir, 'attendance.db');
    await (await createSqliteStore({ path: file })).close();
    const known = Math.max(...MIGRATIONS.map((m) => m.version));
    const db = new Database(file);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(known + 1, 'from a newer release', 0);
    db.close();
    const run = await start({ PORT: '0' });
    expect(run.code, run.stderr).to.equal(1);
    expect(run.stderr)
      .to.contain(`schema version ${known + 1}, newer than this release knows (${known})`)
      .and.to.contain('restore the backup');
    expect(run.stderr, 'no stack trace').to.not.match(/^\s+at /m);
  });

  it('Redis out of reach: refused before anything is written (no demo organisation, no store file), exit 1', async () => {
    // A port nothing listens on: taken, then released.
    held = createServer();
    await new Promise<void>((resolve) => held!.listen(0, '127.0.0.1', resolve));
    const port = (held.address() as AddressInfo).port;
    await new Promise((resolve) => held!.close(resolve));
    held = null;
    const run = await start({ PORT: '0', REDIS_URL: `redis://127.0.0.1:${port}`, SEED_DEMO: 'true' });
    expect(run.code, run.stderr).to.equal(1);
    expect(run.stderr).to.contain('Redis');
    expect(run.stderr, 'no stack trace').to.not.match(/^\s+at /m);
    expect(existsSync(path.join(dir, 'attendance.db')), 'the SQLite file was created (and the demo seeded)').to.equal(false);
  });

  it('a node refused after joining Redis (its store cannot open, its port is taken) leaves the node registry: a restart is not refused', async function () {
    if (!redisAvailable()) this.skip();
    const redis = await startRedisServer();
    const client = new Redis(redis.url, { lazyConnect: true });
    try {
      await client.connect();
      // A store that cannot open: the SQLite file's folder is a file.
      writeFileSync(path.join(dir, 'not-a-folder'), '');
      const noStore = await start({
        PORT: '0',
        REDIS_URL: redis.url,
        NODE_ID: 'refused',
        SQLITE_PATH: path.join(dir, 'not-a-folder', 'a.db'),
      });
      expect(noStore.code, noStore.stderr).to.not.equal(0);
      expect(await client.hkeys(NODE_REGISTRY_KEY), 'after the store refused').to.deep.equal([]);
      held = createServer();
      await new Promise<void>((resolve) => held!.listen(0, '127.0.0.1', resolve));
      const port = (held.address() as AddressInfo).port;
      const noPort = await start({ PORT: String(port), REDIS_URL: redis.url, NODE_ID: 'refused' });
      expect(noPort.code, noPort.stderr).to.equal(1);
      expect(noPort.stderr, 'not refused as a running node').to.contain(`127.0.0.1:${port}`);
      expect(await client.hkeys(NODE_REGISTRY_KEY), 'after the port refused').to.deep.equal([]);
    } finally {
      client.disconnect(false);
      await redis.stop();
    }
  });

  it("a node whose JWT_SECRET differs from a running node's (one Redis): one line naming JWT_SECRET, exit 1", async function () {
    if (!redisAvailable()) this.skip();
    const redis = await startRedisServer();
    const client = new Redis(redis.url, { lazyConnect: true });
    const running = new NodeRegistry(client, {
      nodeId: 'running',
      keyFingerprint: signingKeyFingerprint({ secret: 'the-running-nodes-secret-0123456789abcdef', publicKey: null } as never),
      logger: createLogger('silent'),
    });
    try {
      await client.connect();
      await running.join();
      const run = await start({ PORT: '0', REDIS_URL: redis.url, NODE_ID: 'new' });
      expect(run.code, run.stderr).to.equal(1);
      expect(run.stderr).to.contain('node running signs tokens with another key').and.to.contain('JWT_SECRET');
      expect(run.stderr, 'no stack trace').to.not.match(/^\s+at /m);
    } finally {
      await running.leave();
      client.disconnect(false);
      await redis.stop();
    }
  });
});

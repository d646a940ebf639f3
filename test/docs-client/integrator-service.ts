// A production node started the way README "First run in production" and "Configuration" say,
// for the integrator suite: its own process, an empty SQLite file, the admin CLI for the first
// organisation and admin. Written from the docs alone (README, docs/, /api/openapi.json).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface IntegratorService {
  baseUrl: string;
  dataDir: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function environment(dataDir: string, port: number): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    DATA_DIR: dataDir,
    SQLITE_PATH: join(dataDir, 'attendance.db'),
    JWT_SECRET: 'integrator-suite-secret-of-at-least-32-characters',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    LOG_LEVEL: 'warn',
    BCRYPT_COST: '4',
    FACE_ENABLED: 'false',
    // the receiver runs on loopback (docs/webhooks.md "Server-side request forgery")
    WEBHOOK_ALLOW_PRIVATE: 'true',
    WEBHOOK_POLL_MS: '200',
  };
}

function run(args: string[], env: NodeJS.ProcessEnv, stdin?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/admin.ts', ...args], { env });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`admin ${args.join(' ')}: ${code}\n${out}`))));
    child.stdin.end(stdin ?? '');
  });
}

async function ready(baseUrl: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the node exited ${child.exitCode}\n${log()}`);
    try {
      if ((await fetch(`${baseUrl}/readyz`)).status === 200) return;
    } catch {
      // not listening yet: the loop polls again
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no /readyz 200 within a minute\n${log()}`);
}

/** Starts a node, then creates organisation `slug` and its admin with the admin CLI. */
export async function startIntegratorService(admin: {
  slug: string;
  timezone: string;
  email: string;
  password: string;
}): Promise<IntegratorService> {
  const dataDir = mkdtempSync(join(tmpdir(), 'docs24-integrator-'));
  const port = await freePort();
  const env = environment(dataDir, port);
  await run(['org', 'create', '--name', 'Lycée Intégration', '--slug', admin.slug, '--timezone', admin.timezone], env);
  await run(
    ['admin', 'create', '--org', admin.slug, '--email', admin.email, '--name', 'SIS sync', '--password-stdin'],
    env,
    admin.password,
  );
  const child = spawn(process.execPath, ['--max-semi-space-size=64', '--import', 'tsx', 'src/index.ts'], { env });
  let log = '';
  child.stdout?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-20_000)));
  child.stderr?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-20_000)));
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await ready(baseUrl, child, () => log);
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    baseUrl,
    dataDir,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// A production node started as README "First run in production" says, on an empty SQLite file,
// and the admin CLI run beside it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..', '..');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface ProductionNode {
  baseUrl: string;
  dataDir: string;
  env: NodeJS.ProcessEnv;
  /** `npm run admin -- ARGS` with the node's environment; its exit code and output. */
  admin(args: string[], stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

export async function startProductionNode(extraEnv: Record<string, string> = {}): Promise<ProductionNode> {
  const dataDir = mkdtempSync(join(tmpdir(), 'docs28-'));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    DATA_DIR: dataDir,
    SQLITE_PATH: join(dataDir, 'attendance.db'),
    JWT_SECRET: 'docs28-secret-of-at-least-thirty-two-characters',
    PUBLIC_URL: baseUrl,
    BCRYPT_COST: '4',
    LOG_LEVEL: 'warn',
    FACE_ENABLED: 'false',
    ...extraEnv,
  };
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
    cwd: root,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`node exited ${child.exitCode}: ${stderr}`);
    const ok = await fetch(`${baseUrl}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`node not ready: ${stderr}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    baseUrl,
    dataDir,
    env,
    admin: (args, stdin) =>
      new Promise((resolve) => {
        const cli = spawn('npm', ['run', '-s', 'admin', '--', ...args], { cwd: root, env, stdio: ['pipe', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        cli.stdout.on('data', (b: Buffer) => (out += b.toString()));
        cli.stderr.on('data', (b: Buffer) => (err += b.toString()));
        cli.stdin.end(stdin ?? '');
        cli.on('close', (code) => resolve({ code, stdout: out, stderr: err }));
      }),
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// One production node for the integrator suite, as README "First run in production" says: an
// empty SQLite file, the first organisation and its admin from the admin CLI, nothing else.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAdminCli, startServiceNode } from './service.js';

export interface IntegratorService {
  baseUrl: string;
  stop(): Promise<void>;
}

/** Creates organisation `slug` and its admin with the admin CLI, then starts a node. */
export async function startIntegratorService(admin: {
  slug: string;
  timezone: string;
  email: string;
  password: string;
}): Promise<IntegratorService> {
  const dataDir = mkdtempSync(join(tmpdir(), 'docs24-integrator-'));
  const env = {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: dataDir,
    SQLITE_PATH: join(dataDir, 'attendance.db'),
    JWT_SECRET: 'integrator-suite-secret-of-at-least-32-characters',
    PUBLIC_URL: 'https://attendance.lycee.example',
    BCRYPT_COST: '4',
    FACE_ENABLED: 'false',
    // the receiver runs on loopback (docs/webhooks.md "Server-side request forgery")
    WEBHOOK_ALLOW_PRIVATE: 'true',
    WEBHOOK_POLL_MS: '200',
  };
  const cli = async (args: string[], stdin = ''): Promise<void> => {
    const run = await runAdminCli(args, env, stdin);
    if (run.code !== 0) throw new Error(`admin ${args.join(' ')}: ${run.code}\n${run.stdout}${run.stderr}`);
  };
  try {
    await cli(['org', 'create', '--name', 'Lycée Intégration', '--slug', admin.slug, '--timezone', admin.timezone]);
    await cli(['admin', 'create', '--org', admin.slug, '--email', admin.email, '--name', 'SIS sync', '--password-stdin'], admin.password);
    const node = await startServiceNode(env);
    return {
      baseUrl: node.url,
      async stop() {
        await node.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

// One production node on an empty SQLite file, without Redis or SMTP, as README "First run in
// production" starts it, and the admin CLI beside it (both through ../service.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAdminCli, startServiceNode, type CliRun } from '../service.js';

export interface ProductionNode {
  baseUrl: string;
  dataDir: string;
  /** `npm run admin -- ARGS` with the node's environment. */
  admin(args: string[], stdin?: string): Promise<CliRun>;
  stop(): Promise<void>;
}

export async function startProductionNode(): Promise<ProductionNode> {
  const dataDir = mkdtempSync(join(tmpdir(), 'docs-fresh-'));
  const store = { NODE_ENV: 'production', DATA_DIR: dataDir, SQLITE_PATH: join(dataDir, 'attendance.db'), BCRYPT_COST: '4' };
  const node = await startServiceNode({
    ...store,
    NODE_ID: 'fresh-1',
    HOST: '127.0.0.1',
    PORT: '0',
    JWT_SECRET: 'docs-fresh-secret-of-at-least-thirty-two-characters',
    PUBLIC_URL: 'https://attendance.fresh.test',
    FACE_ENABLED: 'false',
  });
  return {
    baseUrl: node.url,
    dataDir,
    admin: (args, stdin) => runAdminCli(args, store, stdin),
    stop: async () => {
      await node.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

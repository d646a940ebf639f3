import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Validates docker-compose.yml with whichever Compose is installed (no engine needed):
// `docker compose` (v2 plugin) or Debian's `docker-compose`. Skipped, saying so, when neither is.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const composeFile = path.join(root, 'docker-compose.yml');

function findCompose(): string[] | null {
  for (const cmd of [['docker', 'compose'], ['docker-compose']]) {
    const r = spawnSync(cmd[0]!, [...cmd.slice(1), 'version'], { encoding: 'utf8' });
    if (r.status === 0) return cmd;
  }
  return null;
}

function runConfig(cmd: string[], extraEnv: Record<string, string | undefined>, args: string[] = ['-q']) {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extraEnv };
  for (const [k, v] of Object.entries(extraEnv)) if (v === undefined) delete env[k];
  return spawnSync(cmd[0]!, [...cmd.slice(1), '-f', composeFile, 'config', ...args], { encoding: 'utf8', env, cwd: root });
}

describe('docker-compose.yml', function () {
  const compose = findCompose();

  before(function () {
    if (!compose) {
      console.log('    (skipped: neither `docker compose` nor `docker-compose` is installed; apt-get install docker-compose to run)');
      this.skip();
    }
  });

  it('is valid when JWT_SECRET is set', () => {
    const r = runConfig(compose!, { JWT_SECRET: 'x'.repeat(48) });
    expect(r.status, r.stderr).to.equal(0);
  });

  it('refuses to render without JWT_SECRET', () => {
    const r = runConfig(compose!, { JWT_SECRET: undefined });
    expect(r.status).to.not.equal(0);
    expect(r.stderr).to.contain('set JWT_SECRET');
  });

  it('runs two app replicas behind nginx, waiting for healthy mongo and redis', () => {
    const r = runConfig(compose!, { JWT_SECRET: 'secret-from-env-'.repeat(3) }, []);
    expect(r.status, r.stderr).to.equal(0);
    const out = r.stdout;
    expect(out).to.match(/replicas: 2/);
    expect(out).to.contain('NODE_ENV: production');
    expect(out).to.contain('MONGODB_URI: mongodb://mongo:27017/attendance');
    expect(out).to.contain('REDIS_URL: redis://redis:6379');
    expect(out).to.contain(`JWT_SECRET: ${'secret-from-env-'.repeat(3)}`);
    expect(out.match(/condition: service_healthy/g) ?? []).to.have.length(3);
    expect(out).to.contain('mongo-data:/data/db');
    // Redis keeps an append-only file on a volume across restarts.
    expect(out).to.match(/--appendonly\W+yes/);
    expect(out).to.contain('redis-data:/data');
    expect(out).to.contain('/etc/nginx/conf.d/default.conf');
  });
});

describe('deploy/nginx.conf', () => {
  const conf = readFileSync(path.join(root, 'deploy/nginx.conf'), 'utf8');

  it('proxies WebSocket upgrades to the app replicas with ip_hash affinity', () => {
    expect(conf).to.match(/upstream attendance \{[^}]*\bip_hash;[^}]*server app:3000;/s);
    expect(conf).to.contain('proxy_set_header Upgrade $http_upgrade;');
    expect(conf).to.contain('proxy_set_header Connection $connection_upgrade;');
    expect(conf).to.match(/location \/socket\.io\/ \{[^}]*proxy_http_version 1\.1;/s);
  });
});

describe('Dockerfile', () => {
  const file = readFileSync(path.join(root, 'Dockerfile'), 'utf8');

  it('builds in one stage and runs production dependencies as a non-root user in another', () => {
    const stages = file.split(/^FROM /m).slice(1);
    expect(stages).to.have.length(2);
    expect(stages[0]).to.contain('RUN npm run build');
    expect(stages[1]).to.contain('npm ci --omit=dev');
    expect(stages[1]).to.match(/^USER node$/m);
    expect(stages[1]).to.contain('NODE_ENV=production');
    expect(stages[1]).to.match(/HEALTHCHECK[\s\S]*fetch\([\s\S]*?\/healthz/);
    expect(stages[1]).to.contain('CMD ["node", "dist/src/index.js"]');
  });
});

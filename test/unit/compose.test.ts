import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CADDY, caddyAvailable } from '../support/caddy.js';
import { skipBecause } from '../support/skip.js';
import { MAX_ENROLMENT_PHOTOS } from '../../src/domain/face/enrolment-service.js';
import { loadFaceConfig } from '../../src/face/face-config.js';
import { SERVICE_NODE_FLAGS } from '../../scripts/lib/service-node-flags.js';

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
  const env: NodeJS.ProcessEnv = { ...process.env, PUBLIC_URL: 'https://attendance.school.example', ...extraEnv };
  for (const [k, v] of Object.entries(extraEnv)) if (v === undefined) delete env[k];
  return spawnSync(cmd[0]!, [...cmd.slice(1), '-f', composeFile, 'config', ...args], { encoding: 'utf8', env, cwd: root });
}

describe('docker-compose.yml', function () {
  const compose = findCompose();

  before(function () {
    if (!compose) {
      skipBecause(this, 'neither `docker compose` nor `docker-compose` is installed; apt-get install docker-compose to run');
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

  it('refuses to render without PUBLIC_URL, which invitation links start with', () => {
    const r = runConfig(compose!, { JWT_SECRET: 'x'.repeat(48), PUBLIC_URL: undefined });
    expect(r.status).to.not.equal(0);
    expect(r.stderr).to.contain('set PUBLIC_URL');
  });

  it('runs two app replicas behind Caddy, waiting for healthy mongo and redis', () => {
    const r = runConfig(compose!, { JWT_SECRET: 'secret-from-env-'.repeat(3), TLS_MODE: undefined, SITE_ADDRESS: undefined }, []);
    expect(r.status, r.stderr).to.equal(0);
    const out = r.stdout;
    expect(out).to.match(/replicas: 2/);
    expect(out).to.contain('NODE_ENV: production');
    expect(out).to.contain('MONGODB_URI: mongodb://mongo:27017/attendance');
    expect(out).to.contain('REDIS_URL: redis://redis:6379');
    expect(out).to.contain(`JWT_SECRET: ${'secret-from-env-'.repeat(3)}`);
    expect(out).to.contain('PUBLIC_URL: https://attendance.school.example');
    expect(out.match(/condition: service_healthy/g) ?? []).to.have.length(3);
    expect(out).to.contain('mongo-data:/data/db');
    // Redis keeps an append-only file on a volume across restarts.
    expect(out).to.match(/--appendonly\W+yes/);
    expect(out).to.contain('redis-data:/data');
    expect(out).to.not.contain('nginx');
  });

  it('terminates TLS in Caddy: LAN mode (local CA) by default, the public ACME mode by TLS_MODE, the CA kept in a volume', () => {
    const lan = runConfig(compose!, { JWT_SECRET: 'x'.repeat(48), TLS_MODE: undefined, SITE_ADDRESS: undefined }, []);
    expect(lan.status, lan.stderr).to.equal(0);
    expect(lan.stdout).to.match(/image: caddy:2/);
    expect(lan.stdout).to.contain('/etc/caddy/deploy/lan.Caddyfile');
    expect(lan.stdout).to.contain('SITE_ADDRESS: localhost');
    expect(lan.stdout).to.match(/caddy-data:\/data/);
    expect(lan.stdout).to.match(/published: 443|443:443/);
    expect(lan.stdout).to.match(/published: 80\b|80:80/);
    // One proxy hop: the network check reads the client address Caddy puts in X-Forwarded-For.
    expect(lan.stdout).to.match(/TRUST_PROXY: '1'|TRUST_PROXY: "1"/);

    const pub = runConfig(compose!, { JWT_SECRET: 'x'.repeat(48), TLS_MODE: 'public', SITE_ADDRESS: 'attendance.school.example' }, []);
    expect(pub.status, pub.stderr).to.equal(0);
    expect(pub.stdout).to.contain('/etc/caddy/deploy/public.Caddyfile');
    expect(pub.stdout).to.contain('SITE_ADDRESS: attendance.school.example');
    for (const mode of ['lan', 'public']) expect(existsSync(path.join(root, 'deploy/caddy', `${mode}.Caddyfile`)), mode).to.equal(true);
  });
});

describe('deploy/caddy', () => {
  const file = (name: string) => readFileSync(path.join(root, 'deploy/caddy', name), 'utf8');
  const caddy = caddyAvailable();

  it('proxies to every app replica with client-IP affinity (Socket.IO polling), HSTS and a body limit', () => {
    const proxy = file('proxy.caddy');
    expect(proxy).to.match(/reverse_proxy \{[^]*dynamic a \{[^}]*name app[^}]*port 3000/);
    expect(proxy).to.match(/lb_policy ip_hash/);
    // Passive health checks: without them ip_hash retries a dead replica until lb_try_duration ends.
    expect(proxy).to.match(/fail_duration \d+s/);
    expect(proxy).to.match(/header Strict-Transport-Security "max-age=\d+"/);
    // An outer bound only: a face enrolment's photos at their default limit must reach the service,
    // whose own per-route limits answer with coded errors (2MB refused an admin's phone photos).
    const limit = /max_size (\d+)MB/.exec(proxy);
    expect(limit, 'request_body max_size in MB').to.not.equal(null);
    expect(Number(limit![1]) * 1_000_000).to.be.at.least(MAX_ENROLMENT_PHOTOS * loadFaceConfig({}).image.maxBytes + 64 * 1024);
    // Caddy's own X-Forwarded-For is what TRUST_PROXY=1 reads: nothing may override it.
    expect(proxy).to.not.match(/header_up\s+X-Forwarded-For/i);
  });

  it('public mode uses ACME (no tls directive); LAN mode signs with the local CA and serves its root', () => {
    const pub = file('public.Caddyfile');
    expect(pub).to.match(/^\{\$SITE_ADDRESS\} \{/m);
    expect(pub).to.not.match(/^\s*tls /m);
    expect(pub).to.contain('import proxy.caddy');
    const lan = file('lan.Caddyfile');
    expect(lan).to.match(/^\s*tls internal$/m);
    expect(lan).to.contain('/data/caddy/pki/authorities/local');
    expect(lan).to.contain('import proxy.caddy');
  });

  for (const mode of ['public', 'lan']) {
    it(`${mode}.Caddyfile is accepted by caddy adapt --validate`, function () {
      if (!caddy) {
        skipBecause(this, 'caddy is not installed; apt-get install caddy to run');
      }
      const r = spawnSync(CADDY, ['adapt', '--config', `${mode}.Caddyfile`, '--adapter', 'caddyfile', '--validate'], {
        cwd: path.join(root, 'deploy/caddy'),
        encoding: 'utf8',
        env: { ...process.env, SITE_ADDRESS: 'attendance.school.example, 192.168.1.10' },
      });
      expect(r.status, r.stderr).to.equal(0);
      const json = JSON.parse(r.stdout) as { apps: { http: { servers: Record<string, { listen: string[] }> } } };
      const listens = Object.values(json.apps.http.servers).flatMap((srv) => srv.listen);
      expect(listens).to.include(':443');
      expect(r.stdout).to.contain('"ip_hash"');
    });
  }
});

describe('monitoring (deploy/prometheus, deploy/grafana)', () => {
  const exported = readFileSync(path.join(root, 'src/observability/metrics.ts'), 'utf8');

  it('scrapes every app replica on the port the compose file gives METRICS_PORT', () => {
    const prometheus = readFileSync(path.join(root, 'deploy/prometheus/prometheus.yml'), 'utf8');
    const compose = readFileSync(composeFile, 'utf8');
    const port = /METRICS_PORT: "(\d+)"/.exec(compose)?.[1];
    expect(port, 'the app exposes metrics on a port of its own').to.be.a('string');
    expect(prometheus).to.match(new RegExp(`names: \\["app"\\][\\s\\S]*port: ${port}`));
    expect(compose).to.contain('./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro');
  });

  it('charts only metrics the service exports', () => {
    const dashboard = JSON.parse(readFileSync(path.join(root, 'deploy/grafana/attendance-dashboard.json'), 'utf8')) as {
      panels: { targets: { expr: string }[] }[];
    };
    const used = new Set(dashboard.panels.flatMap((p) => p.targets.flatMap((t) => t.expr.match(/attendance_[a-z_]+/g) ?? [])));
    expect(used.size).to.be.above(5);
    for (const name of used) {
      const base = name.replace(/_(bucket|count|sum)$/, '');
      expect(exported, `${name} is exported`).to.contain(`'${base}'`);
    }
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
    expect(stages[1]).to.contain(`CMD ${JSON.stringify(['node', ...SERVICE_NODE_FLAGS, 'dist/src/index.js'])}`.replace(/","/g, '", "'));
  });
});

describe('node options of the service', () => {
  const scripts = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

  it('are the same for npm start, npm run start:prod and the image (what the benchmarks measure)', () => {
    expect(SERVICE_NODE_FLAGS).to.include('--max-semi-space-size=64');
    const flags = SERVICE_NODE_FLAGS.join(' ');
    expect(scripts['start']).to.equal(`node ${flags} --import tsx src/index.ts`);
    expect(scripts['start:prod']).to.equal(`node ${flags} dist/src/index.js`);
  });
});

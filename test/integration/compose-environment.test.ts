import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { onFreePort } from '../../scripts/lib/ports.js';
import { REPO_ROOT } from '../support/run-node.js';
import { skipBecause } from '../support/skip.js';

/**
 * What docker-compose.yml gives the service, checked against the service itself: the variables
 * it sets are the configuration table's, a production node accepts them, no secret has a
 * default, and the health check and the Prometheus scrape call endpoints a node serves.
 */
const read = (name: string) => readFileSync(path.join(REPO_ROOT, name), 'utf8');
const SECRET = 'secret-from-the-operator-'.repeat(2);

function compose(): string[] | null {
  for (const cmd of [['docker', 'compose'], ['docker-compose']]) {
    if (spawnSync(cmd[0]!, [...cmd.slice(1), 'version'], { stdio: 'ignore' }).status === 0) return cmd;
  }
  return null;
}

/** The `app` service's environment as Compose renders it with only the required variables set. */
function renderedAppEnvironment(cmd: string[]): Record<string, string> {
  const env: NodeJS.ProcessEnv = { ...process.env, JWT_SECRET: SECRET, PUBLIC_URL: 'https://attendance.school.lan' };
  for (const name of ['SMTP_URL', 'MAIL_FROM', 'LOG_LEVEL', 'TLS_MODE', 'SITE_ADDRESS']) delete env[name];
  const r = spawnSync(cmd[0]!, [...cmd.slice(1), '-f', 'docker-compose.yml', 'config'], { cwd: REPO_ROOT, env, encoding: 'utf8' });
  expect(r.status, r.stderr).to.equal(0);
  const lines = r.stdout.split('\n');
  const app = lines.indexOf('  app:');
  const start = lines.indexOf('    environment:', app);
  expect(app, 'an app service').to.be.above(-1);
  expect(start, 'its environment').to.be.above(app);
  const out: Record<string, string> = {};
  for (const line of lines.slice(start + 1)) {
    const m = /^ {6}([A-Z0-9_]+): ?(.*)$/.exec(line);
    if (!m) break;
    const raw = m[2]!;
    out[m[1]!] = /^'.*'$/.test(raw) ? raw.slice(1, -1).replace(/''/g, "'") : /^".*"$/.test(raw) ? (JSON.parse(raw) as string) : raw;
  }
  return out;
}

/** The variables the README's configuration table documents. */
function documentedVariables(): Set<string> {
  const readme = read('README.md');
  const table = readme.slice(readme.indexOf('## Configuration'));
  const names = new Set<string>();
  for (const row of table.split('\n').filter((l) => l.startsWith('| `'))) {
    for (const m of row.split('|')[1]!.matchAll(/`([A-Z][A-Z0-9_]+)`/g)) names.add(m[1]!);
  }
  return names;
}

/** ENV lines of the Dockerfile's runtime stage: the container's environment under compose's. */
function imageEnvironment(): Record<string, string> {
  const runtime = read('Dockerfile')
    .split(/^FROM /m)
    .at(-1)!;
  const block = /^ENV ((?:.*\\\n)*.*)$/m.exec(runtime)![1]!;
  return Object.fromEntries([...block.matchAll(/([A-Z_]+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
}

describe('docker-compose.yml against the service', function () {
  this.timeout(30_000);
  const cmd = compose();
  let environment: Record<string, string>;

  before(function () {
    if (!cmd) skipBecause(this, 'neither `docker compose` nor `docker-compose` is installed; apt-get install docker-compose to run');
    environment = renderedAppEnvironment(cmd!);
  });

  it('sets only variables of the configuration table', () => {
    const documented = documentedVariables();
    expect(documented.size).to.be.above(50);
    for (const name of [...Object.keys(environment), ...Object.keys(imageEnvironment())]) {
      expect(documented.has(name), `${name} is in the README's configuration table`).to.equal(true);
    }
  });

  it('gives no secret a default: each comes from the operator, and the file refuses to render without it', () => {
    const file = read('docker-compose.yml');
    const secretish = Object.keys(environment).filter((k) => /SECRET|TOKEN|PASSWORD|PRIVATE_KEY/.test(k));
    expect(secretish).to.include('JWT_SECRET');
    for (const name of secretish) {
      expect(file, `${name} is required from the environment`).to.match(new RegExp(`^\\s+${name}: "?\\$\\{${name}:\\?`, 'm'));
      expect(environment[name]).to.equal(SECRET);
    }
  });

  it('is an environment a production node starts with: store, Redis, proxy and metrics as deploy.md says', () => {
    const config = loadConfig({ ...imageEnvironment(), ...environment });
    expect(config.env).to.equal('production');
    expect(config.store.kind).to.equal('mongo');
    expect(config.redisUrl).to.equal('redis://redis:6379');
    expect(config.trustProxy).to.equal(1);
    expect(config.port).to.equal(3000);
    expect(config.metrics).to.deep.include({ port: 9464, host: '0.0.0.0', token: null });
    // Unset in the operator's shell, these render empty, which the service takes as unset.
    expect(environment['SMTP_URL']).to.equal('');
    expect(config.mail.smtpUrl).to.equal(null);
  });

  describe('the probes it relies on', () => {
    let server: TestServer;
    let metricsPort: number;
    before(async () => {
      server = await onFreePort((port) => {
        metricsPort = port;
        return startTestServer({ METRICS_PORT: String(port), FACE_ENABLED: 'false' });
      });
    });
    after(() => server?.cleanup());

    it("the image's HEALTHCHECK (which the proxy waits on: depends_on service_healthy) asks an endpoint a node answers 200", async () => {
      const check = /HEALTHCHECK[^]*?fetch\('http:\/\/127\.0\.0\.1:' \+ \(process\.env\.PORT \|\| 3000\) \+ '([^']+)'/.exec(
        read('Dockerfile'),
      );
      expect(check, 'the HEALTHCHECK fetches a path on PORT').to.not.equal(null);
      expect(read('docker-compose.yml')).to.match(/caddy:[^]*depends_on:\s+app:\s+condition: service_healthy/);
      const res = await fetch(server.baseUrl + check![1]!);
      expect(res.status).to.equal(200);
    });

    it('Prometheus scrapes a path the metrics port serves', async () => {
      const prometheus = read('deploy/prometheus/prometheus.yml');
      const metricsPath = /metrics_path: (\S+)/.exec(prometheus)?.[1] ?? '/metrics';
      const res = await fetch(`http://127.0.0.1:${metricsPort}${metricsPath}`);
      expect(res.status).to.equal(200);
      expect(await res.text()).to.contain('attendance_');
    });
  });
});

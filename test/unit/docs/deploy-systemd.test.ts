import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { EnvSchema, loadConfig } from '../../../src/config.js';
import { allowedValues } from '../../../src/env-values.js';
import { FaceEnvSchema } from '../../../src/face/face-config.js';
import { SERVICE_NODE_FLAGS } from '../../../scripts/lib/service-node-flags.js';
import { skipBecause } from '../../support/skip.js';

// docs/deploy.md's one-server path ended at `npm run start:prod` in a shell: nothing kept the
// service running after logout, a crash or a reboot. deploy/systemd holds the unit and the
// environment file the IT person copies; the same file is read by systemd and by a shell.
const unit = fileURLToPath(new URL('../../../deploy/systemd/attendance.service', import.meta.url));
const envFile = fileURLToPath(new URL('../../../deploy/systemd/attendance.env.example', import.meta.url));

describe('deploy/systemd', () => {
  it('is a unit systemd accepts, running the service with the options of npm run start:prod', function () {
    const analyze = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
    if (analyze.error) skipBecause(this, 'systemd-analyze is not installed (Debian: systemd)');
    expect(analyze.status, analyze.stderr).to.equal(0);
    expect(analyze.stderr).to.equal('');
    const unitText = readFileSync(unit, 'utf8');
    const exec = /^ExecStart=(\S+) (.*)$/m.exec(unitText);
    expect(exec?.[2]).to.equal([...SERVICE_NODE_FLAGS, 'dist/src/index.js'].join(' '));
  });

  it('has an environment file that a shell sources into a valid production configuration once JWT_SECRET is set', () => {
    // What the CLI steps do: set -a; . the file; set +a. Printed as JSON to read it back exactly.
    const sourced = spawnSync(
      'sh',
      ['-c', `set -a; . "$1"; set +a; exec "${process.execPath}" -e 'process.stdout.write(JSON.stringify(process.env))'`, 'sh', envFile],
      { encoding: 'utf8', env: { PATH: process.env['PATH'] } },
    );
    expect(sourced.status, sourced.stderr).to.equal(0);
    const env = JSON.parse(sourced.stdout) as Record<string, string>;
    expect(env['MAIL_FROM']).to.equal('Example School <attendance@school.lan>');
    expect(env['JWT_SECRET'], 'left for the operator to make').to.equal('');
    // The certificate files are the operator's own: checked here without them.
    const { TLS_CERT_FILE: _cert, TLS_KEY_FILE: _key, ...rest } = env;
    const config = loadConfig({ ...rest, JWT_SECRET: 'x'.repeat(48) });
    expect(config.env).to.equal('production');
    expect(config.port).to.equal(443);
    expect(config.accounts.publicUrl).to.equal('https://attendance.school.lan');
    expect(config.store).to.include({ kind: 'sqlite', path: '/var/lib/attendance/attendance.db' });
    expect(config.mail.smtpUrl).to.equal('smtp://mail.school.lan:587');
  });

  // The file the IT person copies is where they look for a setting: it names every one, the
  // defaults and ranges of README's tables, so uncommenting a line never changes a default.
  it('lists every setting once, those left commented out with their default, under the values they allow', () => {
    const settings: Record<string, z.ZodType> = { ...EnvSchema.shape, ...FaceEnvSchema.shape };
    const defaults = { ...(EnvSchema.parse({}) as Record<string, unknown>), ...(FaceEnvSchema.parse({}) as Record<string, unknown>) };
    const seen: string[] = [];
    const wrong: string[] = [];
    let comments: string[] = [];
    for (const line of readFileSync(envFile, 'utf8').split('\n')) {
      const m = /^(#?)([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
      if (!m) {
        if (line.startsWith('# ')) comments.push(line.slice(2));
        continue;
      }
      const [, hash, name, raw] = m as unknown as [string, string, string, string];
      seen.push(name);
      const schema = settings[name];
      if (!schema) {
        wrong.push(`${name}: no such setting`);
        continue;
      }
      const allowed = allowedValues(schema)?.replace(/`/g, '');
      if (allowed && !comments.some((c) => c.startsWith(allowed))) wrong.push(`${name}: no "# ${allowed}" above it`);
      const value = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
      const d = defaults[name];
      if (hash && value !== (d === undefined ? '' : String(d))) wrong.push(`${name}: ${value}, its default is ${String(d)}`);
      comments = [];
    }
    expect(wrong).to.deep.equal([]);
    expect(seen.filter((n, i) => seen.indexOf(n) !== i)).to.deep.equal([]);
    expect([...seen].sort()).to.deep.equal(Object.keys(settings).sort());
  });
});

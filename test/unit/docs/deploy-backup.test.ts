import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// docs/deploy.md step 5 gives the IT person a cron line to copy: cron's own escaping (a bare %
// ends the command), the sourced environment, the umask and the pruning must all work as written.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const doc = readFileSync(path.join(ROOT, 'docs/deploy.md'), 'utf8');

describe("docs/deploy.md's nightly backup", function () {
  this.timeout(120_000);
  let dir = '';
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('makes a backup readable by the service account alone and keeps the last 30 days, as cron runs the line', () => {
    const line = /^ {3}(\d+ \d+ \* \* \* attendance .*)$/m.exec(doc)?.[1];
    expect(line, 'the cron line of step 5').to.be.a('string');
    const command = line!.split(' ').slice(6).join(' ');
    // cron(8): an unescaped % ends the command and feeds the rest to its standard input.
    expect(command.replace(/\\%/g, ''), 'no bare %').to.not.contain('%');
    dir = mkdtempSync(path.join(tmpdir(), 'deploy-backup-'));
    const data = path.join(dir, 'data');
    const backups = path.join(dir, 'backups');
    mkdirSync(data);
    mkdirSync(backups, { mode: 0o700 });
    const envFile = path.join(dir, 'attendance.env');
    writeFileSync(
      envFile,
      `NODE_ENV=production\nDATA_DIR=${data}\nSQLITE_PATH=${data}/attendance.db\nMAIL_FROM="Example School <a@school.lan>"\n`,
    );
    const env = { PATH: process.env['PATH'] ?? '' };
    const admin = spawnSync(
      'sh',
      ['-c', `set -a; . "${envFile}"; set +a; exec node --import tsx scripts/admin.ts org create --name School --slug school`],
      { cwd: ROOT, env, encoding: 'utf8' },
    );
    expect(admin.status, admin.stderr).to.equal(0);
    // Two earlier backups: one past the 30 days, one within them.
    const day = 86_400;
    const old = path.join(backups, 'attendance-2000-01-01.db');
    const recent = path.join(backups, 'attendance-2000-01-02.db');
    for (const [file, age] of [
      [old, 40],
      [recent, 10],
    ] as const) {
      writeFileSync(file, 'x');
      const t = Date.now() / 1000 - age * day;
      utimesSync(file, t, t);
    }
    // The doc's paths put where this test keeps them; dist/scripts/backup.js is the build of scripts/backup.ts.
    const run = command
      .replace(/\\%/g, '%')
      .replaceAll('/etc/attendance/attendance.env', envFile)
      .replaceAll('/opt/attendance', ROOT)
      .replaceAll('/var/backups/attendance', backups)
      .replace('node dist/scripts/backup.js', 'node --import tsx scripts/backup.ts');
    expect(run).to.not.equal(command);
    const result = spawnSync('sh', ['-c', run], { cwd: '/', env, encoding: 'utf8' });
    expect(result.status, result.stderr).to.equal(0);
    const left = readdirSync(backups);
    expect(left).to.include(path.basename(recent)).and.not.include(path.basename(old));
    const made = left.filter((f) => f !== path.basename(recent)).map((f) => path.join(backups, f));
    expect(made.map((f) => path.basename(f))).to.satisfy(
      (names: string[]) => names.length === 1 && /^attendance-\d{4}-\d{2}-\d{2}\.db$/.test(names[0]!),
    );
    expect(readFileSync(made[0]!).subarray(0, 15).toString()).to.equal('SQLite format 3');
    expect(statSync(made[0]!).mode & 0o777).to.equal(0o600);
  });
});

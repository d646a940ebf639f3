import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

// The school's IT person sees a refused start in a terminal or in journalctl: one line per bad
// value must say which variable, what was given and what it allows, and the service must stop
// before it opens the store or listens.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(env: Record<string, string>): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '', PORT: '0', LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('a start with a bad setting', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'config-start-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const cases: { name: string; env: Record<string, string>; line: string }[] = [
    {
      name: 'a number out of its range',
      env: { TIMETABLE_INTERVAL_MS: '2000' },
      line: 'TIMETABLE_INTERVAL_MS=2000: too small; allowed: 60 000 to 86 400 000',
    },
    { name: 'not a number', env: { PORT: 'eighty' }, line: 'PORT=eighty: not a number; allowed: 0 to 65 535' },
    {
      name: 'an unknown value of a list',
      env: { REDIS_ADAPTER: 'fast' },
      line: 'REDIS_ADAPTER=fast: not one of the values; allowed: sharded, classic',
    },
    {
      name: 'a face option out of its range',
      env: { FACE_MAX_SIDE: '99999' },
      line: 'FACE_MAX_SIDE=99999: too big; allowed: 160 to 4 096',
    },
    {
      name: 'a secret too short, by its length only',
      env: { JWT_SECRET: 'hunter2-hunter2' },
      line: 'JWT_SECRET (15 characters, not shown): too short; allowed: at least 32 characters (make one with openssl rand -base64 48)',
    },
    {
      name: 'production without a secret',
      env: { NODE_ENV: 'production', PUBLIC_URL: 'https://attendance.school.example' },
      line: 'production requires JWT_SECRET (at least 32 characters) or RS256 key files',
    },
  ];

  for (const [i, c] of cases.entries()) {
    it(`exits 1 before opening the store, printing one line for ${c.name}`, async () => {
      const dataDir = path.join(dir, String(i));
      const sqlitePath = path.join(dataDir, 'attendance.db');
      const exit = await start({ NODE_ENV: 'development', DATA_DIR: dataDir, SQLITE_PATH: sqlitePath, ...c.env });
      expect(exit.code, exit.stderr).to.equal(1);
      expect(exit.stderr.split('\n')).to.include(`  - ${c.line}`);
      expect(exit.stderr).to.not.contain('hunter2');
      expect(exit.stdout, 'nothing logged: no store opened, no port').to.equal('');
      // No store file, no development secret: the start stopped before it wrote anything.
      expect(readdirSync(dir)).to.not.include(String(i));
    });
  }
});

import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../support/run-node.js';

// The query-plan census's recording command, as scripts/lib/query-plans.ts's header and
// docs/multi-node.md give it, must finish by itself and write its file: in its NODE_OPTIONS form
// it hung at start without a line printed (round 31), and nothing ran it.

const FIXTURE = 'test/support/query-plans-fixtures/sqlite-reads.test.ts';
const BOUND_MS = 120_000;

/** The command line of the header's usage, the one a contributor copies. */
function documentedCommand(): string {
  const header = readFileSync(path.join(REPO_ROOT, 'scripts/lib/query-plans.ts'), 'utf8');
  const line = /^ \*\s+(QUERY_PLANS_OUT=\S+ .*test\/contract\/sqlite\.test\.ts)$/m.exec(header);
  if (!line) throw new Error('scripts/lib/query-plans.ts gives no command over test/contract/sqlite.test.ts');
  return line[1]!;
}

/** Runs a shell line in its own process group; the whole group is killed if it outlives `ms`. */
function runShell(line: string, ms: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    // The test process's own flags (mocha's node-option) must not stand in for the command's.
    delete env['NODE_OPTIONS'];
    const child = spawn('sh', ['-c', line], { cwd: REPO_ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => {
      process.kill(-child.pid!, 'SIGKILL');
      reject(new Error(`still running after ${ms} ms, killed: ${line}\n${out}`));
    }, ms);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('query-plans: the documented recording command', function () {
  this.timeout(BOUND_MS + 10_000);

  let dir = '';
  before(() => (dir = mkdtempSync(path.join(tmpdir(), 'query-plans-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is the one docs/multi-node.md gives, and not through NODE_OPTIONS', () => {
    const command = documentedCommand();
    expect(command).not.to.match(/NODE_OPTIONS/);
    const docs = readFileSync(path.join(REPO_ROOT, 'docs/multi-node.md'), 'utf8').replace(/\s+/g, ' ');
    expect(docs).to.contain(command.replace(/^QUERY_PLANS_OUT=\S+/, 'QUERY_PLANS_OUT=FILE'));
  });

  it('ends by itself, its tests passed, and writes the plans of the statements on records and audit', async () => {
    const out = path.join(dir, 'plans.json');
    const line = documentedCommand()
      .replace(/^QUERY_PLANS_OUT=\S+/, `QUERY_PLANS_OUT=${out}`)
      .replace('test/contract/sqlite.test.ts', FIXTURE);
    const run = await runShell(line, BOUND_MS);
    expect(run.code, run.out).to.equal(0);
    expect(run.out).to.match(/^1 passed, 0 failed, 0 skipped$/m);
    expect(existsSync(out), `no ${out}; it printed:\n${run.out}`).to.equal(true);
    const plans = JSON.parse(readFileSync(out, 'utf8')) as Record<string, string[]>;
    const statements = Object.keys(plans);
    expect(statements.some((sql) => /FROM records WHERE session_id/.test(sql))).to.equal(true);
    expect(statements.some((sql) => /FROM audit WHERE org_id/.test(sql))).to.equal(true);
    for (const sql of statements) expect(plans[sql], sql).to.have.length.greaterThan(0);
  });
});

import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { runNode, type NodeRun } from '../support/run-node.js';

// README's "Commands" table sends readers to `--help` for several scripts: each must answer it
// with its usage and exit 0 (migrate-to-mongo once failed with "Unknown option '--help'").
const ROOT = new URL('../../', import.meta.url);
const readme = readFileSync(new URL('README.md', ROOT), 'utf8');

function helpCommands(): string[] {
  const scripts = [...readme.matchAll(/`node --import tsx (scripts\/[a-z-]+\.ts) --help`/g)].map((m) => m[1]!);
  return [...new Set(scripts)];
}

function run(args: string[]): Promise<NodeRun> {
  return runNode(args, { env: { ...process.env, LOG_LEVEL: 'silent' } });
}

describe("README's script commands", function () {
  this.timeout(60_000);

  it('names the scripts whose --help it promises', () => {
    expect(helpCommands()).to.include.members(['scripts/loadtest.ts', 'scripts/migrate-to-mongo.ts', 'scripts/enrol-faces.ts']);
  });

  for (const script of helpCommands()) {
    it(`${script} --help prints its usage and exits 0`, async () => {
      const res = await run(['--import', 'tsx', script, '--help']);
      expect(res.code, res.stderr).to.equal(0);
      expect(res.stdout).to.match(/usage/i);
    });
  }

  it('migrate-to-mongo: an unknown option is bad usage (exit 2), as its header says', async () => {
    const res = await run(['--import', 'tsx', 'scripts/migrate-to-mongo.ts', '--no-such-option']);
    expect(res.code).to.equal(2);
    expect(res.stderr).to.include("Unknown option '--no-such-option'").and.to.match(/usage/);
  });

  // The README's admin CLI table is where an operator looks; `oneroster import` was in the CLI's
  // help and docs/oneroster.md but missing from the table.
  it("the admin CLI's commands are the README's admin table", async () => {
    const res = await run(['--import', 'tsx', 'scripts/admin.ts', '--help']);
    expect(res.code, res.stderr).to.equal(0);
    const fromHelp = [...res.stdout.matchAll(/^ {2}([a-z]+ [a-z]+) --/gm)].map((m) => m[1]!);
    const section = readme.slice(readme.indexOf('## First run in production'), readme.indexOf('## Deployment'));
    const rows = section.split('\n').filter((line) => line.startsWith('| `'));
    const fromReadme = rows.flatMap((row) => [...row.split(' | ')[0]!.matchAll(/`([a-z]+ [a-z]+) --/g)].map((m) => m[1]!));
    expect(fromHelp).to.include.members(['org create', 'admin create', 'oneroster import']);
    expect([...new Set(fromReadme)].sort()).to.deep.equal([...new Set(fromHelp)].sort());
  });
});

import { expect } from 'chai';
import path from 'node:path';
import { runNode, REPO_ROOT } from '../support/run-node.js';

// The test reporter's closing line and its guard against a run that never exits (a leaked
// server), over mocha in a child process on the fixtures in test/support/reporter-fixtures.

async function runMocha(fixture: string, env: Record<string, string> = {}): Promise<{ code: number | null; lines: string[] }> {
  const { code, out } = await runNode(
    [path.join(REPO_ROOT, 'node_modules/mocha/bin/mocha.js'), `test/support/reporter-fixtures/${fixture}`],
    {
      env: { ...process.env, ...env },
    },
  );
  return { code, lines: out.trimEnd().split('\n') };
}

describe('test reporter', function () {
  this.timeout(30_000);

  it('ends a clean run with the plain closing line and exit code 0', async () => {
    const { code, lines } = await runMocha('ends-cleanly.test.ts');
    expect(lines.at(-1)).to.equal('1 passed, 0 failed, 1 skipped');
    expect(code).to.equal(0);
  });

  it('names what keeps a finished run alive, counts it as a failure and exits', async () => {
    const { code, lines } = await runMocha('leaks-a-server.test.ts', { TEST_EXIT_GRACE_MS: '1000' });
    expect(lines).to.include('1 passed, 0 failed, 0 skipped');
    expect(lines.at(-2)).to.match(/did not exit within 1 s of the last test; still open: .*TCPServerWrap ×1/);
    expect(lines.at(-1)).to.equal('1 passed, 1 failed, 0 skipped');
    expect(code).to.equal(1);
  });
});

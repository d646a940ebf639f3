// The Python student and teacher of scripts/docs-client-python (python-socketio and requests,
// written from docs/protocol.md alone) against a development node it starts itself: a
// non-JavaScript Socket.IO client checks the protocol's wire details. scripts/test-setup.sh
// installs its pinned packages into .cache/venv; without them the suite says so and skips.
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../support/run-node.js';
import { skipBecause } from '../support/skip.js';

const PYTHON = path.join(REPO_ROOT, '.cache/venv/bin/python');
const SCRIPT = path.join(REPO_ROOT, 'scripts/docs-client-python/client.py');

function clientMissing(): string | null {
  const probe = spawnSync(PYTHON, ['-c', 'import socketio, requests, websocket'], { encoding: 'utf8' });
  if (probe.error) return `${PYTHON} is missing (scripts/test-setup.sh makes it)`;
  return probe.status === 0 ? null : `python-socketio or requests missing from .cache/venv (scripts/test-setup.sh installs them)`;
}

describe('docs client: a student and a teacher in Python (python-socketio)', function () {
  this.timeout(180_000);

  before(function () {
    const missing = clientMissing();
    if (missing) skipBecause(this, missing);
  });

  it('passes every check of protocol.md it makes: refusals, decisions, reconnect, renewal, closing', async function () {
    const child = spawn(PYTHON, [SCRIPT], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(
      out.split('\n').filter((line) => line.startsWith('FAIL')),
      out,
    ).to.deep.equal([]);
    expect(code, out).to.equal(0);
    expect(out).to.match(/^0 failed/m);
  });
});

import { Worker } from 'node:worker_threads';
import { readdirSync } from 'node:fs';
import { expect } from 'chai';
import { cpuByThreadName, threadDelta, UNNAMED_THREADS } from '../../../scripts/lib/loadtest-timeline.js';

describe('CPU by thread name (loadtest, bench-checkins)', function () {
  before(function () {
    try {
      readdirSync('/proc/self/task');
    } catch {
      // Not Linux: nothing to read.
      this.skip();
    }
  });

  it('names the main thread main, a named thread by its name, and sums the threads Node leaves named node', async () => {
    // A thread that names itself as the record writer does (src/observability/thread-name.ts),
    // then spins a little so that it has CPU time to show.
    const worker = new Worker(
      `const { writeFileSync } = require('node:fs');
       const { parentPort } = require('node:worker_threads');
       writeFileSync('/proc/thread-self/comm', 'perf32-probe');
       const until = Date.now() + 60;
       while (Date.now() < until);
       parentPort.postMessage('named');
       setInterval(() => {}, 1000);`,
      { eval: true },
    );
    try {
      await new Promise((resolve) => worker.once('message', resolve));
      const byName = cpuByThreadName(process.pid);
      expect(byName.has('main')).to.equal(true);
      expect(byName.has('perf32-probe')).to.equal(true);
      expect(byName.has(UNNAMED_THREADS)).to.equal(true);
      expect(byName.has('node')).to.equal(false);
      expect(byName.get('perf32-probe')).to.be.above(0);
    } finally {
      await worker.terminate();
    }
  });

  it('takes the difference by name; a thread born between the reads counts from zero', () => {
    const delta = threadDelta(
      new Map([
        ['main', 2],
        ['helpers', 1],
      ]),
      new Map([
        ['main', 3.5],
        ['helpers', 1.25],
        ['record-writer', 0.5],
      ]),
    );
    expect(delta).to.deep.equal({ main: 1.5, helpers: 0.25, 'record-writer': 0.5 });
    expect(threadDelta(null, new Map([['main', 1]]))).to.equal(null);
    expect(threadDelta(new Map(), new Map())).to.equal(null);
  });
});

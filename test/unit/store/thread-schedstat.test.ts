import { existsSync } from 'node:fs';
import { expect } from 'chai';
import { parseSchedstat, schedstatDelta, threadSchedstatReader } from '../../../src/store/sqlite/thread-schedstat.js';
import { framesWritten } from '../../../src/store/sqlite/wal-frames.js';

describe('thread schedstat (the stage table of the record writer)', function () {
  it('reads the three numbers of a schedstat line', function () {
    expect(parseSchedstat('1234567 89 3\n')).to.deep.equal({ runNs: 1234567, waitNs: 89, slices: 3 });
  });

  it('refuses a line that is not three numbers', function () {
    expect(() => parseSchedstat('1234567 89\n')).to.throw(/unexpected schedstat line/);
    expect(() => parseSchedstat('')).to.throw(/unexpected schedstat line/);
  });

  it('subtracts two reads', function () {
    const d = schedstatDelta({ runNs: 100, waitNs: 10, slices: 2 }, { runNs: 350, waitNs: 40, slices: 5 });
    expect(d).to.deep.equal({ runNs: 250, waitNs: 30, slices: 3 });
  });

  it("reads this thread's times again and again from one descriptor (Linux)", function () {
    if (!existsSync('/proc/thread-self/schedstat')) this.skip();
    const reader = threadSchedstatReader()!;
    try {
      const before = reader.read();
      // Spin until the counter shows 10 ms on a core, read through the same descriptor each time:
      // a reader that did not read afresh would never see it move. On a loaded machine the thread
      // gets a core only part of the wall time, so the bound is the case's own timeout, not a spin length.
      let after = reader.read();
      while (after.runNs - before.runNs <= 10_000_000) {
        const until = process.hrtime.bigint() + 1_000_000n;
        while (process.hrtime.bigint() < until);
        after = reader.read();
      }
      expect(after.runNs - before.runNs).to.be.greaterThan(10_000_000);
      expect(after.slices).to.be.at.least(before.slices);
    } finally {
      reader.close();
    }
  });

  it("counts a commit's frames, or all the WAL holds when the commit started it over", function () {
    expect(framesWritten(100, 130)).to.equal(30);
    expect(framesWritten(5_000, 12)).to.equal(12);
  });
});

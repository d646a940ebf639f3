import { expect } from 'chai';
import { CheckinStages } from '../../src/observability/checkin-stages.js';

// The node's stage recorder (CHECKIN_STAGES_FILE) keeps its times in typed blocks; the file it
// writes must read as it did when they were objects: scripts/lib/checkin-stages-table.ts reads it.

describe('check-in stage recorder (CHECKIN_STAGES_FILE)', () => {
  it("dumps each check-in's stages in order, null where not reached, with its batch", () => {
    const stages = new CheckinStages('/dev/null');
    stages.mark('s1', 'a', 'received', 10);
    stages.mark('s1', 'a', 'handler', 10.5);
    stages.mark('s2', 'a', 'received', 11);
    stages.mark('s1', 'a', 'answered', 14.25);
    stages.batch([{ sessionId: 's1', studentId: 'a' }], { cut: 12, posted: 12.5, stored: 13.75 });
    const dump = stages.dump();
    expect(dump.items).to.deep.equal({
      's1/a': { t: [10, 10.5, null, null, null, 14.25, null, null], batch: 0 },
      's2/a': { t: [11, null, null, null, null, null, null, null], batch: null },
    });
    expect(dump.batches).to.deep.equal([{ cut: 12, posted: 12.5, stored: 13.75, size: 1, writer: null }]);
  });

  it('keeps check-ins past the first block apart, each with its own batch', () => {
    const stages = new CheckinStages('/dev/null');
    const n = 40_000;
    for (let i = 0; i < n; i += 1) stages.mark('s', `u${i}`, 'read', i);
    stages.batch([{ sessionId: 's', studentId: `u${n - 1}` }], { cut: 1, posted: 2, stored: 3 });
    const { items } = stages.dump();
    expect(Object.keys(items)).to.have.length(n);
    expect(items['s/u20000']).to.deep.equal({ t: [null, null, 20_000, null, null, null, null, null], batch: null });
    expect(items[`s/u${n - 1}`]).to.deep.equal({ t: [null, null, n - 1, null, null, null, null, null], batch: 0 });
  });
});

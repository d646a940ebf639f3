import { expect } from 'chai';
import { busiestWindow, profileTop, table, windowAt, type CpuProfile } from '../../../scripts/lib/cpu-profile.js';

const ROOT = '/repo';
const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });

/**
 * (root) -> handler (src/a.ts) -> query (node_modules/lib/q.js line 9) -> query again (recursion);
 * (root) -> (idle). Each sample 1 ms after the one before: a busy 0.6 s, 0.4 s idle, then 0.1 s busy.
 */
function sample(): CpuProfile {
  const nodes = [
    { id: 1, callFrame: frame('(root)'), children: [2, 5] },
    { id: 2, callFrame: frame('handler', 'file:///repo/src/a.ts', 40), children: [3] },
    { id: 3, callFrame: frame('query', 'file:///repo/node_modules/lib/q.js', 8), children: [4] },
    { id: 4, callFrame: frame('query', 'file:///repo/node_modules/lib/q.js', 8) },
    { id: 5, callFrame: frame('(idle)') },
  ];
  // 300 samples in the recursive query, 200 in query, 100 in handler; 400 idle; 100 in handler.
  const samples = [...Array<number>(300).fill(4), ...Array<number>(200).fill(3), ...Array<number>(100).fill(2)];
  const later = [...Array<number>(400).fill(5), ...Array<number>(100).fill(2)];
  const all = [...samples, ...later];
  return { nodes, startTime: 0, endTime: all.length * 1_000, samples: all, timeDeltas: all.map(() => 1_000) };
}

describe('CPU profile summary (scripts/profile-top.ts)', () => {
  it('adds self time per function and file, and total time once per sample even through recursion', () => {
    const top = profileTop(sample(), ROOT);
    const row = (name: string) => top.rows.find((r) => r.frame === name);
    expect(top.sampledMs).to.equal(1_100);
    expect(top.idleMs).to.equal(400);
    // Lines of .ts files are tsx's transpiled ones: left out; other files keep theirs (1-based).
    expect(row('query lib/q.js:9')).to.deep.equal({ frame: 'query lib/q.js:9', selfMs: 500, totalMs: 500 });
    expect(row('handler src/a.ts')).to.deep.equal({ frame: 'handler src/a.ts', selfMs: 200, totalMs: 700 });
    expect(top.rows.some((r) => r.frame.startsWith('(idle)'))).to.equal(false);
  });

  it('keeps the samples between two instants of the profile clock (--at), and refuses what is not A-B', () => {
    // The same samples on a clock that did not start at 0, as a real profile's CLOCK_MONOTONIC.
    const profile = { ...sample(), startTime: 5_000_000, endTime: 6_100_000 };
    const { from, to } = windowAt(profile, '5000000-5600500');
    expect([from, to]).to.deep.equal([0, 0.6005]);
    // Sample i is at i ms: the busy first 0.6 s only, the later 0.1 s of handler outside.
    const top = profileTop(profile, ROOT, from, to);
    expect(top.sampledMs).to.equal(600);
    expect(top.rows.find((r) => r.frame === 'handler src/a.ts')?.selfMs).to.equal(100);
    expect(() => windowAt(profile, '5600000-5000000')).to.throw(/A <= B/);
    expect(() => windowAt(profile, '--at')).to.throw(/A-B/);
  });

  it('keeps only the samples of a window, and finds the busiest one', () => {
    const profile = sample();
    expect(busiestWindow(profile, 1)).to.equal(0);
    const second = profileTop(profile, ROOT, 1, 2);
    expect(second.rows.map((r) => [r.frame, r.selfMs])).to.deep.equal([['handler src/a.ts', 100]]);
    // Sample i is taken at (i + 1) ms: the last idle one, at 1.000 s, opens the second second.
    expect(second.idleMs).to.equal(1);
  });

  it('prints shares of the busy time, heaviest first', () => {
    const lines = table(profileTop(sample(), ROOT), 2, 'self').split('\n');
    expect(lines[0]).to.equal('sampled 1.1 s, busy 0.7 s (64 %); shares are of the busy time');
    expect(lines[4]).to.equal('| 1 | `query lib/q.js:9` | 500 | 71.4 % | 500 | 71.4 % |');
    expect(lines[5]).to.equal('| 2 | `handler src/a.ts` | 200 | 28.6 % | 700 | 100.0 % |');
    expect(lines).to.have.length(6);
  });
});

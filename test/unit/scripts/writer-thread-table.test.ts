import { expect } from 'chai';
import type { WriterTimes } from '../../../src/observability/checkin-stages.js';
import type { CheckpointPassTimes } from '../../../src/store/sqlite/wal-checkpointer.js';
import { startOverLine, transactionFigures, transactionsCsv, writerThreadTableText } from '../../../scripts/lib/writer-thread-table.js';

function tx(received: number, wallMs: number, cpuMs: number, queueMs: number, size = 100): WriterTimes {
  return {
    received,
    committed: received + wallMs,
    size,
    thread: { sched: { runNs: cpuMs * 1e6, waitNs: queueMs * 1e6, slices: 2 }, frames: 300, walFrames: 900 },
  };
}

function pass(start: number, end: number): CheckpointPassTimes {
  return { start, end, sched: { runNs: 1e6, waitNs: 0, slices: 1 }, checkpointed: 500, modes: 'PASSIVE' };
}

describe("the record writer's transaction table (loadtest --stages)", function () {
  it('splits a transaction into on a core, run queue and blocked', function () {
    const [f] = transactionFigures([tx(1_000, 50, 10, 30)], []);
    expect(f).to.deep.include({ wall: 50, cpu: 10, runQueue: 30, slices: 2, size: 100, frames: 300, walFrames: 900, overlap: 0 });
    expect(f!.blocked).to.be.closeTo(10, 1e-9);
  });

  it('marks the transactions a checkpoint pass ran during, and only those', function () {
    const figures = transactionFigures(
      [tx(1_000, 10, 5, 0), tx(1_020, 10, 5, 0), tx(1_040, 10, 5, 0), tx(5_000, 10, 5, 0)],
      // Out of order on purpose; one ends as the second transaction starts, one lies inside the third.
      [pass(1_042, 1_045), pass(1_015, 1_020), pass(3_000, 3_500)],
    );
    expect(figures.map((f) => f.overlap)).to.deep.equal([0, 1, 1, 0]);
  });

  it('keeps the wall time alone where schedstat was absent', function () {
    const [f] = transactionFigures([{ received: 0, committed: 7, size: 3, thread: { sched: null, frames: 9, walFrames: 9 } }], []);
    expect(f).to.deep.include({ wall: 7, cpu: null, runQueue: null, blocked: null });
  });

  it('sets the slowest 1 % against the rest', function () {
    // 99 quick transactions on a core, one slow that waited on the run queue.
    const writer = Array.from({ length: 99 }, (_, i) => tx(i * 100, 5, 4, 1));
    writer.push(tx(20_000, 80, 5, 70, 40));
    const text = writerThreadTableText(transactionFigures(writer, [pass(20_010, 20_020)]), [pass(20_010, 20_020)])!;
    const row = (what: string) =>
      text
        .split('\n')
        .find((l) => l.startsWith(`| ${what}`))!
        .split('|')
        .map((c) => c.trim())
        .slice(1);
    // Columns: what, p50, p90, p99, max, mean, slowest 1 %, the rest.
    expect(row('runnable, waiting for a core')[6]).to.equal('70.00');
    expect(row('runnable, waiting for a core')[7]).to.equal('1.00');
    expect(row('batch size')[6]).to.equal('40.00');
    expect(row('a checkpoint pass overlapped')[6]).to.equal('1.00');
    expect(row('a checkpoint pass overlapped')[7]).to.equal('0.00');
    expect(text).to.match(/1 checkpoint passes that checkpointed \(0 with a RESTART or TRUNCATE\)/);
  });

  it('has no table without writer transactions', function () {
    expect(writerThreadTableText([], [])).to.equal(null);
  });

  it('writes one CSV line per transaction, empty cells where schedstat was absent', function () {
    const writer = [
      tx(1_000.5, 50, 10, 30),
      { received: 2_000, committed: 2_007, size: 3, thread: { sched: null, frames: 9, walFrames: 9 } },
    ];
    const csv = transactionsCsv([{ node: 'load-0', writer, figures: transactionFigures(writer, [pass(1_010, 1_020)]) }]);
    expect(csv.split('\n')).to.deep.equal([
      'node,received,wall,cpu,runQueue,blocked,slices,size,frames,walFrames,overlap',
      'load-0,1000.500,50,10,30,10,2,100,300,900,1',
      'load-0,2000.000,7,,,,,3,9,9,0',
      '',
    ]);
  });

  it('tells the commits that started the WAL over (their frames are all the WAL holds) beside a pass from the others', function () {
    const startOver = (received: number, blockedMs: number): WriterTimes => {
      const t = tx(received, 10 + blockedMs, 10, 0);
      return { ...t, thread: { ...t.thread!, frames: 300, walFrames: 300 } };
    };
    const figures = transactionFigures(
      [startOver(1_000, 20), startOver(2_000, 1), tx(3_000, 12, 10, 0), tx(1_050, 11, 10, 0)],
      [pass(995, 1_040), pass(1_055, 1_058)],
    );
    expect(startOverLine(figures)).to.equal(
      'start-overs beside a pass 1, blocked p50 20.00 / p90 20.00 ms (sum 20); without 1, blocked p50 1.00 / p90 1.00 ms (sum 1); ' +
        'other commits 2, blocked p50 2.00 / p90 2.00 ms (sum 3)',
    );
    expect(startOverLine(transactionFigures([{ received: 1, committed: 2 }], []))).to.equal(null);
  });
});

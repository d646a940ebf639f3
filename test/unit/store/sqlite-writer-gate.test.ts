import { expect } from 'chai';
import { WriterGate } from '../../../src/store/sqlite/writer-gate.js';

// Both sides of the gate on one thread (Node lets the main thread Atomics.wait): the record
// writer (enter/leave around a batch) and the checkpoint worker (hold/release around its last
// PASSIVE). The threads themselves run it in test/integration/wal-checkpoint.test.ts.
describe('the record writer gate (writer-gate.ts)', () => {
  function pair(): { writer: WriterGate; checkpointer: WriterGate } {
    const buffer = WriterGate.buffer();
    return { writer: new WriterGate(buffer), checkpointer: new WriterGate(buffer) };
  }

  /** A wait that never runs out in a test: "at once" is then anything well below it, on any machine. */
  const LONG = 10_000;

  function elapsed(run: () => unknown): number {
    const start = performance.now();
    run();
    return performance.now() - start;
  }

  it('holds a writer between batches at once, and its next batch waits for the release', () => {
    const { writer, checkpointer } = pair();
    expect(elapsed(() => expect(checkpointer.hold(LONG)).to.equal(true))).to.be.below(LONG / 2);
    // Held and never released: the writer waits its bound, then writes anyway.
    expect(elapsed(() => writer.enter(60))).to.be.at.least(55);
    writer.leave();
    // Released: no wait.
    expect(checkpointer.hold(LONG)).to.equal(true);
    checkpointer.release();
    expect(elapsed(() => writer.enter(LONG))).to.be.below(LONG / 2);
    writer.leave();
  });

  it('does not hold a writer in a batch that outlasts the wait, and gives it its batch back', () => {
    const { writer, checkpointer } = pair();
    writer.enter(LONG);
    expect(elapsed(() => expect(checkpointer.hold(40)).to.equal(false))).to.be.at.least(35);
    writer.leave();
    // Nothing held: the next batch starts at once, and the gate can be held again.
    expect(elapsed(() => writer.enter(LONG))).to.be.below(LONG / 2);
    writer.leave();
    expect(checkpointer.hold(LONG)).to.equal(true);
    checkpointer.release();
  });

  it('a hold that ran out during a batch leaves the gate free once the batch ends', () => {
    const { writer, checkpointer } = pair();
    writer.enter(LONG);
    // The worker's wait runs out first (same thread); the writer's leave() after it must not
    // leave the gate held by nobody.
    expect(checkpointer.hold(1)).to.equal(false);
    writer.leave();
    expect(checkpointer.hold(LONG), 'free again').to.equal(true);
    expect(elapsed(() => writer.enter(30))).to.be.at.least(25);
    writer.leave();
  });

  it('once the writer thread is gone, holds nothing and waits for nothing', () => {
    const { writer, checkpointer } = pair();
    writer.enter(LONG);
    checkpointer.off();
    expect(elapsed(() => expect(checkpointer.hold(LONG)).to.equal(false))).to.be.below(LONG / 2);
    expect(elapsed(() => writer.enter(LONG))).to.be.below(LONG / 2);
  });
});

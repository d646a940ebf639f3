import { expect } from 'chai';
import type { RosterUpdates } from '../../../src/shared/events.js';
import { RosterBatches, type Schedule } from '../../../src/realtime/roster-batches.js';
import { rosterEntry } from '../../support/roster-entry.js';

/** Timers the test fires by hand, in the order they were set. */
class ManualTimers {
  private readonly due: { fn: () => void; live: boolean }[] = [];
  schedule: Schedule = (fn) => {
    const t = { fn, live: true };
    this.due.push(t);
    return () => (t.live = false);
  };
  get pending(): number {
    return this.due.filter((t) => t.live).length;
  }
  /** Fires every timer set so far (not the ones they set in turn). */
  fire(): void {
    for (const t of this.due.splice(0)) if (t.live) t.fn();
  }
}

const update = (sessionId: string, version: number) => ({
  sessionId,
  version,
  entry: rosterEntry(`st${version}`),
});
const versions = (b: RosterUpdates) => b.updates.map((u) => u.version);

describe('RosterBatches', () => {
  let sent: RosterUpdates[];
  let timers: ManualTimers;
  let batches: RosterBatches;
  let clock: number;
  beforeEach(() => {
    sent = [];
    timers = new ManualTimers();
    clock = 0;
    batches = new RosterBatches(
      50,
      (b) => sent.push(b),
      timers.schedule,
      () => clock,
    );
  });

  it('sends the first change at once and the following ones together at the end of the interval', () => {
    batches.add(update('a', 1));
    expect(sent.map(versions)).to.deep.equal([[1]]);
    for (let v = 2; v <= 200; v += 1) batches.add(update('a', v));
    expect(sent).to.have.length(1);
    timers.fire();
    expect(sent).to.have.length(2);
    expect(versions(sent[1]!)).to.deep.equal(Array.from({ length: 199 }, (_, i) => i + 2));
    // A quiet interval ends the session's throttle; the next change leaves at once again.
    timers.fire();
    expect(batches.active).to.equal(0);
    expect(timers.pending).to.equal(0);
    batches.add(update('a', 201));
    expect(sent.map(versions).at(-1)).to.deep.equal([201]);
  });

  it('sends at once, with what is held, a change that comes after the interval ended but before its timer ran (a long event-loop turn)', () => {
    batches.add(update('a', 1));
    clock = 30;
    batches.add(update('a', 2));
    expect(sent).to.have.length(1);
    clock = 80;
    batches.add(update('a', 3));
    expect(sent.map(versions)).to.deep.equal([[1], [2, 3]]);
    // The next interval starts from that message; the stale timer sends nothing.
    clock = 100;
    batches.add(update('a', 4));
    timers.fire();
    expect(sent.map(versions)).to.deep.equal([[1], [2, 3], [4]]);
  });

  it('holds each session apart', () => {
    batches.add(update('a', 1));
    batches.add(update('b', 1));
    batches.add(update('a', 2));
    batches.add(update('b', 2));
    batches.add(update('b', 3));
    timers.fire();
    expect(sent.map((b) => [b.sessionId, versions(b)])).to.deep.equal([
      ['a', [1]],
      ['b', [1]],
      ['a', [2]],
      ['b', [2, 3]],
    ]);
  });

  it('flush sends what is held at once (before a status or a resync), and flushAll at shutdown', () => {
    batches.add(update('a', 1));
    batches.add(update('a', 2));
    batches.add(update('b', 1));
    batches.add(update('b', 2));
    batches.flush('a');
    expect(sent.map((b) => [b.sessionId, versions(b)])).to.deep.equal([
      ['a', [1]],
      ['b', [1]],
      ['a', [2]],
    ]);
    batches.flushAll();
    expect(sent.map((b) => [b.sessionId, versions(b)]).at(-1)).to.deep.equal(['b', [2]]);
    expect(batches.active).to.equal(0);
    expect(timers.pending, 'no timer left running').to.equal(0);
    timers.fire();
    expect(sent).to.have.length(4);
  });

  it('with an interval of 0 sends each change at once, without a timer', () => {
    const now = new RosterBatches(0, (b) => sent.push(b), timers.schedule);
    now.add(update('a', 1));
    now.add(update('a', 2));
    expect(sent.map(versions)).to.deep.equal([[1], [2]]);
    expect(timers.pending).to.equal(0);
  });
});

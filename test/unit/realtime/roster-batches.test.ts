import { expect } from 'chai';
import type { RosterUpdates } from '../../../src/shared/events.js';
import { RosterBatches, type EndOfTurn, type Schedule } from '../../../src/realtime/roster-batches.js';
import { rosterEntry } from '../../support/roster-entry.js';

/** Timers the test fires by hand, in the order they were set. */
class ManualTimers {
  private readonly due: { fn: () => void; live: boolean }[] = [];
  /** The delays asked for, in order. */
  readonly delays: number[] = [];
  schedule: Schedule = (fn, ms) => {
    const t = { fn, live: true };
    this.due.push(t);
    this.delays.push(ms);
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

/** The end of the event loop's turn, which the test ends by hand. */
class ManualTurn {
  private due: { fn: () => void; live: boolean }[] = [];
  endOfTurn: EndOfTurn = (fn) => {
    const t = { fn, live: true };
    this.due.push(t);
    return () => (t.live = false);
  };
  end(): void {
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
  let turn: ManualTurn;
  let batches: RosterBatches;
  let clock: number;
  beforeEach(() => {
    sent = [];
    timers = new ManualTimers();
    turn = new ManualTurn();
    clock = 0;
    batches = new RosterBatches(
      50,
      (b) => sent.push(b),
      timers.schedule,
      () => clock,
      turn.endOfTurn,
    );
  });

  it('sends the first change at the end of its turn and the following ones together at the end of the interval', () => {
    batches.add(update('a', 1));
    expect(sent).to.have.length(0);
    turn.end();
    expect(sent.map(versions)).to.deep.equal([[1]]);
    for (let v = 2; v <= 200; v += 1) batches.add(update('a', v));
    turn.end();
    expect(sent).to.have.length(1);
    timers.fire();
    expect(sent).to.have.length(2);
    expect(versions(sent[1]!)).to.deep.equal(Array.from({ length: 199 }, (_, i) => i + 2));
    // A quiet interval ends the session's throttle; the next change leaves at the end of its turn again.
    timers.fire();
    expect(batches.active).to.equal(0);
    expect(timers.pending).to.equal(0);
    batches.add(update('a', 201));
    turn.end();
    expect(sent.map(versions).at(-1)).to.deep.equal([201]);
  });

  it('sends the changes of one turn (one group commit) together, not the first alone and the rest an interval later', () => {
    for (let v = 1; v <= 10; v += 1) batches.add(update('a', v));
    turn.end();
    expect(sent.map(versions)).to.deep.equal([[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]]);
    // The interval starts with that message: a change of the next turn waits for its end.
    batches.add(update('a', 11));
    turn.end();
    expect(sent).to.have.length(1);
    timers.fire();
    expect(sent.map(versions).at(-1)).to.deep.equal([11]);
  });

  it('sends at the end of its turn, with what is held, a change that comes after the interval ended but before its timer ran (a long event-loop turn)', () => {
    batches.add(update('a', 1));
    turn.end();
    clock = 30;
    batches.add(update('a', 2));
    turn.end();
    expect(sent).to.have.length(1);
    clock = 80;
    batches.add(update('a', 3));
    batches.add(update('a', 4));
    turn.end();
    expect(sent.map(versions)).to.deep.equal([[1], [2, 3, 4]]);
    // That message ended the interval due at 50; the next ends at 100 (the timer asked at 80 for 20 ms).
    expect(timers.delays.at(-1)).to.equal(20);
    // The stale timer sends nothing; the new one sends the change held since.
    clock = 90;
    batches.add(update('a', 5));
    timers.fire();
    expect(sent.map(versions)).to.deep.equal([[1], [2, 3, 4], [5]]);
  });

  it('ends the next interval one interval after the late one was due, so a late timer does not hold the next changes longer; the messages stay one per interval', () => {
    batches.add(update('a', 1));
    turn.end();
    expect(timers.delays).to.deep.equal([50]);
    // The interval ends at 50; the loaded loop runs its timer at 62.
    clock = 49;
    batches.add(update('a', 2));
    clock = 62;
    timers.fire();
    expect(sent.map(versions)).to.deep.equal([[1], [2]]);
    expect(timers.delays.at(-1), 'the next interval ends at 100, not 112').to.equal(38);
    clock = 70;
    batches.add(update('a', 3));
    clock = 100;
    timers.fire();
    expect(sent.map(versions).at(-1)).to.deep.equal([3]);
    expect(timers.delays.at(-1)).to.equal(50);
    // A timer late by more than an interval starts the next interval at its send.
    clock = 120;
    batches.add(update('a', 4));
    clock = 230;
    timers.fire();
    expect(sent.map(versions).at(-1)).to.deep.equal([4]);
    expect(timers.delays.at(-1)).to.equal(50);
    // Sent at 0, 62, 100 and 230: never two within one interval's span of the schedule (0, 50, 100, 150, ...).
    expect(sent).to.have.length(4);
  });

  it('holds each session apart', () => {
    batches.add(update('a', 1));
    batches.add(update('b', 1));
    turn.end();
    batches.add(update('a', 2));
    batches.add(update('b', 2));
    batches.add(update('b', 3));
    turn.end();
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
    batches.add(update('b', 1));
    turn.end();
    batches.add(update('a', 2));
    batches.add(update('b', 2));
    batches.flush('a');
    expect(sent.map((b) => [b.sessionId, versions(b)])).to.deep.equal([
      ['a', [1]],
      ['b', [1]],
      ['a', [2]],
    ]);
    // A change still waiting for the end of its turn is sent by a flush too.
    batches.add(update('c', 1));
    batches.flushAll();
    expect(sent.map((b) => [b.sessionId, versions(b)]).slice(-2)).to.deep.equal([
      ['b', [2]],
      ['c', [1]],
    ]);
    expect(batches.active).to.equal(0);
    expect(timers.pending, 'no timer left running').to.equal(0);
    timers.fire();
    turn.end();
    expect(sent).to.have.length(5);
  });

  it('by default sends the changes of one group commit together once their promise steps have run, before the loop goes on', async () => {
    const real = new RosterBatches(
      50,
      (b) => sent.push(b),
      timers.schedule,
      () => clock,
    );
    let stored!: () => void;
    const commit = new Promise<void>((resolve) => (stored = resolve));
    // Each check-in's handler resumes after the commit and publishes a few promise steps later.
    const handlers = Array.from({ length: 5 }, (_, i) =>
      commit.then(async () => {
        await null;
        await null;
        real.add(update('a', i + 1));
      }),
    );
    let sentBeforeTheLoopWentOn = -1;
    setImmediate(() => (sentBeforeTheLoopWentOn = sent.length));
    stored();
    await Promise.all(handlers);
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent.map(versions)).to.deep.equal([[1, 2, 3, 4, 5]]);
    expect(sentBeforeTheLoopWentOn).to.equal(1);
    real.flushAll();
  });

  it('with an interval of 0 sends each change at once, without a timer', () => {
    const now = new RosterBatches(
      0,
      (b) => sent.push(b),
      timers.schedule,
      () => clock,
      turn.endOfTurn,
    );
    now.add(update('a', 1));
    now.add(update('a', 2));
    expect(sent.map(versions)).to.deep.equal([[1], [2]]);
    expect(timers.pending).to.equal(0);
  });
});

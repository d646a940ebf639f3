import { expect } from 'chai';
import { stat } from 'node:fs';
import { CheckinBatcher, type BatchItem } from '../../../src/domain/checkins/checkin-batch.js';
import { StoreBusyError } from '../../../src/domain/ports/common.js';
import type { RecordWrite, RecordWriteResult } from '../../../src/domain/ports/records.js';
import type { Store } from '../../../src/domain/ports/store.js';
import { AppError } from '../../../src/shared/app-error.js';
import { createLogger } from '../../../src/logger.js';

/** A store whose writeBatch is busy `busyTimes` times before it stores. */
function busyStore(busyTimes: number): { store: Store; attempts: () => number } {
  let attempts = 0;
  const records = {
    listPeerMarkChanges: (_orgId: string, wants: readonly unknown[]) => Promise.resolve(wants.map(() => ({ marks: [], count: 0 }))),
    writeBatch: (writes: readonly RecordWrite[]): Promise<RecordWriteResult[]> => {
      attempts += 1;
      if (attempts <= busyTimes) return Promise.reject(new StoreBusyError());
      return Promise.resolve(writes.map(() => ({ written: false as const, record: null })));
    },
  };
  const organisations = { get: () => Promise.resolve(null) };
  // Only what the batcher calls: the records and organisations it reads and writes.
  return { store: { records, organisations } as unknown as Store, attempts: () => attempts };
}

function item(n: number): BatchItem {
  return {
    orgId: 'org',
    sessionId: 'session',
    mark: { studentId: `s${n}`, deviceId: null, ip: null, userAgent: null, location: null },
    write: () => ({
      kind: 'update',
      orgId: 'org',
      id: `r${n}`,
      expectedVersion: 1,
      patch: {},
      audit: { actorId: null, action: 'checkin.submit', reason: null, ip: null },
    }),
  };
}

describe('CheckinBatcher and a busy store', () => {
  const logger = createLogger('silent');

  it('tries a batch the store was too busy for again, and every check-in of it gets its stored answer', async () => {
    const { store, attempts } = busyStore(2);
    const batcher = new CheckinBatcher(store, logger, { windowMs: 0, max: 10 });
    const results = await Promise.all([batcher.submit(item(1)), batcher.submit(item(2))]);
    expect(results).to.have.length(2);
    expect(results.every((r) => !r.written)).to.equal(true);
    expect(attempts()).to.equal(3);
  });

  it('answers BUSY, which a client may retry, once the store stays busy past the last try', async () => {
    const { store, attempts } = busyStore(Number.POSITIVE_INFINITY);
    const batcher = new CheckinBatcher(store, logger, { windowMs: 0, max: 10 });
    const outcomes = await Promise.allSettled([batcher.submit(item(1)), batcher.submit(item(2))]);
    for (const o of outcomes) {
      expect(o.status).to.equal('rejected');
      const reason = (o as PromiseRejectedResult).reason as unknown;
      expect(reason).to.be.instanceOf(AppError);
      expect((reason as AppError).code).to.equal('BUSY');
    }
    expect(attempts()).to.equal(4);
  });
});

/** A SQLite-like store whose writeBatch calls wait until the test releases them, in the order they came. */
function heldStore(kind: 'sqlite' | 'mongo'): { store: Store; calls: (readonly RecordWrite[])[]; release: () => void } {
  const calls: (readonly RecordWrite[])[] = [];
  const held: (() => void)[] = [];
  const records = {
    listPeerMarkChanges: (_orgId: string, wants: readonly unknown[]) => Promise.resolve(wants.map(() => ({ marks: [], count: 0 }))),
    writeBatch: (writes: readonly RecordWrite[]): Promise<RecordWriteResult[]> => {
      calls.push(writes);
      return new Promise((resolve) => held.push(() => resolve(writes.map(() => ({ written: false as const, record: null })))));
    },
  };
  const organisations = { get: () => Promise.resolve(null) };
  return {
    store: { kind, records, organisations } as unknown as Store,
    calls,
    release: () => held.shift()?.(),
  };
}

/** A check-in from `device` whose write records whether the batch saw another student on that device. */
function onDevice(n: number, device: string, seen: Map<number, boolean>): BatchItem {
  const mark = { studentId: `s${n}`, deviceId: device, ip: null, userAgent: null, location: null };
  return {
    ...item(n),
    mark,
    write: (peers) => {
      seen.set(n, peers.sharesDevice(mark));
      return item(n).write(peers, null);
    },
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('CheckinBatcher pipelining (CHECKIN_BATCH_PIPELINE)', () => {
  const logger = createLogger('silent');

  it('hands the next batch to a SQLite store while the previous one is still being written, in cut order', async () => {
    const { store, calls, release } = heldStore('sqlite');
    const batcher = new CheckinBatcher(store, logger, { windowMs: 0, max: 2, pipeline: 2 });
    const answers = [1, 2, 3, 4, 5, 6].map((n) => batcher.submit(item(n)));
    await settle();
    // Two batches out, the third waits for the first to be stored.
    expect(calls.map((c) => c.map((w) => (w.kind === 'update' ? w.id : '')))).to.deep.equal([
      ['r1', 'r2'],
      ['r3', 'r4'],
    ]);
    release();
    await settle();
    expect(calls).to.have.length(3);
    release();
    release();
    const results = await Promise.all(answers);
    expect(results).to.have.length(6);
  });

  it('keeps one batch at a time on MongoDB, whose batches are several round trips', async () => {
    const { store, calls, release } = heldStore('mongo');
    const batcher = new CheckinBatcher(store, logger, { windowMs: 0, max: 2, pipeline: 2 });
    const answers = [1, 2, 3, 4].map((n) => batcher.submit(item(n)));
    await settle();
    expect(calls).to.have.length(1);
    release();
    await settle();
    expect(calls).to.have.length(2);
    release();
    await Promise.all(answers);
  });

  it('compares a check-in with those of the batch still being written, as if they were stored', async () => {
    const { store, release } = heldStore('sqlite');
    const batcher = new CheckinBatcher(store, logger, { windowMs: 0, max: 1, pipeline: 2 });
    const seen = new Map<number, boolean>();
    const first = batcher.submit(onDevice(1, 'phone-a', seen));
    const second = batcher.submit(onDevice(2, 'phone-a', seen));
    await settle();
    expect(seen.get(1)).to.equal(false);
    expect(seen.get(2)).to.equal(true);
    release();
    release();
    await Promise.all([first, second]);
  });
});

describe('CheckinBatcher hands a stored batch over a few submitters a turn (CHECKIN_RESUME_PER_TURN)', () => {
  const logger = createLogger('silent');
  const RESUMED_PER_TURN = 32;

  it('resumes RESUMED_PER_TURN submitters in the turn the batch is stored, the rest in later turns, in order', async () => {
    const { store, release } = heldStore('sqlite');
    const batcher = new CheckinBatcher(store, logger, { windowMs: 0, max: 200, resumePerTurn: RESUMED_PER_TURN });
    const order: number[] = [];
    const n = RESUMED_PER_TURN * 2 + 5;
    const answers = Array.from({ length: n }, (_, i) => batcher.submit(item(i)).then(() => order.push(i)));
    await settle();
    release();
    // The promise steps of the turn the batch was stored in, but no later turn.
    for (let i = 0; i < 10; i += 1) await Promise.resolve();
    expect(order).to.deep.equal(Array.from({ length: RESUMED_PER_TURN }, (_, i) => i));
    await Promise.all(answers);
    expect(order).to.deep.equal(Array.from({ length: n }, (_, i) => i));
  });

  it('keeps cut order across batches: a batch stored while an earlier one is being handed over waits for it', async () => {
    const { store, release } = heldStore('sqlite');
    const batcher = new CheckinBatcher(store, logger, {
      windowMs: 0,
      max: RESUMED_PER_TURN * 3,
      pipeline: 2,
      resumePerTurn: RESUMED_PER_TURN,
    });
    const order: number[] = [];
    const n = RESUMED_PER_TURN * 6;
    const answers = Array.from({ length: n }, (_, i) => batcher.submit(item(i)).then(() => order.push(i)));
    await settle();
    // Both batches stored in the same turn: the second's submitters come after all of the first's.
    release();
    release();
    await Promise.all(answers);
    expect(order).to.deep.equal(Array.from({ length: n }, (_, i) => i));
  });

  it('resumes a whole batch in the turn it is stored without the setting (the default)', async () => {
    const { store, release } = heldStore('sqlite');
    const batcher = new CheckinBatcher(store, logger, { windowMs: 0, max: 200 });
    let answered = 0;
    const answers = Array.from({ length: 100 }, (_, i) => batcher.submit(item(i)).then(() => (answered += 1)));
    await settle();
    release();
    for (let i = 0; i < 10; i += 1) await Promise.resolve();
    expect(answered).to.equal(100);
    await Promise.all(answers);
  });

  it('hands everything over at once when draining, and drain resolves only after', async () => {
    const { store, release } = heldStore('sqlite');
    const batcher = new CheckinBatcher(store, logger, { windowMs: 0, max: 200, resumePerTurn: RESUMED_PER_TURN });
    let answered = 0;
    const n = RESUMED_PER_TURN * 3;
    const answers = Array.from({ length: n }, (_, i) => batcher.submit(item(i)).then(() => (answered += 1)));
    await settle();
    release();
    for (let i = 0; i < 10; i += 1) await Promise.resolve();
    expect(answered).to.equal(RESUMED_PER_TURN);
    await batcher.drain();
    // drain's promise resolves after every submitter's outcome was handed over (their steps then run first).
    for (let i = 0; i < 10; i += 1) await Promise.resolve();
    expect(answered).to.equal(n);
    await Promise.all(answers);
  });
});

/** Resolves inside an I/O callback (the poll phase), where a setImmediate runs before any timer. */
const inIoCallback = () => new Promise<void>((resolve) => stat('.', () => resolve()));

describe('CheckinBatcher window (CHECKIN_BATCH_WINDOW_MS)', () => {
  it('with a window of 0 an idle batcher cuts at the end of the turn, not in a timer (a millisecond at least, after the next poll)', async () => {
    const { store, calls, release } = heldStore('sqlite');
    const batcher = new CheckinBatcher(store, createLogger('silent'), { windowMs: 0, max: 10 });
    await inIoCallback();
    const answers = [batcher.submit(item(1)), batcher.submit(item(2))];
    // Node runs the immediates of this turn before the timers of the next one.
    await settle();
    expect(calls.map((c) => c.length)).to.deep.equal([2]);
    release();
    expect(await Promise.all(answers)).to.have.length(2);
  });

  it('with a window above 0 holds a check-in for it, and cuts a full batch at once', async () => {
    const { store, calls, release } = heldStore('sqlite');
    // A window far longer than a busy machine's turn: only the window, or a full batch, cuts.
    const batcher = new CheckinBatcher(store, createLogger('silent'), { windowMs: 60_000, max: 2 });
    const answers = [batcher.submit(item(1))];
    await settle();
    expect(calls).to.have.length(0);
    answers.push(batcher.submit(item(2)));
    while (calls.length === 0) await settle();
    expect(calls.map((c) => c.length)).to.deep.equal([2]);
    release();
    expect(await Promise.all(answers)).to.have.length(2);
  });

  it('with a window above 0 cuts a batch that is not full when the window ends', async () => {
    const { store, calls, release } = heldStore('sqlite');
    const batcher = new CheckinBatcher(store, createLogger('silent'), { windowMs: 30, max: 10 });
    const answer = batcher.submit(item(1));
    // Nothing else comes: the window's own timer is what cuts it.
    while (calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(calls.map((c) => c.length)).to.deep.equal([1]);
    release();
    await answer;
  });
});

describe('CheckinBatcher and a slow store', () => {
  it('answers a full queue BUSY with a retry hint of about the time the queue ahead takes to store', async () => {
    const WRITE_MS = 150;
    // Each write takes WRITE_MS on the batcher's clock, however long the machine takes.
    let clock = 0;
    const records = {
      listPeerMarkChanges: (_orgId: string, wants: readonly unknown[]) => Promise.resolve(wants.map(() => ({ marks: [], count: 0 }))),
      writeBatch: (writes: readonly RecordWrite[]): Promise<RecordWriteResult[]> => {
        clock += WRITE_MS;
        return new Promise((resolve) => setImmediate(() => resolve(writes.map(() => ({ written: false as const, record: null })))));
      },
    };
    const store = { records, organisations: { get: () => Promise.resolve(null) } } as unknown as Store;
    const batcher = new CheckinBatcher(store, createLogger('silent'), { windowMs: 0, max: 2, elapsed: () => clock });
    let n = 0;
    const accepted: Promise<unknown>[] = [];
    // A first batch stored, so the batcher knows how long one takes; then the queue filled (8 batches of 2).
    await batcher.submit(item((n += 1)));
    while (accepted.length < 2 + 2 * 8) accepted.push(batcher.submit(item((n += 1))));
    const refused = await batcher.submit(item(n + 1)).then(
      () => null,
      (err: unknown) => err,
    );
    expect(refused).to.be.instanceOf(AppError);
    expect((refused as AppError).code).to.equal('BUSY');
    const hint = (refused as AppError).details?.['retryAfterMs'] as number;
    // Eight batches of 150 ms ahead: a hint of 1.2 s, not the 100 ms of the window alone.
    expect(hint).to.equal(8 * WRITE_MS);
    await Promise.all(accepted);
  });
});

import { expect } from 'chai';
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

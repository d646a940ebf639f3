import { expect } from 'chai';
import { retryWhileBusy } from '../../../src/domain/face/busy-retry.js';
import { AppError } from '../../../src/shared/app-error.js';

describe('retry while the face pool is busy', () => {
  const waits: number[] = [];
  const wait = async (ms: number) => {
    waits.push(ms);
  };
  beforeEach(() => {
    waits.length = 0;
  });

  /** Rejects with the given errors in turn, then resolves with 'done'. */
  function failing(...errors: Error[]) {
    let calls = 0;
    const fn = async () => {
      calls++;
      const err = errors.shift();
      if (err) throw err;
      return 'done';
    };
    return { fn, calls: () => calls };
  }

  it('waits for the hint of each BUSY answer, then returns the result', async () => {
    const f = failing(new AppError('BUSY', undefined, { retryAfterMs: 700 }), new AppError('BUSY'));
    expect(await retryWhileBusy(f.fn, { attempts: 5, defaultWaitMs: 1_000, wait })).to.equal('done');
    expect(f.calls()).to.equal(3);
    expect(waits).to.deep.equal([700, 1_000]);
  });

  it('gives up with the last BUSY after the allowed attempts', async () => {
    const busy = () => new AppError('BUSY', undefined, { retryAfterMs: 5 });
    const f = failing(busy(), busy(), busy(), busy());
    const err = await retryWhileBusy(f.fn, { attempts: 3, defaultWaitMs: 1, wait }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(AppError).with.property('code', 'BUSY');
    expect(f.calls()).to.equal(3);
  });

  it('does not retry any other error', async () => {
    const f = failing(new AppError('FACE_ENROLMENT_REFUSED'), new AppError('BUSY'));
    const err = await retryWhileBusy(f.fn, { attempts: 5, defaultWaitMs: 1, wait }).catch((e: unknown) => e);
    expect(err).to.have.property('code', 'FACE_ENROLMENT_REFUSED');
    expect(f.calls()).to.equal(1);
    expect(waits).to.deep.equal([]);
  });

  it('bounds the hint, and retries only the BUSY answers `retryIf` picks', async () => {
    const full = (ms: number) => new AppError('BUSY', undefined, { retryAfterMs: ms, cause: 'queue_full' });
    const f = failing(full(10), full(90_000), new AppError('BUSY', undefined, { cause: 'timeout' }));
    const err = await retryWhileBusy(f.fn, {
      defaultWaitMs: 100,
      minWaitMs: 100,
      maxWaitMs: 5_000,
      retryIf: (e) => e.details?.['cause'] === 'queue_full',
      wait,
    }).catch((e: unknown) => e);
    expect(err).to.have.nested.property('details.cause', 'timeout');
    expect(waits).to.deep.equal([100, 5_000]);
  });

  it('gives up with the BUSY whose wait would end after the budget', async () => {
    let t = 0;
    const busy = () => new AppError('BUSY', undefined, { retryAfterMs: 400 });
    const f = failing(busy(), busy(), busy(), busy());
    const err = await retryWhileBusy(f.fn, {
      budgetMs: 1_000,
      defaultWaitMs: 1,
      wait: async (ms) => {
        waits.push(ms);
        t += ms;
      },
      now: () => t,
    }).catch((e: unknown) => e);
    expect(err).to.have.property('code', 'BUSY');
    expect(waits).to.deep.equal([400, 400]);
    expect(f.calls()).to.equal(3);
  });
});

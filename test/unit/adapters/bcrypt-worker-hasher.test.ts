import { performance } from 'node:perf_hooks';
import { expect } from 'chai';
import bcrypt from 'bcryptjs';
import { BcryptWorkerHasher } from '../../../src/adapters/bcrypt-worker-hasher.js';
import { AppError } from '../../../src/shared/app-error.js';
import { atCost } from '../../support/passwords.js';

/** The rejection of `promise`, which must reject. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected a rejection'),
    (err: unknown) => err,
  );
}

describe('BcryptWorkerHasher (bcrypt on worker threads)', () => {
  let hasher: BcryptWorkerHasher;
  let cheap: string;

  before(async () => {
    cheap = await bcrypt.hash('correct horse battery', 4);
  });

  afterEach(async () => {
    await hasher.close();
  });

  it('hashes with its cost and verifies, nothing else; an account without a hash answers false', async () => {
    hasher = new BcryptWorkerHasher({ cost: 4, threads: 1, maxQueue: 10 });
    const hash = await hasher.hash('correct horse battery');
    expect(bcrypt.getRounds(hash)).to.equal(4);
    expect(await hasher.verify('correct horse battery', hash)).to.equal(true);
    expect(await hasher.verify('correct horse batterY', hash)).to.equal(false);
    expect(await hasher.verify('correct horse battery', null)).to.equal(false);
  });

  it('leaves the event loop of the calling thread idle while it compares at a high cost', async () => {
    hasher = new BcryptWorkerHasher({ cost: 4, threads: 1, maxQueue: 10 });
    // The thread starts with the first task; its start is not what is measured.
    await hasher.verify('correct horse battery', cheap);
    // Read at cost 13 the hash no longer matches, but the compare still runs its 2^13 rounds.
    const slow = atCost(cheap, 13);
    const before = performance.eventLoopUtilization();
    expect(await hasher.verify('correct horse battery', slow)).to.equal(false);
    const used = performance.eventLoopUtilization(before);
    // bcryptjs on this thread keeps its loop busy all along (utilisation near 1), even in its
    // asynchronous form, which only slices the same work.
    expect(used.utilization, `event loop utilisation over a ${Math.round(used.idle + used.active)} ms compare`).to.be.below(0.3);
  });

  it('answers waiting checks in the order they came, so no login waits behind later ones', async () => {
    hasher = new BcryptWorkerHasher({ cost: 4, threads: 1, maxQueue: 100 });
    await hasher.verify('correct horse battery', cheap);
    // A class logging in: more checks than threads at once. Piscina by default puts a task it
    // could not hand to the busy thread back at the tail of its queue, so some logins were passed
    // by every later one and, under a steady stream, waited minutes (a proxy's 120 s timeout).
    const answered: number[] = [];
    await Promise.all(Array.from({ length: 12 }, (_, i) => hasher.verify('correct horse battery', cheap).then(() => answered.push(i))));
    expect(answered).to.deep.equal(Array.from({ length: 12 }, (_, i) => i));
  });

  it('refuses a password check BUSY with a retry hint once maxQueue wait, and never refuses a hash', async () => {
    hasher = new BcryptWorkerHasher({ cost: 4, threads: 1, maxQueue: 1 });
    // Compares that would run for hours hold the thread and the one place in the queue.
    const endless = atCost(cheap, 31);
    const held = [rejection(hasher.verify('x', endless)), rejection(hasher.verify('x', endless))];
    const refused = await rejection(hasher.verify('correct horse battery', cheap));
    expect(refused).to.be.instanceOf(AppError);
    expect((refused as AppError).code).to.equal('BUSY');
    const retryAfterMs = (refused as AppError).details?.['retryAfterMs'];
    expect(retryAfterMs).to.be.a('number').and.at.least(1_000);
    // An unknown account is refused the same way, not answered false at once.
    expect(((await rejection(hasher.verify('x', null))) as AppError).code).to.equal('BUSY');
    // A password being set waits for its turn instead.
    const setting = rejection(hasher.hash('a new password'));
    await hasher.close();
    for (const p of [...held, setting]) expect(((await p) as AppError).code).to.equal('UNAVAILABLE');
  });

  it('ends a running compare on close, and answers UNAVAILABLE afterwards', async () => {
    hasher = new BcryptWorkerHasher({ cost: 4, threads: 1, maxQueue: 1 });
    const held = rejection(hasher.verify('x', atCost(cheap, 31)));
    await hasher.close();
    expect(((await held) as AppError).code).to.equal('UNAVAILABLE');
    expect(((await rejection(hasher.verify('correct horse battery', cheap))) as AppError).code).to.equal('UNAVAILABLE');
  });
});

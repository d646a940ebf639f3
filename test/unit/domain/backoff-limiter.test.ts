import { expect } from 'chai';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { FlexibleBackoffLimiter } from '../../../src/adapters/backoff-limiter.js';

const FREE = 3;
const BASE_MS = 1_000;
const MAX_MS = 8_000;

describe('BackoffLimiter', () => {
  let pauses: RateLimiterMemory;
  let limiter: FlexibleBackoffLimiter;

  beforeEach(() => {
    pauses = new RateLimiterMemory({ points: 1, duration: 1, keyPrefix: 'p' });
    limiter = new FlexibleBackoffLimiter(new RateLimiterMemory({ points: 1, duration: 3_600, keyPrefix: 'a' }), pauses, {
      freeAttempts: FREE,
      baseMs: BASE_MS,
      maxMs: MAX_MS,
      memoryS: 3_600,
      keyPrefix: 'test',
    });
  });

  /** The pause the admitted attempt opened, as the next attempt sees it; then ends it (no waiting). */
  async function pauseAfterAdmitted(key: string): Promise<number> {
    const next = await limiter.consume(key);
    expect(next.allowed).to.equal(false);
    await pauses.delete(key);
    return next.retryAfterMs;
  }

  it('admits the free attempts, then one per pause, each pause doubling up to the cap', async () => {
    for (let i = 0; i < FREE; i += 1) expect((await limiter.consume('k')).allowed).to.equal(true);
    const seen: number[] = [];
    seen.push(await pauseAfterAdmitted('k'));
    for (let i = 0; i < 4; i += 1) {
      expect((await limiter.consume('k')).allowed).to.equal(true);
      seen.push(await pauseAfterAdmitted('k'));
    }
    const rounded = seen.map((ms) => Math.ceil(ms / 1_000) * 1_000);
    expect(rounded).to.deep.equal([1_000, 2_000, 4_000, 8_000, 8_000]);
  });

  it('does not lengthen the pause for refused attempts', async () => {
    for (let i = 0; i < FREE; i += 1) await limiter.consume('k');
    for (let i = 0; i < 20; i += 1) expect((await limiter.consume('k')).allowed).to.equal(false);
    await pauses.delete('k');
    expect((await limiter.consume('k')).allowed).to.equal(true);
    expect(Math.ceil((await pauseAfterAdmitted('k')) / 1_000)).to.equal(2);
  });

  it('admits exactly the free attempts of a concurrent burst', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, () => limiter.consume('k')));
    expect(results.filter((r) => r.allowed)).to.have.length(FREE);
    for (const r of results.filter((x) => !x.allowed)) expect(r.retryAfterMs).to.be.above(0).and.at.most(BASE_MS);
  });

  it('undo gives an admitted attempt back, pause included; reset forgets the key; keys are independent', async () => {
    for (let i = 0; i < FREE - 1; i += 1) await limiter.consume('k');
    const last = await limiter.consume('k');
    expect(last.allowed).to.equal(true);
    await last.undo();
    expect((await limiter.consume('k')).allowed).to.equal(true);
    expect((await limiter.consume('k')).allowed).to.equal(false);
    expect((await limiter.consume('other')).allowed).to.equal(true);
    await limiter.reset('k');
    for (let i = 0; i < FREE; i += 1) expect((await limiter.consume('k')).allowed).to.equal(true);
  });
});

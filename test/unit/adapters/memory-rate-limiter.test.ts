import { expect } from 'chai';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { FlexibleRateLimiter } from '../../../src/adapters/flexible-rate-limiter.js';
import { MemoryRateLimiter } from '../../../src/adapters/memory-rate-limiter.js';

const WINDOW_MS = 60_000;

describe('MemoryRateLimiter (fixed windows in this process)', () => {
  let t: number;
  let limiter: MemoryRateLimiter;
  const now = () => t;

  beforeEach(() => {
    t = 1_700_000_000_000;
    limiter = new MemoryRateLimiter({ points: 3, windowS: WINDOW_MS / 1000, keyPrefix: 'test' }, now);
  });

  const allowed = async (key: string) => (await limiter.consume(key)).allowed;

  it('allows the budget, then refuses until the window that opened with the first event ends', async () => {
    expect([await allowed('a'), await allowed('a'), await allowed('a')]).to.deep.equal([true, true, true]);
    t += 10_000;
    const refused = await limiter.consume('a');
    expect(refused).to.deep.equal({ allowed: false, retryAfterMs: WINDOW_MS - 10_000 });
    t += WINDOW_MS - 10_000;
    expect(await allowed('a')).to.equal(true);
  });

  it('answers tryConsume without a promise, counting in the same window as consume', async () => {
    expect(limiter.tryConsume('a')).to.deep.include({ allowed: true });
    expect((await limiter.consume('a')).allowed).to.equal(true);
    expect(limiter.tryConsume('a')).to.deep.include({ allowed: true });
    const refused = limiter.tryConsume('a');
    expect(refused.allowed, 'the fourth of three').to.equal(false);
    expect((await limiter.consume('a')).allowed).to.equal(false);
  });

  it('keeps a window to its length when the wall clock is set back', async () => {
    for (let i = 0; i < 4; i += 1) await limiter.consume('a');
    // NTP moves the clock back an hour mid-window: the refusal lasts at most one window.
    t -= 3_600_000;
    const refused = await limiter.consume('a');
    expect(refused.allowed).to.equal(false);
    expect(refused.retryAfterMs).to.be.at.most(WINDOW_MS);
    t += WINDOW_MS;
    expect(await allowed('a')).to.equal(true);
  });

  it('counts each key on its own', async () => {
    for (let i = 0; i < 3; i += 1) await limiter.consume('a');
    expect(await allowed('a')).to.equal(false);
    expect(await allowed('b')).to.equal(true);
  });

  it('counts refused events too, without lengthening the window', async () => {
    for (let i = 0; i < 10; i += 1) await limiter.consume('a');
    t += WINDOW_MS - 1;
    expect(await limiter.consume('a')).to.deep.equal({ allowed: false, retryAfterMs: 1 });
    t += 1;
    expect(await allowed('a')).to.equal(true);
  });

  it('gives one event back to the running window; a key without one is not credited', async () => {
    for (let i = 0; i < 3; i += 1) await limiter.consume('a');
    await limiter.refund('a');
    expect(await allowed('a')).to.equal(true);
    expect(await allowed('a')).to.equal(false);

    await limiter.refund('fresh');
    for (let i = 0; i < 3; i += 1) expect(await allowed('fresh')).to.equal(true);
    expect(await allowed('fresh')).to.equal(false);
  });

  it('forgets a key on reset', async () => {
    for (let i = 0; i < 4; i += 1) await limiter.consume('a');
    await limiter.reset('a');
    expect(await allowed('a')).to.equal(true);
  });

  it('drops ended windows once a window length has passed, without a timer', async () => {
    for (let i = 0; i < 100; i += 1) await limiter.consume(`k${i}`);
    expect(limiter.size).to.equal(100);
    t += WINDOW_MS / 2;
    await limiter.consume('late');
    expect(limiter.size).to.equal(101);
    t += WINDOW_MS / 2;
    await limiter.consume('later');
    // The 100 early windows ended; 'late' runs for another half window.
    expect(limiter.size).to.equal(2);
  });

  it('agrees with the rate-limiter-flexible counters the Redis backend uses', async () => {
    const flexible = new FlexibleRateLimiter(new RateLimiterMemory({ points: 3, duration: 60, keyPrefix: 'ref' }));
    const real = new MemoryRateLimiter({ points: 3, windowS: 60, keyPrefix: 'test' });
    const ours: boolean[] = [];
    const theirs: boolean[] = [];
    for (let i = 0; i < 6; i += 1) {
      ours.push((await real.consume('k')).allowed);
      theirs.push((await flexible.consume('k')).allowed);
      if (i === 3) {
        await real.refund('k');
        await flexible.refund('k');
      }
    }
    expect(ours).to.deep.equal(theirs);
    await flexible.reset('k');
  });

  it('over rate-limiter-flexible, credits no window that is not running (its reward would open one below zero)', async () => {
    const flexible = new FlexibleRateLimiter(new RateLimiterMemory({ points: 3, duration: 60, keyPrefix: 'refund' }));
    // A command counted in a window that has since ended (its key expired) gives nothing back to the next one.
    await flexible.refund('k');
    await flexible.refund('k');
    const admitted: boolean[] = [];
    for (let i = 0; i < 5; i += 1) admitted.push((await flexible.consume('k')).allowed);
    expect(admitted).to.deep.equal([true, true, true, false, false]);
    // Within a running window a refund gives one back, and never more than was counted.
    await flexible.reset('k');
    await flexible.consume('k');
    await flexible.refund('k');
    await flexible.refund('k');
    for (let i = 0; i < 3; i += 1) expect((await flexible.consume('k')).allowed).to.equal(true);
    expect((await flexible.consume('k')).allowed).to.equal(false);
  });
});

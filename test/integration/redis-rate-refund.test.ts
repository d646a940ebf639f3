import { expect } from 'chai';
import { Redis } from 'ioredis';
import { redisRateLimiter } from '../../src/cluster/redis-rate-limiter.js';
import type { RateLimiter } from '../../src/domain/rate-limiter.js';
import { useRedis } from '../support/redis-server.js';

/**
 * Long enough that no window ends by itself while a case runs, on however loaded a machine: a
 * window is ended by the case (endWindow), not waited for.
 */
const WINDOW_S = 60;

describe('Redis rate limits: a refund after its window ended (real Redis)', function () {
  this.timeout(20_000);
  const suite = useRedis('redis-rate-refund');
  let redis: Redis;
  let keyNo = 0;

  before(async () => {
    redis = new Redis(suite.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
  });
  after(async () => {
    await redis.quit();
  });

  /**
   * Ends the key's running window as time would: its counter in Redis expires (the keys of this
   * limiter's prefix go, as their expiry takes them) and the node's local window passes (its clock
   * moves on by a window).
   */
  const endWindow = async (keyPrefix: string, clock: { ms: number }): Promise<void> => {
    const keys = await redis.keys(`*${keyPrefix}:*`);
    expect(keys, 'the window counted in Redis').to.not.deep.equal([]);
    await redis.del(...keys);
    clock.ms += WINDOW_S * 1000;
  };

  const admitted = async (limiter: RateLimiter, key: string, tries: number): Promise<number> => {
    let n = 0;
    for (let i = 0; i < tries; i += 1) if ((await limiter.consume(key)).allowed) n += 1;
    return n;
  };

  for (const localShare of [0, 0.5]) {
    it(`gives the next window nothing (local share ${localShare}): the budget stays the budget`, async () => {
      keyNo += 1;
      const keyPrefix = `refund-${keyNo}`;
      const clock = { ms: Date.now() };
      const limiter = redisRateLimiter(redis, { points: 4, windowS: WINDOW_S, keyPrefix }, localShare, () => clock.ms);
      expect(await admitted(limiter, 'student', 4)).to.equal(4);
      await endWindow(keyPrefix, clock);
      // Four commands of the ended window answered BUSY only now: each gives its count back.
      for (let i = 0; i < 4; i += 1) await limiter.refund('student');
      expect(await admitted(limiter, 'student', 10)).to.equal(4);
    });
  }

  it('gives a count back within the window, never below zero', async () => {
    keyNo += 1;
    const limiter = redisRateLimiter(redis, { points: 4, windowS: 60, keyPrefix: `refund-${keyNo}` }, 0);
    expect(await admitted(limiter, 'student', 1)).to.equal(1);
    await limiter.refund('student');
    await limiter.refund('student');
    expect(await admitted(limiter, 'student', 10)).to.equal(4);
  });
});

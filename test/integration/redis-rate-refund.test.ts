import { expect } from 'chai';
import { Redis } from 'ioredis';
import { redisRateLimiter } from '../../src/cluster/redis-rate-limiter.js';
import type { RateLimiter } from '../../src/domain/rate-limiter.js';
import { useRedis } from '../support/redis-server.js';

/** The shortest window rate-limiter-flexible keeps in Redis (whole seconds). */
const WINDOW_S = 1;

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

  const admitted = async (limiter: RateLimiter, key: string, tries: number): Promise<number> => {
    let n = 0;
    for (let i = 0; i < tries; i += 1) if ((await limiter.consume(key)).allowed) n += 1;
    return n;
  };

  for (const localShare of [0, 0.5]) {
    it(`gives the next window nothing (local share ${localShare}): the budget stays the budget`, async () => {
      keyNo += 1;
      const limiter = redisRateLimiter(redis, { points: 4, windowS: WINDOW_S, keyPrefix: `refund-${keyNo}` }, localShare);
      expect(await admitted(limiter, 'student', 4)).to.equal(4);
      await new Promise((resolve) => setTimeout(resolve, WINDOW_S * 1000 + 150));
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

import { expect } from 'chai';
import { Redis } from 'ioredis';
import { redisOptions } from '../../src/cluster/redis.js';
import { redisSlidingLog } from '../../src/cluster/redis-sliding-log.js';
import { SharedCountUnavailable } from '../../src/domain/rate-limiter.js';
import { useRedis } from '../support/redis-server.js';
import { skipBecause } from '../support/skip.js';

const TIMEOUT_MS = 300;

// docs/multi-node.md "When Redis hangs": the mail budget's sliding count (one sorted set shared by
// every node) asked of a hung Redis is unavailable, as when Redis is down, so the outbox holds its
// mail back instead of failing every pass; and the admission the timed-out script makes once Redis
// answers again is taken back, so a send that never happened does not use the budget.
describe('the shared sliding count when Redis hangs (SIGSTOP)', function () {
  this.timeout(30_000);
  const suite = useRedis('redis-sliding-log-hung');
  let redis: Redis | null = null;
  afterEach(() => {
    if (suite.redis.owned) suite.redis.resume();
    redis?.disconnect();
    redis = null;
  });

  it('is unavailable within the command timeout, and leaves no admission behind once Redis answers', async function () {
    if (!suite.redis.owned) skipBecause(this, 'hangs Redis (SIGSTOP): needs its own redis-server, not REDIS_URL');
    redis = new Redis(suite.redis.url, redisOptions('data', 'sliding-hung', TIMEOUT_MS));
    await redis.connect();
    const limiter = redisSlidingLog(redis, { keyPrefix: 'mail-hung', points: 10, windowS: 60, sliding: true });
    const key = 'attendance:rl:mail-hung:org';
    expect(await limiter.consume('org')).to.deep.equal({ allowed: true, retryAfterMs: 0 });

    suite.redis.pause();
    const t = Date.now();
    const refused = await limiter.consume('org').then(
      () => null,
      (err: unknown) => err,
    );
    expect(refused).to.be.instanceOf(SharedCountUnavailable);
    expect((refused as Error).message).to.match(/did not answer within the command timeout/);
    expect(Date.now() - t).to.be.below(TIMEOUT_MS + 2_000);
    expect(redis.status, 'a hung Redis keeps its connection').to.equal('ready');

    suite.redis.resume();
    // The timed-out script runs now, then the ZREM queued behind it; a PING answered on the same
    // connection comes after both. One admission stays: the first.
    expect(await redis.ping()).to.equal('PONG');
    expect(await redis.zcard(key)).to.equal(1);
  });
});

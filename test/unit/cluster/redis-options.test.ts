import { expect } from 'chai';
import { COMMAND_TIMEOUT_MS, redisOptions } from '../../../src/cluster/redis.js';

// docs/multi-node.md "When Redis hangs": only the data connection (rate limits, registry) gives a
// command up after a bound; the adapter's publishes are not awaited, so a bound there would reject
// them unhandled.
describe('redisOptions', () => {
  it('bounds the data connection’s commands by the configured timeout, the adapter’s not at all', () => {
    expect(redisOptions('data', 'n', 250).commandTimeout).to.equal(250);
    expect(redisOptions('data', 'n').commandTimeout).to.equal(COMMAND_TIMEOUT_MS);
    expect(redisOptions('pub', 'n', 250).commandTimeout).to.equal(undefined);
    expect(redisOptions('sub', 'n', 250).commandTimeout).to.equal(undefined);
  });
});

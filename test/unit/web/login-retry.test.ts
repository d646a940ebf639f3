import { expect } from 'chai';
import { ApiError } from '../../../src/web/lib/auth.js';
import { busyLoginDelayMs, LOGIN_BUSY_RETRIES } from '../../../src/web/lib/login-retry.js';

describe("the login form's wait after a BUSY answer (a class logging in at once)", () => {
  const busy = new ApiError(503, { code: 'BUSY', message: 'x', details: { cause: 'password_queue_full', retryAfterMs: 3_000 } });

  it("waits at least the node's hint, longer after each BUSY in a row, with up to half more at random", () => {
    expect([0, 1, 2, 3].map((n) => busyLoginDelayMs(busy, n, 0))).to.deep.equal([3_000, 3_000, 4_000, 8_000]);
    expect(busyLoginDelayMs(busy, 0, 0.999)).to.be.closeTo(4_500, 2);
  });

  it('shows the refusal after a few in a row, and any other error at once', () => {
    expect(busyLoginDelayMs(busy, LOGIN_BUSY_RETRIES - 1, 0)).to.be.a('number');
    expect(busyLoginDelayMs(busy, LOGIN_BUSY_RETRIES, 0)).to.equal(null);
    expect(busyLoginDelayMs(new ApiError(401, { code: 'INVALID_CREDENTIALS', message: 'x' }), 0, 0)).to.equal(null);
    expect(busyLoginDelayMs(new ApiError(429, { code: 'RATE_LIMITED', message: 'x', details: { retryAfterMs: 1_000 } }), 0, 0)).to.equal(
      null,
    );
    expect(busyLoginDelayMs(new Error('offline'), 0, 0)).to.equal(null);
  });
});

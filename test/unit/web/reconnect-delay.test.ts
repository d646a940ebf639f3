import { expect } from 'chai';
import { admissionRefusalText, readAdmissionRefusal } from '../../../src/shared/admission.js';
import type { ErrorBody } from '../../../src/shared/errors.js';
import { reconnectDelayMs } from '../../../src/web/lib/reconnect-delay.js';

describe("the pages' wait before connecting again after a refusal", () => {
  const rateLimited: ErrorBody = { code: 'RATE_LIMITED', message: 'x', details: { retryAfterMs: 4_000 } };
  const internal: ErrorBody = { code: 'INTERNAL', message: 'x' };
  const busy = readAdmissionRefusal({
    description: 403,
    context: { responseText: JSON.stringify({ code: 4, message: admissionRefusalText(1_000) }) },
  })!;

  it("follows a refusal's hint, else doubles from 1 s up to 30 s, with up to a fifth more", () => {
    expect([1, 2, 3].map((n) => reconnectDelayMs(rateLimited, n, false, 0))).to.deep.equal([4_000, 4_000, 4_000]);
    expect([1, 2, 3, 6, 9].map((n) => reconnectDelayMs(internal, n, false, 0))).to.deep.equal([1_000, 2_000, 4_000, 30_000, 30_000]);
    expect(reconnectDelayMs(rateLimited, 1, false, 0.999)).to.be.closeTo(4_800, 1);
  });

  it('waits longer after each refusal in a row of an overloaded node, its hint a floor, with up to half more', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => reconnectDelayMs(busy, n, true, 0))).to.deep.equal([
      1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000,
    ]);
    const longHint: ErrorBody = { ...busy, details: { cause: 'admission', retryAfterMs: 6_000 } };
    expect([1, 3, 4].map((n) => reconnectDelayMs(longHint, n, true, 0))).to.deep.equal([6_000, 6_000, 8_000]);
    expect(reconnectDelayMs(busy, 1, true, 0.999)).to.be.closeTo(1_500, 1);
  });
});

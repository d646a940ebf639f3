import { expect } from 'chai';
import { issueChallenge, LIVENESS_CHALLENGE_TTL_MS, readChallenge } from '../../../src/domain/face/liveness-challenge.js';
import { LIVENESS_CHALLENGES } from '../../../src/shared/liveness.js';

describe('liveness challenge tokens', () => {
  const secret = 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0';
  const now = new Date('2026-03-02T09:00:00Z');

  it('reads back the challenge issued, until it expires', () => {
    const c = issueChallenge(secret, 's1', 'u1', now);
    expect(LIVENESS_CHALLENGES).to.include(c.challenge);
    expect(c.expiresAt.getTime() - now.getTime()).to.equal(LIVENESS_CHALLENGE_TTL_MS);
    expect(readChallenge(secret, 's1', 'u1', c.token, now)).to.equal(c.challenge);
    expect(readChallenge(secret, 's1', 'u1', c.token, c.expiresAt)).to.equal(c.challenge);
    expect(readChallenge(secret, 's1', 'u1', c.token, new Date(c.expiresAt.getTime() + 1))).to.equal(null);
  });

  it('issues every challenge, at random', () => {
    const seen = new Set(Array.from({ length: 60 }, () => issueChallenge(secret, 's1', 'u1', now).challenge));
    expect([...seen].sort()).to.deep.equal([...LIVENESS_CHALLENGES].sort());
  });

  it('refuses a token of another student, session or secret, an edited challenge or expiry, and garbage', () => {
    const c = issueChallenge(secret, 's1', 'u1', now);
    expect(readChallenge(secret, 's1', 'u2', c.token, now)).to.equal(null);
    expect(readChallenge(secret, 's2', 'u1', c.token, now)).to.equal(null);
    expect(readChallenge(`${secret}x`, 's1', 'u1', c.token, now)).to.equal(null);
    const other = LIVENESS_CHALLENGES.find((x) => x !== c.challenge)!;
    expect(readChallenge(secret, 's1', 'u1', c.token.replace(c.challenge, other), now)).to.equal(null);
    const later = c.token.replace(`.${c.expiresAt.getTime()}.`, `.${c.expiresAt.getTime() + 600_000}.`);
    expect(readChallenge(secret, 's1', 'u1', later, new Date(c.expiresAt.getTime() + 1))).to.equal(null);
    for (const bad of ['', 'blink', 'blink.1.2.3', `${c.token}x`]) expect(readChallenge(secret, 's1', 'u1', bad, now)).to.equal(null);
  });
});

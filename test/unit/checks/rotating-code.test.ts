import { createHmac } from 'node:crypto';
import { expect } from 'chai';
import {
  codeAt,
  currentCode,
  JOIN_TOKEN_TTL_MS,
  joinTokenAt,
  newCodeSecret,
  verifyCode,
  verifyJoinToken,
} from '../../../src/domain/checks/rotating-code.js';

// RFC 6238 appendix B, SHA-256 column: 32-byte ASCII key, 30 s steps, T0 = 0, 8 digits.
const RFC_KEY = Buffer.from('12345678901234567890123456789012', 'ascii');
const RFC_SECRET = RFC_KEY.toString('base64url');
const RFC_VECTORS: ReadonlyArray<[epochS: number, eightDigits: string]> = [
  [59, '46119246'],
  [1_111_111_109, '68084774'],
  [1_111_111_111, '67062674'],
  [1_234_567_890, '91819424'],
  [2_000_000_000, '90698825'],
  [20_000_000_000, '77737706'],
];

/** Independent reference: HOTP (RFC 4226) with HMAC-SHA256, written out from the RFC. */
function referenceCode(key: Buffer, counter: number): string {
  const msg = Buffer.alloc(8);
  msg.writeUInt32BE(Math.floor(counter / 2 ** 32), 0);
  msg.writeUInt32BE(counter % 2 ** 32, 4);
  const mac = createHmac('sha256', key).update(msg).digest();
  const o = mac[31]! & 0xf;
  const bin = ((mac[o]! & 0x7f) << 24) | (mac[o + 1]! << 16) | (mac[o + 2]! << 8) | mac[o + 3]!;
  return (bin % 1_000_000).toString().padStart(6, '0');
}

describe('rotating code', () => {
  const secret = Buffer.alloc(32, 7).toString('base64url');
  const period = 15;
  const now = new Date('2025-03-03T09:41:37.250Z');
  const shift = (s: number) => new Date(now.getTime() + s * 1000);

  it('newCodeSecret gives 32 random bytes as base64url', () => {
    const a = newCodeSecret();
    const b = newCodeSecret();
    expect(a).to.match(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a, 'base64url')).to.have.length(32);
    expect(a).to.not.equal(b);
  });

  it('matches the RFC 6238 SHA-256 vectors (last six digits)', () => {
    for (const [epochS, eight] of RFC_VECTORS) {
      expect(codeAt(RFC_SECRET, 30, new Date(epochS * 1000)), String(epochS)).to.equal(eight.slice(2));
    }
  });

  it('matches an HMAC computed independently with node:crypto', () => {
    const counter = Math.floor(now.getTime() / 1000 / period);
    expect(codeAt(secret, period, now)).to.equal(referenceCode(Buffer.alloc(32, 7), counter));
  });

  it('is six zero-padded digits', () => {
    expect(codeAt(RFC_SECRET, 30, new Date(1_111_111_109_000))).to.equal('084774');
    expect(codeAt(secret, period, now)).to.match(/^\d{6}$/);
  });

  it('is deterministic for a secret and time, and constant within a period', () => {
    expect(codeAt(secret, period, now)).to.equal(codeAt(secret, period, new Date(now.getTime())));
    const start = Math.floor(now.getTime() / 15_000) * 15_000;
    expect(codeAt(secret, period, new Date(start))).to.equal(codeAt(secret, period, new Date(start + 14_999)));
    expect(codeAt(secret, period, new Date(start))).to.not.equal(codeAt(secret, period, new Date(start + 15_000)));
  });

  it('differs for a different secret', () => {
    const other = Buffer.alloc(32, 8).toString('base64url');
    expect(codeAt(other, period, now)).to.not.equal(codeAt(secret, period, now));
  });

  it('currentCode gives the code and the bounds of its period', () => {
    const c = currentCode(secret, period, now);
    expect(c.code).to.equal(codeAt(secret, period, now));
    expect(c.periodStartsAt.toISOString()).to.equal('2025-03-03T09:41:30.000Z');
    expect(c.expiresAt.toISOString()).to.equal('2025-03-03T09:41:45.000Z');
  });

  it('accepts the current and the previous period', () => {
    expect(verifyCode(secret, period, codeAt(secret, period, now), now)).to.equal('current');
    expect(verifyCode(secret, period, codeAt(secret, period, shift(-period)), now)).to.equal('previous');
  });

  it('rejects a code two periods old, a future code and a wrong code', () => {
    const twoBack = codeAt(secret, period, shift(-2 * period));
    const next = codeAt(secret, period, shift(period));
    const current = codeAt(secret, period, now);
    const previous = codeAt(secret, period, shift(-period));
    // Guard: the test only means something when the codes differ from the accepted ones.
    for (const c of [twoBack, next]) expect([current, previous]).to.not.include(c);
    expect(verifyCode(secret, period, twoBack, now)).to.equal('invalid');
    expect(verifyCode(secret, period, next, now)).to.equal('invalid');
    const wrong = String((Number(current) + 1) % 1_000_000).padStart(6, '0');
    expect(wrong).to.not.equal(previous);
    expect(verifyCode(secret, period, wrong, now)).to.equal('invalid');
  });

  it('rejects the right code under another secret', () => {
    const other = Buffer.alloc(32, 8).toString('base64url');
    expect(verifyCode(other, period, codeAt(secret, period, now), now)).to.equal('invalid');
  });

  it('treats anything but six ASCII digits as invalid', () => {
    const current = codeAt(secret, period, now);
    const malformed = ['', '12345', '1234567', `${current} `, ` ${current}`, `${current}0`, '12a456', '１２３４５６', '-12345'];
    for (const code of malformed) expect(verifyCode(secret, period, code, now), code).to.equal('invalid');
    expect(verifyCode(secret, period, Number(current) as unknown as string, now)).to.equal('invalid');
    expect(verifyCode(secret, period, null as unknown as string, now)).to.equal('invalid');
  });

  it('throws on a short secret, a bad period or an invalid date', () => {
    expect(() => codeAt('c2hvcnQ', period, now)).to.throw(RangeError);
    expect(() => codeAt('not base64url!', period, now)).to.throw(RangeError);
    expect(() => codeAt(secret, 0, now)).to.throw(RangeError);
    expect(() => codeAt(secret, Number.NaN, now)).to.throw(RangeError);
    expect(() => verifyCode(secret, period, '123456', new Date(Number.NaN))).to.throw(RangeError);
  });
});

describe('join token of the QR link', () => {
  const secret = newCodeSecret();
  const period = 15;
  const issued = new Date('2026-03-02T09:00:07Z');

  it('stays valid for JOIN_TOKEN_TTL_MS after its period began, well past the code', () => {
    const token = joinTokenAt(secret, period, issued);
    const code = codeAt(secret, period, issued);
    const later = new Date(issued.getTime() + 60_000);
    expect(verifyCode(secret, period, code, later)).to.equal('invalid');
    expect(verifyJoinToken(secret, period, token, later)).to.equal(true);
    const periodStart = Math.floor(issued.getTime() / 1000 / period) * period * 1000;
    expect(verifyJoinToken(secret, period, token, new Date(periodStart + JOIN_TOKEN_TTL_MS))).to.equal(true);
    expect(verifyJoinToken(secret, period, token, new Date(periodStart + JOIN_TOKEN_TTL_MS + 1))).to.equal(false);
  });

  it('refuses a token of another session, from the future, altered or malformed', () => {
    const token = joinTokenAt(secret, period, issued);
    expect(verifyJoinToken(newCodeSecret(), period, token, issued)).to.equal(false);
    expect(verifyJoinToken(secret, period, joinTokenAt(secret, period, new Date(issued.getTime() + 60_000)), issued)).to.equal(false);
    const [counter, mac] = token.split('.') as [string, string];
    expect(verifyJoinToken(secret, period, `${Number(counter) - 1}.${mac}`, issued)).to.equal(false);
    const flipped = `${counter}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`;
    expect(verifyJoinToken(secret, period, flipped, issued)).to.equal(false);
    for (const bad of ['', '123456', `${counter}.`, `${token}x`, `-1.${mac}`])
      expect(verifyJoinToken(secret, period, bad, issued), bad).to.equal(false);
  });
});

import { createHmac, generateKeyPairSync } from 'node:crypto';
import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { ACCESS_AUDIENCE, JwtTokenSigner } from '../../../src/adapters/jwt-token-signer.js';
import { AppError } from '../../../src/shared/app-error.js';

const SECRET = 'a-test-secret-that-is-long-enough-000';
const ISSUER = 'test-issuer';
const user = { id: 'user-1', orgId: 'org-1', role: 'teacher' as const };

function hsService(secret = SECRET, clock?: () => Date): JwtTokenSigner {
  return new JwtTokenSigner({ algorithm: 'HS256', secret, privateKey: null, publicKey: null, issuer: ISSUER, accessTtlS: 900 }, clock);
}

const rsa = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});

function rsService(): JwtTokenSigner {
  return new JwtTokenSigner({
    algorithm: 'RS256',
    secret: null,
    privateKey: rsa.privateKey,
    publicKey: rsa.publicKey,
    issuer: ISSUER,
    accessTtlS: 900,
  });
}

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(AppError);
    expect((err as AppError).code).to.equal(code);
    return;
  }
  expect.fail(`expected ${code}`);
}

function b64(obj: unknown): string {
  return Buffer.from(JSON.stringify(obj)).toString('base64url');
}

describe('JwtTokenSigner', () => {
  it('verifies its own HS256 token and returns the claims', () => {
    const svc = hsService();
    const { token, expiresAt } = svc.signAccess(user);
    const claims = svc.verifyAccess(token);
    expect(claims).to.include({ sub: 'user-1', org: 'org-1', role: 'teacher' });
    expect(claims.jti).to.be.a('string').with.length.above(0);
    expect(claims.exp - claims.iat).to.equal(900);
    expect(expiresAt.getTime()).to.equal(claims.exp * 1000);
  });

  it('verifies its own RS256 token', () => {
    const svc = rsService();
    expect(svc.verifyAccess(svc.signAccess(user).token).sub).to.equal('user-1');
  });

  it('rejects a token whose payload was tampered with', () => {
    const svc = hsService();
    const [h, p, s] = svc.signAccess(user).token.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const forged = `${h}.${b64({ ...payload, role: 'admin' })}.${s}`;
    expectCode(() => svc.verifyAccess(forged), 'TOKEN_INVALID');
  });

  it('rejects a token signed with another key', () => {
    const other = hsService('another-secret-that-is-long-enough-11');
    expectCode(() => hsService().verifyAccess(other.signAccess(user).token), 'TOKEN_INVALID');
  });

  it('rejects an unsigned alg:none token', () => {
    const now = Math.floor(Date.now() / 1000);
    const payload = { sub: 'user-1', org: 'org-1', role: 'admin', iat: now, exp: now + 600, jti: 'x', iss: ISSUER, aud: ACCESS_AUDIENCE };
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`;
    expectCode(() => hsService().verifyAccess(none), 'TOKEN_INVALID');
    expectCode(() => rsService().verifyAccess(none), 'TOKEN_INVALID');
  });

  it('rejects an HS256 token (signed with the public key) presented to an RS256 verifier', () => {
    const now = Math.floor(Date.now() / 1000);
    const payload = { sub: 'user-1', org: 'org-1', role: 'admin', iat: now, exp: now + 600, jti: 'x' };
    // The classic key-confusion forgery: HMAC with the verifier's public key as the secret.
    // jsonwebtoken refuses to sign with a PEM key as HMAC secret, so sign by hand.
    const forged = signHmacByHand(payload, rsa.publicKey);
    expectCode(() => rsService().verifyAccess(forged), 'TOKEN_INVALID');
  });

  it('rejects an RS256 token presented to an HS256 verifier', () => {
    const rsToken = rsService().signAccess(user).token;
    expectCode(() => hsService().verifyAccess(rsToken), 'TOKEN_INVALID');
  });

  it('rejects an expired token with TOKEN_EXPIRED', () => {
    const past = new Date(Date.now() - 3_600_000);
    const token = hsService(SECRET, () => past).signAccess(user).token;
    expectCode(() => hsService().verifyAccess(token), 'TOKEN_EXPIRED');
  });

  it('accepts a token within the clock tolerance after expiry, not beyond', () => {
    const t0 = new Date('2030-01-01T00:00:00Z');
    const token = hsService(SECRET, () => t0).signAccess(user).token;
    expect(hsService(SECRET, () => new Date(t0.getTime() + 902_000)).verifyAccess(token).sub).to.equal('user-1');
    expectCode(() => hsService(SECRET, () => new Date(t0.getTime() + 910_000)).verifyAccess(token), 'TOKEN_EXPIRED');
  });

  it('rejects a token that is not yet valid (nbf)', () => {
    const now = Math.floor(Date.now() / 1000);
    const token = jwt.sign({ org: 'org-1', role: 'teacher', nbf: now + 600 }, SECRET, {
      algorithm: 'HS256',
      subject: 'user-1',
      issuer: ISSUER,
      audience: ACCESS_AUDIENCE,
      jwtid: 'j1',
      expiresIn: 3_600,
    });
    expectCode(() => hsService().verifyAccess(token), 'TOKEN_INVALID');
    // Control: the same construction with nbf in the past verifies, so nbf is what failed.
    const valid = jwt.sign({ org: 'org-1', role: 'teacher', nbf: now - 10 }, SECRET, {
      algorithm: 'HS256',
      subject: 'user-1',
      issuer: ISSUER,
      audience: ACCESS_AUDIENCE,
      jwtid: 'j1',
      expiresIn: 3_600,
    });
    expect(hsService().verifyAccess(valid).sub).to.equal('user-1');
  });

  it('rejects a token from another issuer or for another audience', () => {
    const wrongIssuer = jwt.sign({ org: 'org-1', role: 'teacher' }, SECRET, {
      algorithm: 'HS256',
      subject: 'user-1',
      issuer: 'someone-else',
      audience: ACCESS_AUDIENCE,
      jwtid: 'j',
      expiresIn: 600,
    });
    const wrongAudience = jwt.sign({ org: 'org-1', role: 'teacher' }, SECRET, {
      algorithm: 'HS256',
      subject: 'user-1',
      issuer: ISSUER,
      audience: 'another-api',
      jwtid: 'j',
      expiresIn: 600,
    });
    expectCode(() => hsService().verifyAccess(wrongIssuer), 'TOKEN_INVALID');
    expectCode(() => hsService().verifyAccess(wrongAudience), 'TOKEN_INVALID');
  });

  it('rejects a validly signed token whose claims have the wrong shape', () => {
    const token = jwt.sign({ org: 'org-1', role: 'superuser' }, SECRET, {
      algorithm: 'HS256',
      subject: 'user-1',
      issuer: ISSUER,
      audience: ACCESS_AUDIENCE,
      jwtid: 'j',
      expiresIn: 600,
    });
    expectCode(() => hsService().verifyAccess(token), 'TOKEN_INVALID');
  });

  it('rejects garbage', () => {
    expectCode(() => hsService().verifyAccess('not.a.token'), 'TOKEN_INVALID');
  });
});

function signHmacByHand(payload: Record<string, unknown>, key: string): string {
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ ...payload, iss: ISSUER, aud: ACCESS_AUDIENCE })}`;
  return `${head}.${createHmac('sha256', key).update(head).digest('base64url')}`;
}

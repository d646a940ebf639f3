import { expect } from 'chai';
import type { DomainEvent } from '../../../src/domain/events.js';
import { PasswordHasher } from '../../../src/auth/passwords.js';
import { TokenService } from '../../../src/auth/tokens.js';
import { AuthService, hashRefreshToken } from '../../../src/domain/accounts/auth-service.js';
import { MemoryRateLimiter } from '../../../src/domain/rate-limiter.js';
import { UserService } from '../../../src/domain/users/user-service.js';
import { createSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import type { Organisation, Store, User } from '../../../src/store/types.js';
import { PASSWORD, createOrg, createUser } from '../../support/fixtures.js';
import { expectCode } from '../../support/expect-code.js';

const LIMIT = 3;

describe('AuthService', () => {
  let store: Store;
  let auth: AuthService;
  let tokens: TokenService;
  let org: Organisation;
  let teacher: User;
  let published: DomainEvent[];

  beforeEach(async () => {
    published = [];
    store = await createSqliteStore({ path: ':memory:' });
    tokens = new TokenService({
      algorithm: 'HS256', secret: 'x'.repeat(40), privateKey: null, publicKey: null, issuer: 'test', accessTtlS: 900,
    });
    auth = new AuthService({
      store,
      passwords: new PasswordHasher(4),
      tokens,
      loginLimiter: new MemoryRateLimiter({ points: LIMIT, windowS: 900, keyPrefix: 'test' }),
      refreshTtlS: 3_600,
      clock: () => new Date(),
      events: { publish: (e) => published.push(e) },
    });
    org = await createOrg(store, 'alpha');
    teacher = await createUser(store, org.id, 'teacher', { email: 'ada@alpha.test' });
  });

  afterEach(() => store.close());

  describe('login', () => {
    it('returns a verifiable access token and a refresh token stored only as its hash', async () => {
      const pair = await auth.login({ email: '  ADA@alpha.test ', password: PASSWORD });
      expect(tokens.verifyAccess(pair.accessToken)).to.include({ sub: teacher.id, org: org.id, role: 'teacher' });
      expect(pair.user).to.not.have.property('passwordHash');
      expect(Buffer.from(pair.refreshToken, 'base64url')).to.have.length(32);
      const stored = await store.refreshTokens.findByHash(hashRefreshToken(pair.refreshToken));
      expect(stored?.userId).to.equal(teacher.id);
      expect(stored?.tokenHash).to.not.equal(pair.refreshToken);
    });

    it('answers INVALID_CREDENTIALS for a wrong password and for an unknown email alike', async () => {
      await expectCode(auth.login({ email: 'ada@alpha.test', password: 'wrong-password' }), 'INVALID_CREDENTIALS');
      await expectCode(auth.login({ email: 'nobody@alpha.test', password: PASSWORD }), 'INVALID_CREDENTIALS');
    });

    it('answers INVALID_CREDENTIALS for an account without a password', async () => {
      await createUser(store, org.id, 'student', { email: 'nopw@alpha.test', password: null });
      await expectCode(auth.login({ email: 'nopw@alpha.test', password: PASSWORD }), 'INVALID_CREDENTIALS');
    });

    it('answers ACCOUNT_DISABLED for a deactivated account with the right password only', async () => {
      await createUser(store, org.id, 'student', { email: 'gone@alpha.test', active: false });
      await expectCode(auth.login({ email: 'gone@alpha.test', password: 'wrong-password' }), 'INVALID_CREDENTIALS');
      await expectCode(auth.login({ email: 'gone@alpha.test', password: PASSWORD }), 'ACCOUNT_DISABLED');
    });

    it('needs the organisation when the email exists in several organisations', async () => {
      const beta = await createOrg(store, 'beta');
      const other = await createUser(store, beta.id, 'admin', { email: 'ada@alpha.test' });
      await expectCode(auth.login({ email: 'ada@alpha.test', password: PASSWORD }), 'ORGANISATION_REQUIRED');
      const pair = await auth.login({ email: 'ada@alpha.test', password: PASSWORD, organisation: 'beta' });
      expect(pair.user.id).to.equal(other.id);
      await expectCode(auth.login({ email: 'ada@alpha.test', password: PASSWORD, organisation: 'nope' }), 'INVALID_CREDENTIALS');
    });

    it('rate-limits failed attempts per account, even with the right password afterwards', async () => {
      for (let i = 0; i < LIMIT; i += 1) {
        await expectCode(auth.login({ email: 'ada@alpha.test', password: 'wrong-password', ip: `10.0.0.${i}` }), 'INVALID_CREDENTIALS');
      }
      const err = await expectCode(auth.login({ email: 'ada@alpha.test', password: PASSWORD, ip: '10.0.0.99' }), 'RATE_LIMITED');
      expect(err.details?.retryAfterMs).to.be.a('number').above(0);
    });

    it('rate-limits failed attempts per client address across accounts', async () => {
      for (let i = 0; i < LIMIT; i += 1) {
        await expectCode(auth.login({ email: `x${i}@alpha.test`, password: 'wrong-password', ip: '10.1.1.1' }), 'INVALID_CREDENTIALS');
      }
      await expectCode(auth.login({ email: 'ada@alpha.test', password: PASSWORD, ip: '10.1.1.1' }), 'RATE_LIMITED');
      // Another address is unaffected.
      expect((await auth.login({ email: 'ada@alpha.test', password: PASSWORD, ip: '10.1.1.2' })).user.id).to.equal(teacher.id);
    });

    it('does not count successful logins against the address', async () => {
      for (let i = 0; i < LIMIT + 2; i += 1) await auth.login({ email: 'ada@alpha.test', password: PASSWORD, ip: '10.2.2.2' });
    });
  });

  describe('refresh', () => {
    it('rotates: the new token works once, the old one no longer', async () => {
      const first = await auth.login({ email: 'ada@alpha.test', password: PASSWORD });
      const second = await auth.refresh(first.refreshToken);
      expect(second.refreshToken).to.not.equal(first.refreshToken);
      expect(tokens.verifyAccess(second.accessToken).sub).to.equal(teacher.id);
      const a = await store.refreshTokens.findByHash(hashRefreshToken(first.refreshToken));
      const b = await store.refreshTokens.findByHash(hashRefreshToken(second.refreshToken));
      expect(a?.rotatedAt).to.be.instanceOf(Date);
      expect(b?.familyId).to.equal(a?.familyId);
    });

    it('reuse of a rotated token revokes the whole family, including the newer token', async () => {
      const first = await auth.login({ email: 'ada@alpha.test', password: PASSWORD });
      const second = await auth.refresh(first.refreshToken);
      await expectCode(auth.refresh(first.refreshToken), 'REFRESH_TOKEN_REUSED');
      await expectCode(auth.refresh(second.refreshToken), 'REFRESH_TOKEN_INVALID');
    });

    it('leaves other logins of the same user alone when one family is revoked', async () => {
      const first = await auth.login({ email: 'ada@alpha.test', password: PASSWORD });
      const otherDevice = await auth.login({ email: 'ada@alpha.test', password: PASSWORD });
      await auth.refresh(first.refreshToken);
      await expectCode(auth.refresh(first.refreshToken), 'REFRESH_TOKEN_REUSED');
      expect((await auth.refresh(otherDevice.refreshToken)).user.id).to.equal(teacher.id);
    });

    it('rejects unknown and expired tokens', async () => {
      await expectCode(auth.refresh('not-a-token'), 'REFRESH_TOKEN_INVALID');
      const pair = await auth.login({ email: 'ada@alpha.test', password: PASSWORD });
      const later = new AuthService({
        store,
        passwords: new PasswordHasher(4),
        tokens,
        loginLimiter: new MemoryRateLimiter({ points: LIMIT, windowS: 900, keyPrefix: 'later' }),
        refreshTtlS: 3_600,
        clock: () => new Date(Date.now() + 2 * 3_600_000),
        events: { publish: () => undefined },
      });
      await expectCode(later.refresh(pair.refreshToken), 'REFRESH_TOKEN_INVALID');
    });
  });

  describe('logout and deactivation', () => {
    it('logout revokes the family', async () => {
      const first = await auth.login({ email: 'ada@alpha.test', password: PASSWORD });
      const second = await auth.refresh(first.refreshToken);
      await auth.logout(second.refreshToken);
      await expectCode(auth.refresh(second.refreshToken), 'REFRESH_TOKEN_INVALID');
      await auth.logout(second.refreshToken); // idempotent
    });

    it('logout ends the login: its access tokens name it, and the open sockets are told to go', async () => {
      const first = await auth.login({ email: 'ada@alpha.test', password: PASSWORD });
      const second = await auth.refresh(first.refreshToken);
      const sid = tokens.verifyAccess(second.accessToken).sid;
      expect(sid, 'a rotation keeps the login').to.equal(tokens.verifyAccess(first.accessToken).sid).and.be.a('string');
      expect(await store.refreshTokens.familyRevoked(sid!)).to.equal(false);
      await auth.logout(second.refreshToken);
      expect(await store.refreshTokens.familyRevoked(sid!)).to.equal(true);
      expect(published).to.deep.equal([{ type: 'login.revoked', orgId: org.id, sid }]);
      const other = await auth.login({ email: 'ada@alpha.test', password: PASSWORD });
      expect(await store.refreshTokens.familyRevoked(tokens.verifyAccess(other.accessToken).sid!), 'another login lives on').to.equal(false);
    });

    it('deactivating a user revokes every refresh token they hold', async () => {
      const admin = await createUser(store, org.id, 'admin');
      const users = new UserService({ store, passwords: new PasswordHasher(4), clock: () => new Date() });
      const a = await auth.login({ email: 'ada@alpha.test', password: PASSWORD });
      const b = await auth.login({ email: 'ada@alpha.test', password: PASSWORD });
      await users.deactivate({ id: admin.id, orgId: org.id, role: 'admin' }, teacher.id);
      await expectCode(auth.refresh(a.refreshToken), 'REFRESH_TOKEN_INVALID');
      await expectCode(auth.refresh(b.refreshToken), 'REFRESH_TOKEN_INVALID');
      const trail = await store.audit.listForEntity(org.id, 'user', teacher.id);
      expect(trail.map((e) => e.action)).to.include('user.deactivate');
    });
  });
});

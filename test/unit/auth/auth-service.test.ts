import { expect } from 'chai';
import { recordingQueue } from '../../support/mail.js';
import type { DomainEvent } from '../../../src/domain/events.js';
import { JwtTokenSigner } from '../../../src/adapters/jwt-token-signer.js';
import { loadConfig, type Config } from '../../../src/config.js';
import { type AuthService, hashRefreshToken } from '../../../src/domain/accounts/auth-service.js';
import { createDomain, type Domain } from '../../../src/domain/services.js';
import { domainSettings, limitSettings } from '../../../src/app.js';
import { createLimiters } from '../../../src/domain/limiters.js';
import { memoryLimiterBackend } from '../../../src/adapters/memory-rate-limiter.js';
import { createLogger } from '../../../src/logger.js';
import { UserService } from '../../../src/domain/users/user-service.js';
import { createSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import type { Organisation } from '../../../src/domain/ports/organisations.js';
import type { Store } from '../../../src/domain/ports/store.js';
import type { User } from '../../../src/domain/ports/users.js';
import { PASSWORD, createOrg, createUser } from '../../support/fixtures.js';
import { expectCode } from '../../support/expect-code.js';
import { AppError } from '../../../src/shared/app-error.js';
import { cheapPasswordHasher } from '../../support/passwords.js';
import type { PasswordHasher } from '../../../src/domain/accounts/passwords.js';

/** Failed logins in a row per account (any address) before back-off. */
const ACCOUNT_FREE = 3;
/** The same per address and account, and per known device. */
const PAIR_FREE = 2;
/** Failed or unfinished logins per address per minute. */
const ADDRESS_PER_MINUTE = 30;

function config(env: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    JWT_SECRET: 'x'.repeat(40),
    JWT_ISSUER: 'test',
    BCRYPT_COST: '4',
    REFRESH_TOKEN_TTL_S: '3600',
    LOGIN_ACCOUNT_FREE_FAILURES: String(ACCOUNT_FREE),
    LOGIN_ADDRESS_ACCOUNT_FREE_FAILURES: String(PAIR_FREE),
    LOGIN_ADDRESS_PER_MINUTE: String(ADDRESS_PER_MINUTE),
    ...env,
  });
}

/** Settles every promise; counts the answers by error code ('ok' for a login). */
async function codes(attempts: Array<Promise<unknown>>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const r of await Promise.allSettled(attempts)) {
    const code = r.status === 'fulfilled' ? 'ok' : String((r.reason as { code?: unknown }).code);
    out[code] = (out[code] ?? 0) + 1;
  }
  return out;
}

describe('AuthService', () => {
  let store: Store;
  let auth: AuthService;
  let tokens: JwtTokenSigner;
  let org: Organisation;
  let teacher: User;
  let published: DomainEvent[];

  /** The service as the application builds it, over the given environment. */
  function build(env: Record<string, string> = {}, clock = () => new Date()): AuthService {
    return buildDomain(env, clock).auth;
  }

  /** The domain as the application builds it (its auth and account services share the store). */
  function buildDomain(env: Record<string, string> = {}, clock = () => new Date(), passwords = cheapPasswordHasher()): Domain {
    const c = config(env);
    tokens = new JwtTokenSigner(c.jwt, clock);
    return createDomain({
      store,
      logger: createLogger('silent'),
      tokens,
      passwords,
      clock,
      events: { publish: (e) => published.push(e) },
      mail: recordingQueue().queue,
      limiters: createLimiters(limitSettings(c), memoryLimiterBackend),
      settings: domainSettings(c),
    });
  }

  beforeEach(async () => {
    published = [];
    store = await createSqliteStore({ path: ':memory:' });
    auth = build();
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

    it('logs the owner straight in when another organisation made an account with their email and another password', async () => {
      const beta = await createOrg(store, 'beta');
      const copy = await createUser(store, beta.id, 'admin', { email: 'ada@alpha.test', password: 'another-password' });
      await expectCode(auth.login({ email: 'ada@alpha.test', password: 'wrong-password' }), 'INVALID_CREDENTIALS');
      // The password picks the account: no organisation question, and each password its own account.
      expect((await auth.login({ email: 'ada@alpha.test', password: PASSWORD })).user.id).to.equal(teacher.id);
      // Those logins stay counted (a copy's login is a guess at the owner's password); a named one
      // means one account and, right, clears them.
      expect((await auth.login({ email: 'ada@alpha.test', password: PASSWORD, organisation: 'alpha' })).user.id).to.equal(teacher.id);
      expect((await auth.login({ email: 'ada@alpha.test', password: 'another-password' })).user.id).to.equal(copy.id);
      // Named, the organisation is the only one tried: the other's password is wrong there.
      await expectCode(auth.login({ email: 'ada@alpha.test', password: 'another-password', organisation: 'alpha' }), 'INVALID_CREDENTIALS');
    });

    it('answers an account without a password, a deactivated copy and an unknown organisation with the one refusal', async () => {
      const beta = await createOrg(store, 'beta');
      await createUser(store, beta.id, 'student', { email: 'ada@alpha.test', password: null });
      expect((await auth.login({ email: 'ada@alpha.test', password: PASSWORD })).user.id).to.equal(teacher.id);
      const gamma = await createOrg(store, 'gamma');
      await createUser(store, gamma.id, 'student', { email: 'ada@alpha.test', password: 'gamma-password', active: false });
      expect((await auth.login({ email: 'ada@alpha.test', password: PASSWORD })).user.id).to.equal(teacher.id);
      // That login may have meant gamma's account too, so it stays counted: a named one clears it.
      await auth.login({ email: 'ada@alpha.test', password: PASSWORD, organisation: 'alpha' });
      for (const [i, attempt] of [
        { email: 'ada@alpha.test', password: 'wrong-password' },
        { email: 'nobody@alpha.test', password: PASSWORD },
        { email: 'ada@alpha.test', password: PASSWORD, organisation: 'nope' },
        { email: 'ada@alpha.test', password: PASSWORD, organisation: 'beta' },
      ].entries()) {
        // Each from its own address: within the account's free failures, so only the password decides.
        Object.assign(attempt, { ip: `10.6.${i}.1` });
        const err = await expectCode(auth.login(attempt), 'INVALID_CREDENTIALS');
        expect(err.message, JSON.stringify(attempt)).to.equal(new AppError('INVALID_CREDENTIALS').message);
      }
    });

    it('makes the same number of password comparisons for an unknown email, one account and a copy in another organisation; one while the deployment holds one organisation or one is named', async () => {
      let comparisons = 0;
      const inner = cheapPasswordHasher();
      const counting: PasswordHasher = {
        hash: (p) => inner.hash(p),
        verify: (p, h) => ((comparisons += 1), inner.verify(p, h)),
        verifyAll: (p, hashes) => ((comparisons += hashes.length), inner.verifyAll(p, hashes)),
      };
      const counted = buildDomain({}, () => new Date(), counting).auth;
      let attempts = 0;
      const work = async (email: string, organisation?: string): Promise<number> => {
        comparisons = 0;
        attempts += 1;
        await expectCode(
          counted.login({ email, password: 'wrong-password', ip: `10.8.${attempts}.1`, ...(organisation ? { organisation } : {}) }),
          'INVALID_CREDENTIALS',
        );
        return comparisons;
      };
      // One organisation: an email names at most one account, one comparison hides which.
      const single = { alone: await work('ada@alpha.test'), unknown: await work('nobody@alpha.test') };
      expect(single).to.deep.equal({ alone: 1, unknown: 1 });
      const beta = await createOrg(store, 'beta');
      const alone = await work('ada@alpha.test');
      const unknown = await work('nobody@alpha.test');
      // Other emails than ada's: her account's free failures are spent above.
      await createUser(store, org.id, 'teacher', { email: 'lin@alpha.test', password: 'another-password' });
      const named = { own: await work('lin@alpha.test', 'alpha'), other: await work('lin@alpha.test', 'beta') };
      expect(named).to.deep.equal({ own: 1, other: 1 });
      await createUser(store, beta.id, 'admin', { email: 'ada@alpha.test', password: 'another-password' });
      const copied = await work('ada@alpha.test');
      // The copy's maker compares its own email with and without the owner: the same work.
      await createUser(store, beta.id, 'admin', { email: 'grace@alpha.test', password: 'another-password' });
      const copyAlone = await work('grace@alpha.test');
      expect({ alone, unknown, copied, copyAlone }).to.deep.equal({ alone: 2, unknown: 2, copied: 2, copyAlone: 2 });
    });

    it('asks for the organisation only when the password is right in several, so strangers never learn there are several', async () => {
      const beta = await createOrg(store, 'beta');
      await createUser(store, beta.id, 'admin', { email: 'ada@alpha.test' });
      await expectCode(auth.login({ email: 'ada@alpha.test', password: 'wrong-password' }), 'INVALID_CREDENTIALS');
      await expectCode(auth.login({ email: 'ada@alpha.test', password: PASSWORD }), 'ORGANISATION_REQUIRED');
    });

    it('counts ORGANISATION_REQUIRED probes against the account like any other attempt', async () => {
      const beta = await createOrg(store, 'beta');
      await createUser(store, beta.id, 'admin', { email: 'ada@alpha.test' });
      const answers = await codes(
        Array.from({ length: 20 }, (_, i) => auth.login({ email: 'ada@alpha.test', password: `guess-${i}`, ip: `10.3.0.${i}` })),
      );
      expect(answers['RATE_LIMITED'] ?? 0).to.be.at.least(20 - ACCOUNT_FREE);
      expect(answers['ORGANISATION_REQUIRED']).to.equal(undefined);
    });

    it('evaluates at most the free budget of 60 concurrent wrong passwords for one account; the rest answer RATE_LIMITED', async () => {
      const answers = await codes(
        Array.from({ length: 60 }, (_, i) => auth.login({ email: 'ada@alpha.test', password: `guess-${i}`, ip: `10.9.${i}.1` })),
      );
      expect(answers['RATE_LIMITED'] ?? 0, JSON.stringify(answers)).to.be.at.least(60 - ACCOUNT_FREE);
      expect(answers['INVALID_CREDENTIALS'] ?? 0, JSON.stringify(answers)).to.be.at.most(ACCOUNT_FREE);
      const err = await expectCode(auth.login({ email: 'ada@alpha.test', password: PASSWORD, ip: '10.9.99.1' }), 'RATE_LIMITED');
      expect(err.details?.['retryAfterMs']).to.be.a('number').above(0);
    });

    it('limits one address and account pair before the account, so the owner elsewhere is not yet held back', async () => {
      for (let i = 0; i < PAIR_FREE; i += 1) {
        await expectCode(auth.login({ email: 'ada@alpha.test', password: 'wrong-password', ip: '10.4.4.4' }), 'INVALID_CREDENTIALS');
      }
      await expectCode(auth.login({ email: 'ada@alpha.test', password: PASSWORD, ip: '10.4.4.4' }), 'RATE_LIMITED');
      expect((await auth.login({ email: 'ada@alpha.test', password: PASSWORD, ip: '10.5.5.5' })).user.id).to.equal(teacher.id);
    });

    it('backs off the account instead of locking it: the wait is a short pause after the free budget', async () => {
      for (let i = 0; i < ACCOUNT_FREE; i += 1) {
        await expectCode(auth.login({ email: 'ada@alpha.test', password: 'wrong-password', ip: `10.0.0.${i}` }), 'INVALID_CREDENTIALS');
      }
      const err = await expectCode(auth.login({ email: 'ada@alpha.test', password: PASSWORD, ip: '10.0.0.99' }), 'RATE_LIMITED');
      // The first pause is one second (then 2 s, 4 s, ... up to LOGIN_BACKOFF_MAX_MS), not the old 15-minute lock.
      expect(err.details?.['retryAfterMs']).to.be.a('number').above(0).and.at.most(1_000);
    });

    it('lets the owner in from a known device while an attacker holds the account in back-off', async () => {
      // A back-off far longer than the test, so a slow machine cannot see it lapse before the last attempt.
      const auth = build({ LOGIN_BACKOFF_BASE_MS: String(10 * 60_000) });
      const known = await auth.login({ email: 'ada@alpha.test', password: PASSWORD, ip: '10.6.0.1' });
      expect(known.deviceToken).to.be.a('string');
      await codes(Array.from({ length: 40 }, (_, i) => auth.login({ email: 'ada@alpha.test', password: `guess-${i}`, ip: `10.7.${i}.1` })));
      await expectCode(auth.login({ email: 'ada@alpha.test', password: PASSWORD, ip: '10.6.0.1' }), 'RATE_LIMITED');

      const again = await auth.login({ email: 'ada@alpha.test', password: PASSWORD, ip: '10.6.0.1', deviceToken: known.deviceToken });
      expect(again.user.id).to.equal(teacher.id);
      // The owner's success does not reset the attacker's back-off.
      await expectCode(auth.login({ email: 'ada@alpha.test', password: 'wrong-password', ip: '10.7.0.1' }), 'RATE_LIMITED');
    });

    it('limits each known device on its own, and accepts a device token only for its email', async () => {
      const known = await auth.login({ email: 'ada@alpha.test', password: PASSWORD });
      const answers = await codes(
        Array.from({ length: 10 }, (_, i) =>
          auth.login({ email: 'ada@alpha.test', password: `guess-${i}`, deviceToken: known.deviceToken }),
        ),
      );
      expect(answers['RATE_LIMITED'] ?? 0).to.be.at.least(10 - PAIR_FREE);

      await createUser(store, org.id, 'student', { email: 'bob@alpha.test' });
      const forged = known.deviceToken.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
      for (const deviceToken of [known.deviceToken, forged, 'd1.nonsense']) {
        // Not a device of bob's: bob's own account limits apply, which one failure does not reach.
        await expectCode(auth.login({ email: 'bob@alpha.test', password: 'wrong-password', deviceToken }), 'INVALID_CREDENTIALS');
      }
    });

    it("spares only the limits of the account it logged in to: not another organisation's account of the email, nor a login that may mean both", async () => {
      const beta = await createOrg(store, 'beta');
      await createUser(store, beta.id, 'teacher', { email: 'ada@alpha.test', password: 'twin-password-1' });
      for (const organisation of ['alpha']) {
        const auth = build({ LOGIN_BACKOFF_BASE_MS: String(10 * 60_000) });
        let deviceToken: string | undefined;
        const answers: string[] = [];
        for (let i = 0; i < 8; i += 1) {
          // Each login of the twin hands out a fresh device.
          ({ deviceToken } = await auth.login({ email: 'ada@alpha.test', password: 'twin-password-1', organisation: 'beta', deviceToken }));
          const guess = auth.login({ email: 'ada@alpha.test', password: `guess-${i}`, ip: '10.8.0.1', deviceToken, organisation });
          answers.push(...Object.keys(await codes([guess])));
        }
        // The address and account pair's budget, as without any token.
        expect(answers, String(organisation)).to.deep.equal([
          ...Array<string>(PAIR_FREE).fill('INVALID_CREDENTIALS'),
          ...Array<string>(8 - PAIR_FREE).fill('RATE_LIMITED'),
        ]);
      }
    });

    it("a known device names its own account among the email's: the owner's, whatever copies exist; a copy's device never tries the owner's password", async () => {
      const beta = await createOrg(store, 'beta');
      await createUser(store, beta.id, 'teacher', { email: 'ada@alpha.test', password: 'copy-password' });
      const auth = build({ LOGIN_BACKOFF_BASE_MS: String(10 * 60_000) });
      const owner = await auth.login({ email: 'ada@alpha.test', password: PASSWORD, organisation: 'alpha' });
      const copy = await auth.login({ email: 'ada@alpha.test', password: 'copy-password', organisation: 'beta' });
      // With the copy's device, the owner's own password opens nothing: only the copy is tried.
      await expectCode(
        auth.login({ email: 'ada@alpha.test', password: PASSWORD, deviceToken: copy.deviceToken, ip: '10.8.1.1' }),
        'INVALID_CREDENTIALS',
      );
      // The copy's maker backs the email off; the owner's device still logs in, without an organisation.
      await codes(Array.from({ length: 10 }, (_, i) => auth.login({ email: 'ada@alpha.test', password: `guess-${i}`, ip: `10.8.2.${i}` })));
      await expectCode(auth.login({ email: 'ada@alpha.test', password: PASSWORD, ip: '10.8.3.1' }), 'RATE_LIMITED');
      const again = await auth.login({ email: 'ada@alpha.test', password: PASSWORD, ip: '10.8.3.1', deviceToken: owner.deviceToken });
      expect(again.user.id).to.equal(teacher.id);
    });

    it("counts every login that may mean several accounts, opened or not: a copy's maker cannot guess the owner's password through it for free", async () => {
      // The maker sets the copy's password to a guess; ORGANISATION_REQUIRED would say the owner's is the same.
      const beta = await createOrg(store, 'beta');
      await createUser(store, beta.id, 'admin', { email: 'ada@alpha.test', password: 'guess-password' });
      const answers: string[] = [];
      for (let i = 0; i < ACCOUNT_FREE + 2; i += 1) {
        answers.push(...Object.keys(await codes([auth.login({ email: 'ada@alpha.test', password: 'guess-password', ip: `10.9.7.${i}` })])));
      }
      expect(answers).to.deep.equal([...Array<string>(ACCOUNT_FREE).fill('ok'), 'RATE_LIMITED', 'RATE_LIMITED']);
    });

    it('does not accept an expired device token', async () => {
      const known = await auth.login({ email: 'ada@alpha.test', password: PASSWORD });
      const later = build({ LOGIN_BACKOFF_BASE_MS: String(10 * 60_000) }, () => new Date(Date.now() + 91 * 24 * 3_600_000));
      await codes(Array.from({ length: 10 }, (_, i) => later.login({ email: 'ada@alpha.test', password: `guess-${i}` })));
      await expectCode(later.login({ email: 'ada@alpha.test', password: PASSWORD, deviceToken: known.deviceToken }), 'RATE_LIMITED');
    });

    it('never locks an address: failures of many accounts from one NAT address do not stop a correct login there', async () => {
      for (let i = 0; i < 25; i += 1) {
        await expectCode(auth.login({ email: `pupil${i}@alpha.test`, password: 'wrong-password', ip: '10.1.1.1' }), 'INVALID_CREDENTIALS');
      }
      expect((await auth.login({ email: 'ada@alpha.test', password: PASSWORD, ip: '10.1.1.1' })).user.id).to.equal(teacher.id);
    });

    it('throttles an address over its per-minute budget for under a minute, and another address not at all', async () => {
      for (let i = 0; i < ADDRESS_PER_MINUTE; i += 1) {
        await expectCode(auth.login({ email: `pupil${i}@alpha.test`, password: 'wrong-password', ip: '10.1.1.1' }), 'INVALID_CREDENTIALS');
      }
      const err = await expectCode(auth.login({ email: 'ada@alpha.test', password: PASSWORD, ip: '10.1.1.1' }), 'RATE_LIMITED');
      expect(err.details?.['retryAfterMs']).to.be.a('number').above(0).and.at.most(60_000);
      expect((await auth.login({ email: 'ada@alpha.test', password: PASSWORD, ip: '10.1.1.2' })).user.id).to.equal(teacher.id);
    });

    it('refuses a login whose password was changed while it was being checked, and leaves it no login', async () => {
      const owner = await auth.login({ email: 'ada@alpha.test', password: PASSWORD });
      const ownerSid = tokens.verifyAccess(owner.accessToken).sid!;
      // The owner changes the password (their own login stays) after the attacker's login checked
      // the old one and before its token exists: the change's ending of logins could not see it.
      let change: (() => Promise<void>) | null = null;
      const real = store;
      store = {
        ...real,
        refreshTokens: {
          ...real.refreshTokens,
          async create(input) {
            const first = change;
            change = null;
            if (first) await first();
            return real.refreshTokens.create(input);
          },
        },
      };
      const racing = buildDomain();
      store = real;
      change = () =>
        racing.accounts.changePassword({ id: teacher.id, orgId: org.id, role: 'teacher', sid: ownerSid }, PASSWORD, 'after-the-breach-1');
      await expectCode(racing.auth.login({ email: 'ada@alpha.test', password: PASSWORD }), 'INVALID_CREDENTIALS');
      const logins = await store.refreshTokens.listActiveLogins(org.id, teacher.id, new Date());
      expect(logins.map((l) => l.familyId)).to.deep.equal([ownerSid]);
    });

    it('does not count successful logins against the address or the account', async () => {
      for (let i = 0; i < ADDRESS_PER_MINUTE + ACCOUNT_FREE + 2; i += 1) {
        await auth.login({ email: 'ada@alpha.test', password: PASSWORD, ip: '10.2.2.2' });
      }
      // A class behind one NAT address logging in at once: unfinished logins count until they succeed.
      const pupils = await Promise.all(
        Array.from({ length: ADDRESS_PER_MINUTE - 1 }, (_, i) => createUser(store, org.id, 'student', { email: `class${i}@alpha.test` })),
      );
      const burst = await codes(pupils.map((p) => auth.login({ email: p.email, password: PASSWORD, ip: '10.2.2.2' })));
      expect(burst).to.deep.equal({ ok: ADDRESS_PER_MINUTE - 1 });
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

    it('refuses the new token of a login ended while its token was being rotated, and leaves no login', async () => {
      const first = await auth.login({ email: 'ada@alpha.test', password: PASSWORD });
      const sid = tokens.verifyAccess(first.accessToken).sid!;
      // The login ends (another node's logout, a new password) right after the rotation.
      const real = store;
      store = {
        ...real,
        refreshTokens: {
          ...real.refreshTokens,
          async markRotated(id, at) {
            const won = await real.refreshTokens.markRotated(id, at);
            await real.refreshTokens.revokeFamily(sid, at);
            return won;
          },
        },
      };
      const racing = build();
      store = real;
      await expectCode(racing.refresh(first.refreshToken), 'REFRESH_TOKEN_INVALID');
      expect(await store.refreshTokens.listActiveLogins(org.id, teacher.id, new Date())).to.deep.equal([]);
    });

    it('rejects unknown and expired tokens', async () => {
      await expectCode(auth.refresh('not-a-token'), 'REFRESH_TOKEN_INVALID');
      const pair = await auth.login({ email: 'ada@alpha.test', password: PASSWORD });
      const later = build({}, () => new Date(Date.now() + 2 * 3_600_000));
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
      expect(await store.refreshTokens.familyRevoked(tokens.verifyAccess(other.accessToken).sid!), 'another login lives on').to.equal(
        false,
      );
    });

    it('deactivating a user revokes every refresh token they hold', async () => {
      const admin = await createUser(store, org.id, 'admin');
      const users = new UserService({
        store,
        passwords: cheapPasswordHasher(),
        clock: () => new Date(),
        events: { publish: (e) => published.push(e) },
      });
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

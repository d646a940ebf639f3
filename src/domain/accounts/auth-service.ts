import { createHash, randomBytes } from 'node:crypto';
import type { PasswordHasher } from '../../auth/passwords.js';
import type { TokenService } from '../../auth/tokens.js';
import { newId } from '../../store/ids.js';
import type { RefreshToken, Store, User } from '../../store/types.js';
import { AppError } from '../app-error.js';
import type { EventPublisher } from '../events.js';
import type { RateLimiter } from '../rate-limiter.js';
import { normaliseEmail, toPublicUser, type PublicUser } from '../users/public-user.js';

export interface LoginInput {
  email: string;
  password: string;
  /** Organisation slug; needed only when the email exists in several organisations. */
  organisation?: string;
  ip?: string | null;
}

export interface TokenPair {
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
  refreshTokenExpiresAt: Date;
  user: PublicUser;
}

export interface AuthServiceDeps {
  store: Store;
  passwords: PasswordHasher;
  tokens: TokenService;
  /** Counts failed logins per account and per client address. */
  loginLimiter: RateLimiter;
  refreshTtlS: number;
  clock: () => Date;
  /** Announces ended logins, so their open sockets are cut on every node. */
  events: EventPublisher;
}

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * Login, refresh-token rotation with reuse detection, logout.
 *
 * Rate limit: failed logins are counted per account (email) and per client address; once
 * either budget of the window is spent every attempt is RATE_LIMITED, even with the right
 * password. A successful login clears the account's count. Successes do not count against
 * the address, so a classroom behind one NAT can still log in.
 */
export class AuthService {
  constructor(private readonly deps: AuthServiceDeps) {}

  async login(input: LoginInput): Promise<TokenPair> {
    const email = normaliseEmail(input.email);
    const keys = [`acct:${email}`, ...(input.ip ? [`ip:${input.ip}`] : [])];
    for (const key of keys) {
      const r = await this.deps.loginLimiter.check(key);
      if (!r.allowed) throw rateLimited(r.retryAfterMs);
    }

    const user = await this.findUser(email, input.organisation);
    const ok = await this.deps.passwords.verify(input.password, user?.passwordHash ?? null);
    if (!user || !ok) {
      for (const key of keys) await this.deps.loginLimiter.consume(key);
      throw new AppError('INVALID_CREDENTIALS');
    }
    // Only after the password matched, so this does not tell strangers the account exists.
    if (!user.active) throw new AppError('ACCOUNT_DISABLED');
    await this.deps.loginLimiter.reset(keys[0]!);
    return this.issue(user, newId());
  }

  /** Rotates the refresh token. A second use of a rotated token revokes its whole family. */
  async refresh(refreshToken: string): Promise<TokenPair> {
    const now = this.deps.clock();
    const stored = await this.deps.store.refreshTokens.findByHash(hashRefreshToken(refreshToken));
    if (!stored || stored.revokedAt !== null) throw new AppError('REFRESH_TOKEN_INVALID');
    if (stored.rotatedAt !== null) return this.reused(stored, now);
    if (stored.expiresAt.getTime() <= now.getTime()) throw new AppError('REFRESH_TOKEN_INVALID');
    // Two concurrent refreshes with one token: exactly one wins, the other counts as reuse.
    if (!(await this.deps.store.refreshTokens.markRotated(stored.id, now))) return this.reused(stored, now);

    const user = await this.deps.store.users.get(stored.orgId, stored.userId);
    if (!user || !user.active) {
      await this.deps.store.refreshTokens.revokeFamily(stored.familyId, now);
      throw new AppError(user ? 'ACCOUNT_DISABLED' : 'REFRESH_TOKEN_INVALID');
    }
    return this.issue(user, stored.familyId);
  }

  /**
   * Ends the login the refresh token belongs to: its refresh tokens, its access tokens (they
   * carry the login as `sid`) and its open sockets. Unknown or already revoked tokens are
   * accepted silently, so the answer tells nothing about a token.
   */
  async logout(refreshToken: string): Promise<void> {
    const stored = await this.deps.store.refreshTokens.findByHash(hashRefreshToken(refreshToken));
    if (stored) await this.endLogin(stored, this.deps.clock());
  }

  private async findUser(email: string, slug: string | undefined): Promise<User | null> {
    if (slug !== undefined && slug !== '') {
      const org = await this.deps.store.organisations.getBySlug(slug.trim().toLowerCase());
      return org ? this.deps.store.users.getByEmail(org.id, email) : null;
    }
    const users = await this.deps.store.users.findByEmailAnyOrg(email);
    if (users.length > 1) throw new AppError('ORGANISATION_REQUIRED');
    return users[0] ?? null;
  }

  private async issue(user: User, familyId: string): Promise<TokenPair> {
    const now = this.deps.clock();
    const access = this.deps.tokens.signAccess({ id: user.id, orgId: user.orgId, role: user.role }, familyId);
    const refreshToken = randomBytes(32).toString('base64url');
    const refreshTokenExpiresAt = new Date(now.getTime() + this.deps.refreshTtlS * 1000);
    await this.deps.store.refreshTokens.create({
      orgId: user.orgId,
      userId: user.id,
      familyId,
      tokenHash: hashRefreshToken(refreshToken),
      expiresAt: refreshTokenExpiresAt,
    });
    return {
      accessToken: access.token,
      accessTokenExpiresAt: access.expiresAt,
      refreshToken,
      refreshTokenExpiresAt,
      user: toPublicUser(user),
    };
  }

  private async reused(stored: RefreshToken, now: Date): Promise<never> {
    await this.endLogin(stored, now);
    throw new AppError('REFRESH_TOKEN_REUSED');
  }

  private async endLogin(token: RefreshToken, now: Date): Promise<void> {
    await this.deps.store.refreshTokens.revokeFamily(token.familyId, now);
    this.deps.events.publish({ type: 'login.revoked', orgId: token.orgId, sid: token.familyId });
  }
}

function rateLimited(retryAfterMs: number): AppError {
  return new AppError('RATE_LIMITED', 'Too many login attempts; retry later.', { retryAfterMs });
}

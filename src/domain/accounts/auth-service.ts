import { createHash, randomBytes } from 'node:crypto';
import type { PasswordHasher } from './passwords.js';
import type { TokenSigner } from './access-tokens.js';
import { newId } from '../../shared/ids.js';
import type { RefreshToken } from '../ports/accounts.js';
import type { Store } from '../ports/store.js';
import type { User } from '../ports/users.js';
import { AppError } from '../../shared/app-error.js';
import type { EventPublisher } from '../events.js';
import type { DeviceTokens } from './device-tokens.js';
import type { LoginThrottle } from './login-throttle.js';
import { normaliseEmail, toPublicUser, type PublicUser } from '../users/public-user.js';

export interface LoginInput {
  email: string;
  password: string;
  /** Organisation slug; needed only when the password opens accounts of the email in several organisations. */
  organisation?: string | undefined;
  ip?: string | null | undefined;
  /** The client's User-Agent, shown in the user's list of logins. */
  userAgent?: string | null | undefined;
  /** The `deviceToken` of an earlier successful login on this device, if the client kept it. */
  deviceToken?: string | undefined;
}

export interface TokenPair {
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
  refreshTokenExpiresAt: Date;
  user: PublicUser;
}

export interface LoginResult extends TokenPair {
  /** Proof that this device logged in to the account; send it with the next login. */
  deviceToken: string;
}

/** Who is asking, as the transport saw it: kept on the login's tokens for the owner's list of logins. */
export interface ClientInfo {
  ip?: string | null | undefined;
  userAgent?: string | null | undefined;
}

export interface AuthServiceDeps {
  store: Store;
  passwords: PasswordHasher;
  tokens: TokenSigner;
  loginThrottle: LoginThrottle;
  deviceTokens: DeviceTokens;
  refreshTtlS: number;
  clock: () => Date;
  /** Announces ended logins, so their open sockets are cut on every node. */
  events: EventPublisher;
}

/**
 * Password comparisons per login attempt without an organisation named, at the least, once the
 * deployment holds several organisations: two, so one account and the same email in a second
 * organisation cost what an unknown email costs (docs/security.md, "Same email in several
 * organisations"). A third account of the email costs a third comparison. With one organisation
 * (a school's own deployment) an email names at most one account and one comparison hides as
 * much, at half a login's CPU.
 */
export const LOGIN_COMPARISONS = 2;

/** A User-Agent is kept only this long: enough to tell devices apart, bounded in the store. */
const USER_AGENT_MAX = 300;

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * Login, refresh-token rotation with reuse detection, logout.
 *
 * Login is throttled before the password is checked (LoginThrottle: per address, per account
 * and per address-and-account, or per known device). Every answer other than
 * INVALID_CREDENTIALS and RATE_LIMITED needs the right password, so an attacker without it
 * learns nothing about the account: not that it exists, is deactivated (or its organisation
 * is), or has the same email in several organisations.
 */
export class AuthService {
  constructor(private readonly deps: AuthServiceDeps) {}

  async login(input: LoginInput): Promise<LoginResult> {
    const email = normaliseEmail(input.email);
    const ip = input.ip ?? null;
    const device = this.deps.deviceTokens.verify(input.deviceToken, email);
    let attempt = await this.deps.loginThrottle.admit({ email, ip, device: device?.id ?? null });

    const named = input.organisation !== undefined && input.organisation !== '';
    let candidates = await this.candidates(email, named ? input.organisation : undefined);
    // A known device names its own account among the email's: its owner logs in under the
    // device's limits, whatever copies of the email other organisations made (their guesses back
    // off the email, not this device). A device of another account (a copy's, whose password its
    // maker chose) spares nothing: every guess at this account would count against a fresh device.
    const own = device === null ? undefined : candidates.find((u) => u.id === device.userId);
    if (own) candidates = [own];
    else if (device !== null) {
      await attempt.unchecked();
      attempt = await this.deps.loginThrottle.admit({ email, ip, device: null });
    }
    const floor = named || own || (await this.deps.store.organisations.count()) < 2 ? 1 : LOGIN_COMPARISONS;
    const matching = await this.matching(candidates, input.password, floor).catch(async (err: unknown) => {
      if (err instanceof AppError && (err.code === 'BUSY' || err.code === 'UNAVAILABLE')) await attempt.unchecked();
      throw err;
    });
    if (matching.length === 0) throw new AppError('INVALID_CREDENTIALS');
    // A login that may mean several accounts stays counted even when it opens one: its maker sets
    // a copy's password to a guess and learns from the answer (ORGANISATION_REQUIRED or the copy)
    // whether the owner's is the same, so each such login is a guess at the owner's, and a
    // success that reset the email's back-off would make the guessing free.
    // An account without a password (invited, not yet set) opens to no guess: it asks no question.
    if (candidates.filter((u) => u.passwordHash !== null).length === 1) await attempt.succeeded();

    // The password picks the account: another organisation's account with this email (anyone's
    // admin can make one) changes nothing for its owner unless it has the same password too.
    if (matching.length > 1) throw new AppError('ORGANISATION_REQUIRED');
    const user = matching[0]!;
    if (!user.active) throw new AppError('ACCOUNT_DISABLED');
    if (!(await this.organisationActive(user.orgId))) throw new AppError('ORGANISATION_DISABLED');
    const familyId = newId();
    const pair = await this.issue(user, familyId, input);
    // A new password (the owner's, an admin's, a reset link's) or a deactivation landing between
    // the check above and this login's token ended the logins it found, not this one: a login
    // made in a loop with a known password would outlive the change meant to end it.
    const current = await this.deps.store.users.get(user.orgId, user.id);
    if (!current?.active || current.passwordHash !== user.passwordHash) {
      await this.deps.store.refreshTokens.revokeFamily(familyId, this.deps.clock());
      throw new AppError(current && !current.active ? 'ACCOUNT_DISABLED' : 'INVALID_CREDENTIALS');
    }
    return { ...pair, deviceToken: this.deps.deviceTokens.issue(email, user.id) };
  }

  /** Rotates the refresh token. A second use of a rotated token revokes its whole family. */
  async refresh(refreshToken: string, client: ClientInfo = {}): Promise<TokenPair> {
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
    if (!(await this.organisationActive(user.orgId))) {
      await this.deps.store.refreshTokens.revokeFamily(stored.familyId, now);
      throw new AppError('ORGANISATION_DISABLED');
    }
    const pair = await this.issue(user, stored.familyId, client);
    // The login may have ended (a logout elsewhere, a new password, an admin) after the rotation
    // above and before the new token existed, so the revocation did not cover it.
    if (await this.deps.store.refreshTokens.familyRevoked(stored.familyId)) {
      await this.deps.store.refreshTokens.revokeFamily(stored.familyId, now);
      throw new AppError('REFRESH_TOKEN_INVALID');
    }
    return pair;
  }

  private async organisationActive(orgId: string): Promise<boolean> {
    return (await this.deps.store.organisations.get(orgId))?.active === true;
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

  /** The accounts the login could mean: the one in the named organisation, or every one with the email. */
  private async candidates(email: string, slug: string | undefined): Promise<User[]> {
    if (slug === undefined) return this.deps.store.users.findByEmailAnyOrg(email);
    const org = await this.deps.store.organisations.getBySlug(slug.trim().toLowerCase());
    const user = org ? await this.deps.store.users.getByEmail(org.id, email) : null;
    return user ? [user] : [];
  }

  /**
   * The candidates whose password this is. Every attempt makes at least `floor` comparisons,
   * dummy hashes making up the count: an unknown email, one account, and one account beside a
   * copy of its email in another organisation all take the same work, so whoever made the copy
   * cannot tell by the time whether the owner's account exists.
   */
  private async matching(candidates: User[], password: string, floor: number): Promise<User[]> {
    const hashes = candidates.map((u) => u.passwordHash);
    while (hashes.length < floor) hashes.push(null);
    const ok = await this.deps.passwords.verifyAll(password, hashes);
    return candidates.filter((_, i) => ok[i]);
  }

  private async issue(user: User, familyId: string, client: ClientInfo): Promise<TokenPair> {
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
      userAgent: client.userAgent ? client.userAgent.slice(0, USER_AGENT_MAX) : null,
      ip: client.ip ?? null,
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

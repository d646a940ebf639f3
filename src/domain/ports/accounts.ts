/**
 * Refresh tokens (logins) and one-time set-password links.
 * The conventions of every port are in ./store.ts.
 */

import type { OrgCount } from './common.js';

export interface RefreshToken {
  id: string;
  orgId: string;
  userId: string;
  /** All tokens rotated from one login share a family; reuse revokes the whole family. */
  familyId: string;
  /** SHA-256 of the opaque token; the token itself is never stored. */
  tokenHash: string;
  expiresAt: Date;
  createdAt: Date;
  rotatedAt: Date | null;
  revokedAt: Date | null;
  /** The client's User-Agent and address when this token was issued (login or refresh). */
  userAgent: string | null;
  ip: string | null;
}

/** One login (refresh-token family) that can still be refreshed, as its owner sees it. */
export interface ActiveLogin {
  familyId: string;
  /** When the login happened (its first token). */
  startedAt: Date;
  /** When it was last refreshed (its current token was issued). */
  lastUsedAt: Date;
  userAgent: string | null;
  ip: string | null;
  expiresAt: Date;
}

export const ACCOUNT_TOKEN_PURPOSES = ['invite', 'reset'] as const;
export type AccountTokenPurpose = (typeof ACCOUNT_TOKEN_PURPOSES)[number];

/** A one-time set-password link (invitation or reset). Only the token's SHA-256 is stored. */
export interface AccountToken {
  id: string;
  orgId: string;
  userId: string;
  purpose: AccountTokenPurpose;
  tokenHash: string;
  expiresAt: Date;
  createdAt: Date;
  usedAt: Date | null;
}

export type NewRefreshToken = Omit<RefreshToken, 'id' | 'createdAt' | 'rotatedAt' | 'revokedAt' | 'userAgent' | 'ip'> &
  Partial<Pick<RefreshToken, 'userAgent' | 'ip'>>;

export interface RefreshTokenRepository {
  create(input: NewRefreshToken): Promise<RefreshToken>;
  /** System-wide lookup by the token's hash. */
  findByHash(tokenHash: string): Promise<RefreshToken | null>;
  /** Marks the token rotated only if it is neither rotated nor revoked; true when it did. */
  markRotated(id: string, at: Date): Promise<boolean>;
  revokeFamily(familyId: string, at: Date): Promise<number>;
  /** Whether the login (token family) was revoked: its access tokens stop working too. */
  familyRevoked(familyId: string): Promise<boolean>;
  /** Of these logins (token families), those revoked: familyRevoked for many at once (open sockets, src/realtime/current-actor.ts). */
  revokedFamilies(familyIds: readonly string[]): Promise<string[]>;
  revokeAllForUser(orgId: string, userId: string, at: Date): Promise<number>;
  /**
   * The user's logins that can still be refreshed at `now` (a current token neither rotated,
   * revoked nor expired), most recently used first.
   */
  listActiveLogins(orgId: string, userId: string, now: Date): Promise<ActiveLogin[]>;
  /** Deletes tokens expired before `before`; returns how many. */
  deleteExpired(before: Date): Promise<number>;
  /** System-wide: deletes tokens expired before `before`; how many of each organisation. */
  purgeExpired(before: Date): Promise<OrgCount[]>;
}

export interface AccountTokenRepository {
  /** Throws StoreConflictError('tokenHash') on a duplicate hash. */
  create(input: Omit<AccountToken, 'id' | 'createdAt' | 'usedAt'> & { createdAt: Date }): Promise<AccountToken>;
  /**
   * System-wide: marks the token with this hash used, only if it is unused and not expired at
   * `now`, and returns it; null otherwise. Of concurrent calls exactly one gets it.
   */
  consume(tokenHash: string, now: Date): Promise<AccountToken | null>;
  /** Marks every unused token of the user used (a newer link or a new password voids them); returns how many. */
  voidForUser(orgId: string, userId: string, at: Date): Promise<number>;
  /** Deletes tokens expired before `before`; returns how many. */
  deleteExpired(before: Date): Promise<number>;
  /** System-wide: deletes links already used, or expired at `now`; how many of each organisation. */
  purgeSpent(now: Date): Promise<OrgCount[]>;
}

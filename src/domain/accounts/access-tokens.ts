import type { Role } from '../../shared/events.js';

/** Claims of an access token. `sub` is the user id, `org` the organisation id. */
export interface AccessClaims {
  sub: string;
  org: string;
  role: Role;
  iat: number;
  exp: number;
  jti: string;
  /** The login (refresh-token family) the token was issued under; logging out revokes it. */
  sid?: string | undefined;
}

/** Signs and verifies the short-lived access tokens (JWT: src/adapters/jwt-token-signer.ts). */
export interface TokenSigner {
  /** `sid` names the login the token belongs to; tokens without one (tools, tests) cannot be revoked early. */
  signAccess(user: { id: string; orgId: string; role: Role }, sid?: string): { token: string; expiresAt: Date };
  /** Throws AppError TOKEN_EXPIRED or TOKEN_INVALID. */
  verifyAccess(token: string): AccessClaims;
}

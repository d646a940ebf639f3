import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { TokenSigner } from '../domain/accounts/access-tokens.js';
import type { Actor } from '../domain/actor.js';
import { AppError } from '../shared/app-error.js';
import type { Store } from '../domain/ports/store.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      /** Set by `authenticate` from a verified token and the stored user. */
      actor?: Actor;
      /** Set by `authenticate`: the user must change their password before anything else. */
      passwordChangeRequired?: boolean;
    }
  }
}

const BEARER = /^Bearer ([A-Za-z0-9._~+/=-]+)$/;

/**
 * Verifies the bearer token, then checks the user and their organisation still exist and are
 * active and the login was not ended (logout revokes its access tokens at once, on every node: the store says so).
 * The actor's role comes from the store, so a role change takes effect before the token expires.
 */
export function createAuthenticate(deps: { tokens: TokenSigner; store: Store }): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const header = req.headers.authorization;
    if (!header) return next(new AppError('UNAUTHENTICATED'));
    const match = BEARER.exec(header);
    if (!match) return next(new AppError('TOKEN_INVALID'));
    const claims = deps.tokens.verifyAccess(match[1]!);
    const [user, org, revoked] = await Promise.all([
      deps.store.users.get(claims.org, claims.sub),
      deps.store.organisations.get(claims.org),
      claims.sid ? deps.store.refreshTokens.familyRevoked(claims.sid) : false,
    ]);
    if (!user || !org) return next(new AppError('TOKEN_INVALID'));
    // Deactivation also revokes every login; saying why is more use to the client.
    if (!user.active) return next(new AppError('ACCOUNT_DISABLED'));
    if (!org.active) return next(new AppError('ORGANISATION_DISABLED'));
    if (revoked) return next(new AppError('TOKEN_REVOKED'));
    res.locals.actor = { id: user.id, orgId: user.orgId, role: user.role, ip: req.ip ?? null, sid: claims.sid ?? null };
    res.locals.passwordChangeRequired = user.mustChangePassword;
    next();
  };
}

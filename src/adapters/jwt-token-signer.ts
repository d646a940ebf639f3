import { createPrivateKey, createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import type { Config } from '../config.js';
import { AppError } from '../shared/app-error.js';
import { newId } from '../shared/ids.js';
import { ROLES, type Role } from '../shared/events.js';
import type { AccessClaims, TokenSigner } from '../domain/accounts/access-tokens.js';

/** Audience of access tokens: only this API accepts them. */
export const ACCESS_AUDIENCE = 'classroom-attendance-api';
const CLOCK_TOLERANCE_S = 5;

const ClaimsSchema = z.object({
  sub: z.string().min(1),
  org: z.string().min(1),
  role: z.enum(ROLES),
  iat: z.number().int(),
  exp: z.number().int(),
  jti: z.string().min(1),
  sid: z.string().min(1).optional(),
});

type JwtSettings = Pick<Config['jwt'], 'algorithm' | 'secret' | 'privateKey' | 'publicKey' | 'issuer' | 'accessTtlS'>;

/**
 * Signs and verifies access tokens. The algorithm is pinned: a verifier configured for
 * HS256 accepts nothing else (no `none`, no RS256), and vice versa, which closes the
 * HS/RS key-confusion hole.
 */
export class JwtTokenSigner implements TokenSigner {
  private readonly alg: 'HS256' | 'RS256';
  // Parsed once: given a string, jsonwebtoken re-parses the key on every call, which dominates
  // the cost of a reconnect storm.
  private readonly signKey: KeyObject;
  private readonly verifyKey: KeyObject;
  private readonly issuer: string;
  private readonly ttlS: number;
  private readonly clock: () => Date;

  constructor(settings: JwtSettings, clock: () => Date = () => new Date()) {
    this.alg = settings.algorithm;
    if (this.alg === 'HS256') {
      if (!settings.secret) throw new Error('HS256 requires a secret');
      this.signKey = createSecretKey(Buffer.from(settings.secret, 'utf8'));
      this.verifyKey = this.signKey;
    } else {
      if (!settings.privateKey || !settings.publicKey) throw new Error('RS256 requires a private and a public key');
      this.signKey = createPrivateKey(settings.privateKey);
      this.verifyKey = createPublicKey(settings.publicKey);
    }
    this.issuer = settings.issuer;
    this.ttlS = settings.accessTtlS;
    this.clock = clock;
  }

  signAccess(user: { id: string; orgId: string; role: Role }, sid?: string): { token: string; expiresAt: Date } {
    const iat = Math.floor(this.clock().getTime() / 1000);
    const exp = iat + this.ttlS;
    const token = jwt.sign({ org: user.orgId, role: user.role, iat, exp, ...(sid ? { sid } : {}) }, this.signKey, {
      algorithm: this.alg,
      subject: user.id,
      issuer: this.issuer,
      audience: ACCESS_AUDIENCE,
      jwtid: newId(),
    });
    return { token, expiresAt: new Date(exp * 1000) };
  }

  verifyAccess(token: string): AccessClaims {
    let decoded: unknown;
    try {
      decoded = jwt.verify(token, this.verifyKey, {
        algorithms: [this.alg],
        issuer: this.issuer,
        audience: ACCESS_AUDIENCE,
        clockTolerance: CLOCK_TOLERANCE_S,
        clockTimestamp: Math.floor(this.clock().getTime() / 1000),
      });
    } catch (err) {
      if (err instanceof jwt.TokenExpiredError) throw new AppError('TOKEN_EXPIRED');
      if (err instanceof jwt.JsonWebTokenError) throw new AppError('TOKEN_INVALID');
      throw err;
    }
    const claims = ClaimsSchema.safeParse(decoded);
    if (!claims.success) throw new AppError('TOKEN_INVALID');
    return claims.data;
  }
}

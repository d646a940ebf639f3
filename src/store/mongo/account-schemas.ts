import { Schema } from 'mongoose';
import { ACCOUNT_TOKEN_PURPOSES, type AccountToken, type RefreshToken } from '../../domain/ports/accounts.js';
import { base, type Doc, id, nullableDate, nullableString, requiredString } from './common-schemas.js';

// Refresh tokens (logins) and one-time set-password links; the conventions of common-schemas.ts.

export type RefreshTokenDoc = Doc<RefreshToken>;

/**
 * Expired tokens stay a week before MongoDB's TTL monitor removes them, so that reuse of a
 * recently expired token is still recognised; deleteExpired() removes them sooner on demand.
 */
export const REFRESH_TOKEN_TTL_GRACE_S = 7 * 86_400;

export const refreshTokenSchema = new Schema<RefreshTokenDoc>(
  {
    _id: id,
    orgId: requiredString,
    userId: requiredString,
    familyId: requiredString,
    tokenHash: requiredString,
    expiresAt: { type: Date, required: true },
    createdAt: { type: Date, required: true },
    rotatedAt: nullableDate,
    revokedAt: nullableDate,
    userAgent: nullableString,
    ip: nullableString,
  },
  { ...base, collection: 'refreshTokens' },
);
refreshTokenSchema.index({ tokenHash: 1 }, { unique: true, name: 'tokenHash' });
refreshTokenSchema.index({ familyId: 1 }, { name: 'family' });
refreshTokenSchema.index({ orgId: 1, userId: 1 }, { name: 'org_user' });
refreshTokenSchema.index({ expiresAt: 1 }, { name: 'expires_ttl', expireAfterSeconds: REFRESH_TOKEN_TTL_GRACE_S });

export type AccountTokenDoc = Doc<AccountToken>;

/** Set-password links are worthless once expired: MongoDB removes them a day later. */
export const accountTokenSchema = new Schema<AccountTokenDoc>(
  {
    _id: id,
    orgId: requiredString,
    userId: requiredString,
    purpose: { type: String, required: true, enum: ACCOUNT_TOKEN_PURPOSES },
    tokenHash: requiredString,
    expiresAt: { type: Date, required: true },
    createdAt: { type: Date, required: true },
    usedAt: nullableDate,
  },
  { ...base, collection: 'accountTokens' },
);
accountTokenSchema.index({ tokenHash: 1 }, { unique: true, name: 'tokenHash' });
accountTokenSchema.index({ orgId: 1, userId: 1 }, { name: 'org_user' });
accountTokenSchema.index({ expiresAt: 1 }, { name: 'expires_ttl', expireAfterSeconds: 86_400 });

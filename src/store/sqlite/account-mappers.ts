import { ACCOUNT_TOKEN_PURPOSES, type AccountToken, type RefreshToken } from '../../domain/ports/accounts.js';
import { date, dateOrNull, ms, msOrNull, oneOf, str, strOrNull, type TableSpec } from './common-mappers.js';

// Rows of refresh tokens and set-password links; TableSpec and the column readers are in common-mappers.ts.

const tokenPurpose = oneOf(ACCOUNT_TOKEN_PURPOSES, 'account_tokens.purpose');

export const refreshTokens: TableSpec<RefreshToken> = {
  table: 'refresh_tokens',
  columns: [
    'id',
    'org_id',
    'user_id',
    'family_id',
    'token_hash',
    'expires_at',
    'created_at',
    'rotated_at',
    'revoked_at',
    'user_agent',
    'ip',
  ],
  key: ['id'],
  toRow: (t) => ({
    id: t.id,
    org_id: t.orgId,
    user_id: t.userId,
    family_id: t.familyId,
    token_hash: t.tokenHash,
    expires_at: ms(t.expiresAt),
    created_at: ms(t.createdAt),
    rotated_at: msOrNull(t.rotatedAt),
    revoked_at: msOrNull(t.revokedAt),
    user_agent: t.userAgent,
    ip: t.ip,
  }),
  fromRow: (r) => ({
    id: str(r.id),
    orgId: str(r.org_id),
    userId: str(r.user_id),
    familyId: str(r.family_id),
    tokenHash: str(r.token_hash),
    expiresAt: date(r.expires_at),
    createdAt: date(r.created_at),
    rotatedAt: dateOrNull(r.rotated_at),
    revokedAt: dateOrNull(r.revoked_at),
    userAgent: strOrNull(r.user_agent),
    ip: strOrNull(r.ip),
  }),
};

export const accountTokens: TableSpec<AccountToken> = {
  table: 'account_tokens',
  columns: ['id', 'org_id', 'user_id', 'purpose', 'token_hash', 'expires_at', 'created_at', 'used_at'],
  key: ['id'],
  toRow: (t) => ({
    id: t.id,
    org_id: t.orgId,
    user_id: t.userId,
    purpose: t.purpose,
    token_hash: t.tokenHash,
    expires_at: ms(t.expiresAt),
    created_at: ms(t.createdAt),
    used_at: msOrNull(t.usedAt),
  }),
  fromRow: (r) => ({
    id: str(r.id),
    orgId: str(r.org_id),
    userId: str(r.user_id),
    purpose: tokenPurpose(r.purpose),
    tokenHash: str(r.token_hash),
    expiresAt: date(r.expires_at),
    createdAt: date(r.created_at),
    usedAt: dateOrNull(r.used_at),
  }),
};

import { newId } from '../../shared/ids.js';
import { newRefreshTokenEntity } from '../new-entities.js';
import type { AccountToken, AccountTokenRepository, RefreshTokenRepository } from '../../domain/ports/accounts.js';
import type { OrgCount } from '../../domain/ports/common.js';
import type { FaceEnrolment, FaceProposalRepository, FaceRepository } from '../../domain/ports/faces.js';
import { mapConflicts, type SqliteDb } from './db.js';
import { accountTokens, refreshTokens } from './account-mappers.js';
import { faceProposals, faces } from './face-mappers.js';
import { insertSql } from './common-mappers.js';
import { totalFromPage } from '../../domain/paging.js';

// Refresh tokens, set-password links, face enrolments and face proposals.

export function countByOrg(rows: Array<{ org_id: string }>): OrgCount[] {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.org_id, (counts.get(r.org_id) ?? 0) + 1);
  return [...counts].map(([orgId, count]) => ({ orgId, count }));
}

export function refreshTokenRepository(db: SqliteDb, clock: () => Date): RefreshTokenRepository {
  const insert = insertSql(refreshTokens, false);
  return {
    async create(input) {
      const t = newRefreshTokenEntity(input, clock());
      mapConflicts(() => db.stmt(insert).run(refreshTokens.toRow(t)));
      return t;
    },
    async findByHash(tokenHash) {
      const r = db.stmt('SELECT * FROM refresh_tokens WHERE token_hash = ?').get(tokenHash);
      return r ? refreshTokens.fromRow(r) : null;
    },
    async markRotated(id, at) {
      return (
        db.stmt('UPDATE refresh_tokens SET rotated_at = ? WHERE id = ? AND rotated_at IS NULL AND revoked_at IS NULL').run(at.getTime(), id)
          .changes === 1
      );
    },
    async revokeFamily(familyId, at) {
      return db.stmt('UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL').run(at.getTime(), familyId)
        .changes;
    },
    async familyRevoked(familyId) {
      return db.stmt('SELECT 1 FROM refresh_tokens WHERE family_id = ? AND revoked_at IS NOT NULL LIMIT 1').get(familyId) !== undefined;
    },
    async revokedFamilies(familyIds) {
      if (familyIds.length === 0) return [];
      return db
        .stmt<{ family_id: string }>(
          'SELECT DISTINCT family_id FROM refresh_tokens WHERE family_id IN (SELECT value FROM json_each(?)) AND revoked_at IS NOT NULL',
        )
        .all(JSON.stringify(familyIds))
        .map((r) => r.family_id);
    },
    async revokeAllForUser(orgId, userId, at) {
      return db
        .stmt('UPDATE refresh_tokens SET revoked_at = ? WHERE org_id = ? AND user_id = ? AND revoked_at IS NULL')
        .run(at.getTime(), orgId, userId).changes;
    },
    async listActiveLogins(orgId, userId, now) {
      const rows = db
        .stmt<{
          family_id: string;
          started_at: number;
          created_at: number;
          user_agent: string | null;
          ip: string | null;
          expires_at: number;
        }>(
          `SELECT h.family_id, h.created_at, h.user_agent, h.ip, h.expires_at,
             (SELECT MIN(f.created_at) FROM refresh_tokens f WHERE f.family_id = h.family_id) AS started_at
           FROM refresh_tokens h
           WHERE h.org_id = ? AND h.user_id = ? AND h.rotated_at IS NULL AND h.revoked_at IS NULL AND h.expires_at > ?
           ORDER BY h.created_at DESC, h.id`,
        )
        .all(orgId, userId, now.getTime());
      return rows.map((r) => ({
        familyId: r.family_id,
        startedAt: new Date(r.started_at),
        lastUsedAt: new Date(r.created_at),
        userAgent: r.user_agent,
        ip: r.ip,
        expiresAt: new Date(r.expires_at),
      }));
    },
    async deleteExpired(before) {
      return db.stmt('DELETE FROM refresh_tokens WHERE expires_at < ?').run(before.getTime()).changes;
    },
    async purgeExpired(before) {
      return countByOrg(
        db.stmt<{ org_id: string }>('DELETE FROM refresh_tokens WHERE expires_at < ? RETURNING org_id').all(before.getTime()),
      );
    },
  };
}

export function accountTokenRepository(db: SqliteDb): AccountTokenRepository {
  const insert = insertSql(accountTokens, false);
  return {
    async create(input) {
      const t: AccountToken = { id: newId(), ...input, usedAt: null };
      mapConflicts(() => db.stmt(insert).run(accountTokens.toRow(t)));
      return t;
    },
    async consume(tokenHash, now) {
      // One statement: of two concurrent uses, only one sees used_at still NULL.
      const r = db
        .stmt('UPDATE account_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ? RETURNING *')
        .get(now.getTime(), tokenHash, now.getTime());
      return r ? accountTokens.fromRow(r) : null;
    },
    async voidForUser(orgId, userId, at) {
      return db
        .stmt('UPDATE account_tokens SET used_at = ? WHERE org_id = ? AND user_id = ? AND used_at IS NULL')
        .run(at.getTime(), orgId, userId).changes;
    },
    async deleteExpired(before) {
      return db.stmt('DELETE FROM account_tokens WHERE expires_at < ?').run(before.getTime()).changes;
    },
    async purgeSpent(now) {
      return countByOrg(
        db
          .stmt<{ org_id: string }>('DELETE FROM account_tokens WHERE used_at IS NOT NULL OR expires_at <= ? RETURNING org_id')
          .all(now.getTime()),
      );
    },
  };
}

export function faceRepository(db: SqliteDb, clock: () => Date): FaceRepository {
  const upsert = insertSql(faces, true);
  const insertIfAbsent = `${insertSql(faces, false)} ON CONFLICT (org_id, user_id) DO NOTHING`;
  const stamped = (enrolment: Omit<FaceEnrolment, 'updatedAt'>): FaceEnrolment => ({
    ...enrolment,
    embeddings: enrolment.embeddings.map((e) => [...e]),
    photos: enrolment.photos && enrolment.photos.map((p) => Buffer.from(p)),
    updatedAt: clock(),
  });
  return {
    async put(enrolment) {
      const f = stamped(enrolment);
      mapConflicts(() => db.stmt(upsert).run(faces.toRow(f)));
      return f;
    },
    async create(enrolment) {
      const f = stamped(enrolment);
      return mapConflicts(() => db.stmt(insertIfAbsent).run(faces.toRow(f))).changes === 1 ? f : null;
    },
    async get(orgId, userId) {
      const r = db.stmt('SELECT * FROM faces WHERE org_id = ? AND user_id = ?').get(orgId, userId);
      return r ? faces.fromRow(r) : null;
    },
    async getMany(orgId, userIds) {
      if (userIds.length === 0) return [];
      return db
        .stmt('SELECT * FROM faces WHERE org_id = ? AND user_id IN (SELECT value FROM json_each(?)) ORDER BY user_id')
        .all(orgId, JSON.stringify(userIds))
        .map(faces.fromRow);
    },
    async delete(orgId, userId) {
      return db.stmt('DELETE FROM faces WHERE org_id = ? AND user_id = ?').run(orgId, userId).changes === 1;
    },
  };
}

export function faceProposalRepository(db: SqliteDb): FaceProposalRepository {
  const upsert = insertSql(faceProposals, true);
  return {
    async put(proposal) {
      const p = { ...proposal, embeddings: proposal.embeddings.map((e) => [...e]), photos: proposal.photos.map((b) => Buffer.from(b)) };
      db.stmt(upsert).run(faceProposals.toRow(p));
      return p;
    },
    async get(orgId, userId) {
      const r = db.stmt('SELECT * FROM face_proposals WHERE org_id = ? AND user_id = ?').get(orgId, userId);
      return r ? faceProposals.fromRow(r) : null;
    },
    async list(orgId, page) {
      const items = db
        .stmt('SELECT * FROM face_proposals WHERE org_id = ? ORDER BY created_at, user_id LIMIT ? OFFSET ?')
        .all(orgId, page.limit, page.offset)
        .map(faceProposals.fromRow);
      const total =
        totalFromPage(items.length, page) ??
        db.stmt<{ n: number }>('SELECT COUNT(*) AS n FROM face_proposals WHERE org_id = ?').get(orgId)!.n;
      return { items, total };
    },
    async take(orgId, userId) {
      // DELETE ... RETURNING is one statement: two concurrent deciders cannot both get the row.
      const r = db.stmt('DELETE FROM face_proposals WHERE org_id = ? AND user_id = ? RETURNING *').get(orgId, userId);
      return r ? faceProposals.fromRow(r) : null;
    },
  };
}

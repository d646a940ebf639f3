import type { Model, QueryFilter } from 'mongoose';
import { newId } from '../../shared/ids.js';
import { newRefreshTokenEntity } from '../new-entities.js';
import type { AccountToken, AccountTokenRepository, ActiveLogin, RefreshTokenRepository } from '../../domain/ports/accounts.js';
import type { OrgCount } from '../../domain/ports/common.js';
import type { FaceProposalRepository, FaceRepository } from '../../domain/ports/faces.js';
import { isDuplicateKeyError, mapConflicts } from './errors.js';
import {
  faceId,
  fromFace,
  fromVector,
  fromAccountToken,
  fromFaceProposal,
  fromRefreshToken,
  toAccountToken,
  toFace,
  toFaceProposal,
  toRefreshToken,
} from './mapping.js';
import type { Models } from './models.js';
import * as q from './queries.js';
import type { AccountTokenDoc, RefreshTokenDoc } from './account-schemas.js';
import type { FaceDoc, FaceProposalDoc } from './face-schemas.js';
import { upsertAfter, upsertWithRetry } from './upserts.js';
import { bumpStanding } from './standing-versions.js';
import { pagedList } from './paged-list.js';

// Refresh tokens and face enrolments.

/** Deletes what `filter` matches one organisation at a time, to count the deletions of each. */
export async function purgeByOrg<D extends { orgId: string }>(model: Model<D>, filter: QueryFilter<D>): Promise<OrgCount[]> {
  const orgIds = (await model.distinct('orgId', filter)) as string[];
  const counts: OrgCount[] = [];
  for (const orgId of orgIds) {
    const res = await model.deleteMany({ ...filter, orgId } as QueryFilter<D>);
    if (res.deletedCount > 0) counts.push({ orgId, count: res.deletedCount });
  }
  return counts;
}

export function refreshTokenRepository(m: Models, clock: () => Date): RefreshTokenRepository {
  return {
    async create(input) {
      const t = newRefreshTokenEntity(input, clock());
      await mapConflicts(() => m.refreshTokens.create(fromRefreshToken(t)), 'tokenHash');
      return t;
    },
    async findByHash(tokenHash) {
      const d = await m.refreshTokens.findOne(q.tokenHashFilter(tokenHash)).lean<RefreshTokenDoc>();
      return d ? toRefreshToken(d) : null;
    },
    async markRotated(id, at) {
      const res = await m.refreshTokens.updateOne(q.rotatableTokenFilter(id), { $set: { rotatedAt: at } });
      return res.modifiedCount === 1;
    },
    async revokeFamily(familyId, at) {
      const res = await m.refreshTokens.updateMany(q.familyUnrevokedFilter(familyId), { $set: { revokedAt: at } });
      if (res.modifiedCount > 0) {
        const token = await m.refreshTokens.findOne({ familyId }, { orgId: 1 }).lean<Pick<RefreshTokenDoc, 'orgId'>>();
        if (token) await bumpStanding(m, [token.orgId]);
      }
      return res.modifiedCount;
    },
    async familyRevoked(familyId) {
      return (await m.refreshTokens.exists(q.familyRevokedFilter(familyId))) !== null;
    },
    async revokedFamilies(familyIds) {
      if (familyIds.length === 0) return [];
      return m.refreshTokens.distinct('familyId', q.familiesRevokedFilter(familyIds));
    },
    async revokeAllForUser(orgId, userId, at) {
      const res = await m.refreshTokens.updateMany(q.userUnrevokedFilter(orgId, userId), { $set: { revokedAt: at } });
      if (res.modifiedCount > 0) await bumpStanding(m, [orgId]);
      return res.modifiedCount;
    },
    async listActiveLogins(orgId, userId, now) {
      const heads = await m.refreshTokens
        .find(q.activeLoginHeadsFilter(orgId, userId, now))
        .sort(q.ACTIVE_LOGIN_SORT)
        .lean<RefreshTokenDoc[]>();
      if (heads.length === 0) return [];
      // The oldest token of each family, by a sorted find: a $group with $min would do it on
      // the server, but not every wire-compatible server has that accumulator.
      const family = await m.refreshTokens
        .find(q.familiesFilter(heads.map((h) => h.familyId)))
        .sort(q.FAMILY_AGE_SORT)
        .lean<RefreshTokenDoc[]>();
      const startOf = new Map<string, Date>();
      for (const t of family) if (!startOf.has(t.familyId)) startOf.set(t.familyId, t.createdAt);
      return heads.map((h): ActiveLogin => ({
        familyId: h.familyId,
        startedAt: startOf.get(h.familyId) ?? h.createdAt,
        lastUsedAt: h.createdAt,
        userAgent: h.userAgent ?? null,
        ip: h.ip ?? null,
        expiresAt: h.expiresAt,
      }));
    },
    async deleteExpired(before) {
      const res = await m.refreshTokens.deleteMany(q.expiredBeforeFilter(before));
      return res.deletedCount;
    },
    async purgeExpired(before) {
      return purgeByOrg(m.refreshTokens, q.expiredBeforeFilter(before));
    },
  };
}

export function accountTokenRepository(m: Models): AccountTokenRepository {
  return {
    async create(input) {
      const t: AccountToken = { id: newId(), ...input, usedAt: null };
      await mapConflicts(() => m.accountTokens.create(fromAccountToken(t)), 'tokenHash');
      return t;
    },
    async consume(tokenHash, now) {
      // One conditional update: of two concurrent uses, only one matches usedAt: null.
      const d = await m.accountTokens
        .findOneAndUpdate(q.consumableAccountTokenFilter(tokenHash, now), { $set: { usedAt: now } }, { returnDocument: 'after' })
        .lean<AccountTokenDoc>();
      return d ? toAccountToken(d) : null;
    },
    async voidForUser(orgId, userId, at) {
      const res = await m.accountTokens.updateMany(q.unusedAccountTokensFilter(orgId, userId), { $set: { usedAt: at } });
      return res.modifiedCount;
    },
    async deleteExpired(before) {
      const res = await m.accountTokens.deleteMany(q.accountTokensExpiredBeforeFilter(before));
      return res.deletedCount;
    },
    async purgeSpent(now) {
      return purgeByOrg(m.accountTokens, q.accountTokensSpentFilter(now));
    },
  };
}

export function faceRepository(m: Models, clock: () => Date): FaceRepository {
  return {
    async put(enrolment) {
      const { orgId, userId } = enrolment;
      const set = {
        modelId: enrolment.modelId,
        modelVersion: enrolment.modelVersion,
        embeddings: enrolment.embeddings.map(fromVector),
        photos: enrolment.photos ? enrolment.photos.map((p) => Buffer.from(p)) : null,
        updatedAt: clock(),
      };
      const d = await upsertWithRetry('face', () =>
        m.faces
          .findOneAndUpdate(
            q.faceKeyFilter(orgId, userId),
            { $set: set, $setOnInsert: { _id: faceId(orgId, userId), orgId, userId } },
            upsertAfter,
          )
          .lean<FaceDoc>(),
      );
      if (!d) throw new Error('upsert returned no document');
      return toFace(d);
    },
    async create(enrolment) {
      const f = {
        ...enrolment,
        embeddings: enrolment.embeddings.map((e) => [...e]),
        photos: enrolment.photos ? enrolment.photos.map((p) => Buffer.from(p)) : null,
        updatedAt: clock(),
      };
      // The document's _id is its organisation and user: a second insert fails on the duplicate key.
      try {
        await m.faces.create(fromFace(f));
      } catch (err) {
        if (isDuplicateKeyError(err)) return null;
        throw err;
      }
      return f;
    },
    async get(orgId, userId) {
      const d = await m.faces.findOne(q.faceKeyFilter(orgId, userId)).lean<FaceDoc>();
      return d ? toFace(d) : null;
    },
    async getMany(orgId, userIds) {
      if (userIds.length === 0) return [];
      const docs = await m.faces.find(q.facesFilter(orgId, userIds)).sort(q.FACE_SORT).lean<FaceDoc[]>();
      return docs.map(toFace);
    },
    async delete(orgId, userId) {
      const res = await m.faces.deleteOne(q.faceKeyFilter(orgId, userId));
      return res.deletedCount === 1;
    },
  };
}

export function faceProposalRepository(m: Models): FaceProposalRepository {
  return {
    async put(proposal) {
      const doc = fromFaceProposal({ ...proposal, photos: proposal.photos.map((p) => Buffer.from(p)) });
      await m.faceProposals.replaceOne(q.faceProposalKeyFilter(proposal.orgId, proposal.userId), doc, { upsert: true });
      return toFaceProposal(doc);
    },
    async get(orgId, userId) {
      const d = await m.faceProposals.findOne(q.faceProposalKeyFilter(orgId, userId)).lean<FaceProposalDoc>();
      return d ? toFaceProposal(d) : null;
    },
    async list(orgId, page) {
      const filter = q.faceProposalsFilter(orgId);
      const { skip, limit } = q.pageOptions(page);
      return pagedList(
        () => m.faceProposals.find(filter).sort(q.FACE_PROPOSAL_SORT).skip(skip).limit(limit).lean<FaceProposalDoc[]>(),
        () => m.faceProposals.countDocuments(filter),
        page,
        toFaceProposal,
      );
    },
    async take(orgId, userId) {
      const d = await m.faceProposals.findOneAndDelete(q.faceProposalKeyFilter(orgId, userId)).lean<FaceProposalDoc>();
      return d ? toFaceProposal(d) : null;
    },
  };
}

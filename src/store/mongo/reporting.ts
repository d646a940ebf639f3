import { Types } from 'mongoose';
import { newId } from '../ids.js';
import {
  StoreConflictError,
  type AuditEntry,
  type AuditRepository,
  type FaceRepository,
  type RefreshToken,
  type RefreshTokenRepository,
  type SummaryRepository,
} from '../types.js';
import { isDuplicateKeyError, mapConflicts } from './errors.js';
import { faceId, fromAudit, fromRefreshToken, summaryId, toAudit, toFace, toRefreshToken, toSummary } from './mapping.js';
import type { Models } from './models.js';
import * as q from './queries.js';
import type { AuditDoc, FaceDoc, RefreshTokenDoc, SummaryDoc } from './schemas.js';

// Daily summaries, the audit trail, refresh tokens and face enrolments.

/**
 * Runs an upsert once more when it loses an insert race on its unique key: the retry then
 * matches the winner's document and updates it. A second duplicate means the key belongs to
 * another organisation.
 */
async function upsertWithRetry<T>(key: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (!isDuplicateKeyError(err)) throw err;
  }
  try {
    return await run();
  } catch (err) {
    throw isDuplicateKeyError(err) ? new StoreConflictError(key) : err;
  }
}

const upsertAfter = { upsert: true, returnDocument: 'after', runValidators: true } as const;

export function summaryRepository(m: Models): SummaryRepository {
  return {
    async upsert(summary) {
      const { orgId, subjectId, day } = summary;
      const d = await upsertWithRetry('summary', () =>
        m.summaries
          .findOneAndUpdate(
            q.summaryKeyFilter(orgId, subjectId, day),
            { $set: { ...summary, updatedAt: new Date() }, $setOnInsert: { _id: summaryId(subjectId, day) } },
            upsertAfter,
          )
          .lean<SummaryDoc>(),
      );
      if (!d) throw new Error('upsert returned no document');
      return toSummary(d);
    },
    async get(orgId, subjectId, day) {
      const d = await m.summaries.findOne(q.summaryKeyFilter(orgId, subjectId, day)).lean<SummaryDoc>();
      return d ? toSummary(d) : null;
    },
    async list(orgId, subjectId, fromDay, toDay) {
      const docs = await m.summaries
        .find(q.summaryRangeFilter(orgId, subjectId, fromDay, toDay))
        .sort(q.SUMMARY_SORT)
        .lean<SummaryDoc[]>();
      return docs.map(toSummary);
    },
  };
}

export function auditRepository(m: Models): AuditRepository {
  return {
    async append(entry) {
      const a: AuditEntry = { id: newId(), ...entry };
      const doc = fromAudit(a, new Types.ObjectId());
      await m.audit.create(doc);
      return toAudit(doc);
    },
    async listForEntity(orgId, entityType, entityId) {
      const docs = await m.audit.find(q.auditEntityFilter(orgId, entityType, entityId)).sort(q.AUDIT_SORT).lean<AuditDoc[]>();
      return docs.map(toAudit);
    },
    async listForSession(orgId, sessionId) {
      const docs = await m.audit.find(q.auditSessionFilter(orgId, sessionId)).sort(q.AUDIT_SORT).lean<AuditDoc[]>();
      return docs.map(toAudit);
    },
  };
}

export function refreshTokenRepository(m: Models): RefreshTokenRepository {
  return {
    async create(input) {
      const t: RefreshToken = { id: newId(), ...input, createdAt: new Date(), rotatedAt: null, revokedAt: null };
      await mapConflicts(() => m.refreshTokens.create(fromRefreshToken(t)));
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
      return res.modifiedCount;
    },
    async revokeAllForUser(orgId, userId, at) {
      const res = await m.refreshTokens.updateMany(q.userUnrevokedFilter(orgId, userId), { $set: { revokedAt: at } });
      return res.modifiedCount;
    },
    async deleteExpired(before) {
      const res = await m.refreshTokens.deleteMany(q.expiredBeforeFilter(before));
      return res.deletedCount;
    },
  };
}

export function faceRepository(m: Models): FaceRepository {
  return {
    async put(enrolment) {
      const { orgId, userId } = enrolment;
      const set = {
        modelId: enrolment.modelId,
        modelVersion: enrolment.modelVersion,
        embeddings: enrolment.embeddings.map((e) => [...e]),
        photos: enrolment.photos ? enrolment.photos.map((p) => Buffer.from(p)) : null,
        updatedAt: new Date(),
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

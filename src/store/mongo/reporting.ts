import { Types } from 'mongoose';
import { LeaseLostError } from '../../domain/ports/common.js';
import { newTimeOrderedId } from '../../shared/ids.js';
import type { AuditEntry, AuditRepository } from '../../domain/ports/audit.js';
import type { SummaryRepository } from '../../domain/ports/summaries.js';
import { fromAudit, summaryId, toAudit, toSummary } from './mapping.js';
import type { Models } from './models.js';
import * as q from './queries.js';
import type { AuditDoc } from './audit-schemas.js';
import type { SummaryDoc } from './record-schemas.js';
import { upsertAfter, upsertWithRetry } from './upserts.js';
import { lostLease, renewFence } from './jobs.js';

// Daily summaries and the audit trail.

export function summaryRepository(m: Models, clock: () => Date): SummaryRepository {
  return {
    async upsert(summary, fence) {
      const { orgId, subjectId, day } = summary;
      const key = q.summaryKeyFilter(orgId, subjectId, day);
      // A close's fence, as sessions.create's: renewed before, read again after, the summary put
      // back as it was when a lease was lost meanwhile (unless written again since).
      const before = fence ? await m.summaries.findOne(key).lean<SummaryDoc>() : null;
      if (fence) await renewFence(m, fence);
      const at = clock();
      const d = await upsertWithRetry('summary', () =>
        m.summaries
          .findOneAndUpdate(key, { $set: { ...summary, updatedAt: at }, $setOnInsert: { _id: summaryId(subjectId, day) } }, upsertAfter)
          .lean<SummaryDoc>(),
      );
      if (!d) throw new Error('upsert returned no document');
      const lost = fence ? await lostLease(m, fence) : null;
      if (lost !== null) {
        if (before) await m.summaries.replaceOne({ ...key, updatedAt: at }, before);
        else await m.summaries.deleteOne({ ...key, updatedAt: at });
        throw new LeaseLostError(lost);
      }
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
      const a: AuditEntry = { id: newTimeOrderedId(), ...entry };
      const doc = fromAudit(a, new Types.ObjectId());
      await m.audit.create(doc);
      return toAudit(doc);
    },
    async appendMany(entries) {
      if (entries.length === 0) return [];
      const docs = entries.map((entry) => fromAudit({ id: newTimeOrderedId(), ...entry }, new Types.ObjectId()));
      await m.audit.insertMany(docs, { ordered: false });
      return docs.map(toAudit);
    },
    async listForEntity(orgId, entityType, entityId) {
      const docs = await m.audit
        .find(q.auditEntityFilter(orgId, entityType, entityId))
        .sort(q.AUDIT_SORT)
        .lean<AuditDoc[]>();
      return docs.map(toAudit);
    },
    async listRollovers(orgId, subjectIds) {
      if (subjectIds.length === 0) return [];
      const docs = await m.audit.find(q.auditRolloversFilter(orgId, subjectIds)).sort(q.AUDIT_SORT).lean<AuditDoc[]>();
      return docs.map(toAudit);
    },
    async listForSession(orgId, sessionId) {
      const docs = await m.audit.find(q.auditSessionFilter(orgId, sessionId)).sort(q.AUDIT_SORT).lean<AuditDoc[]>();
      return docs.map(toAudit);
    },
  };
}

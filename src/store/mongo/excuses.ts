import { newExcuseEntity } from '../new-entities.js';
import { pendingScopeKey, type Excuse, type ExcuseRepository } from '../../domain/ports/excuses.js';
import { fromAudit, toBuffer } from './mapping.js';
import { newTimeOrderedId } from '../../shared/ids.js';
import { Types } from 'mongoose';
import type { Models } from './models.js';
import { ActorGoneError } from '../../domain/ports/common.js';
import type { ExcuseDoc } from './excuse-schemas.js';
import { pagedList } from './paged-list.js';
import { takeBackAuditEntries } from './audit-scrubs.js';
import { isDuplicateKeyError } from './errors.js';

/** Inserts refused by the pending key whose holder was decided before it could be read. */
const CREATE_ATTEMPTS = 3;

/** Every query but getDocument leaves the bytes on the server. */
const WITHOUT_BYTES = { documentBytes: 0 } as const;

function toExcuse(d: Omit<ExcuseDoc, 'documentBytes'>): Excuse {
  return {
    id: d._id,
    orgId: d.orgId,
    studentId: d.studentId,
    submittedBy: d.submittedBy,
    subjectId: d.subjectId ?? null,
    sessionId: d.sessionId ?? null,
    fromDay: d.fromDay,
    toDay: d.toDay,
    category: d.category,
    text: d.text,
    document: d.document ? { fileName: d.document.fileName, contentType: d.document.contentType, size: d.document.size } : null,
    status: d.status,
    decidedBy: d.decidedBy ?? null,
    decidedAt: d.decidedAt ?? null,
    decisionNote: d.decisionNote ?? null,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

export function excuseRepository(m: Models, clock: () => Date): ExcuseRepository {
  const get = async (orgId: string, id: string): Promise<Excuse | null> => {
    const d = await m.excuses.findOne({ _id: id, orgId }, WITHOUT_BYTES).lean<ExcuseDoc>();
    return d ? toExcuse(d) : null;
  };
  return {
    get,
    async create(orgId, input) {
      const pendingKey = pendingScopeKey(input);
      for (let attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
        const e = newExcuseEntity(orgId, input, clock());
        const { id, ...rest } = e;
        try {
          await m.excuses.create({ _id: id, ...rest, pendingKey, documentBytes: null });
          return { excuse: e, created: true };
        } catch (err) {
          // The unique `pending` key: the scope has its pending excuse, which is the answer.
          if (!isDuplicateKeyError(err)) throw err;
        }
        const d = await m.excuses.findOne({ orgId, pendingKey }, WITHOUT_BYTES).lean<ExcuseDoc>();
        if (d) return { excuse: toExcuse(d), created: false };
        // Decided between the refusal and the read: the key is free again.
      }
      throw new Error(`excuse refused by its pending key ${CREATE_ATTEMPTS} times, and no excuse held the key`);
    },
    async list(orgId, filter) {
      const q: Record<string, unknown> = { orgId };
      if (filter.studentId !== undefined) q.studentId = filter.studentId;
      if (filter.subjectIds !== undefined) q.subjectId = { $in: filter.subjectIds };
      if (filter.status !== undefined) q.status = filter.status;
      const { after } = filter;
      const from = after
        ? { ...q, $or: [{ createdAt: { $lt: after.createdAt } }, { createdAt: after.createdAt, _id: { $lt: after.id } }] }
        : q;
      const read = () =>
        m.excuses.find(from, WITHOUT_BYTES).sort({ createdAt: -1, _id: -1 }).skip(filter.offset).limit(filter.limit).lean<ExcuseDoc[]>();
      const count = () => m.excuses.countDocuments(q);
      // A page after a key tells nothing of those before it: counted.
      if (after) {
        const [docs, total] = [await read(), await count()];
        return { items: docs.map(toExcuse), total };
      }
      return pagedList(read, count, filter, toExcuse);
    },
    async listApprovedCovering(orgId, studentIds, sessionId, subjectId, day) {
      if (studentIds.length === 0) return [];
      const docs = await m.excuses
        .find(
          {
            orgId,
            studentId: { $in: studentIds },
            status: 'approved',
            $or: [{ sessionId }, { sessionId: null, fromDay: { $lte: day }, toDay: { $gte: day }, subjectId: { $in: [subjectId, null] } }],
          },
          WITHOUT_BYTES,
        )
        .sort({ decidedAt: 1, _id: 1 })
        .lean<ExcuseDoc[]>();
      return docs.map(toExcuse);
    },
    // updateOne then a read rather than findOneAndUpdate: the filter on `pending` is the
    // compare-and-set, and findAndModify with a projection is not implemented on FerretDB.
    // No transaction: the audit entry goes first, as the decision's intent, as the other MongoDB
    // writes do (subjects' teacher swaps, record batches). A node dying after it leaves an entry
    // over a decision not made; one dying before it writes nothing; never a decided excuse
    // without its entry. A refusal takes the entry back: the excuse no longer pending (decided by
    // someone else meanwhile), or the decider gone. The decider is read before the write (gone:
    // nothing written) and after it, as records.writeBatch reads its actors: a decider erased in
    // between has the decision put back (unless changed since: the erasure's sweep after the
    // account's deletion then puts the tombstone in their place), then its entry taken back, and
    // the call refused.
    async decide(orgId, id, decision, entry, seen) {
      const decider = decision.decidedBy;
      const present = async () => decider === null || (await m.users.exists({ _id: decider, orgId })) !== null;
      if (!(await present())) throw new ActorGoneError(decider!);
      // What the decider saw, in the write's own filter: an edit between it and the read refuses it.
      const current = {
        _id: id,
        orgId,
        status: 'pending' as const,
        ...(seen ? { updatedAt: seen.updatedAt, category: seen.category, text: seen.text } : {}),
      };
      const before = await m.excuses.findOne(current, { updatedAt: 1, pendingKey: 1 }).lean<Pick<ExcuseDoc, 'updatedAt' | 'pendingKey'>>();
      if (!before) return null;
      const auditIds = entry ? [newTimeOrderedId()] : [];
      if (entry) await m.audit.create(fromAudit({ id: auditIds[0]!, ...entry }, new Types.ObjectId()));
      const at = clock();
      // The key goes with the status, in one write: a new excuse of the scope may follow.
      const res = await m.excuses.updateOne(current, { $set: { ...decision, pendingKey: id, updatedAt: at } });
      if (res.matchedCount !== 1) {
        await takeBackAuditEntries(m, auditIds);
        return null;
      }
      if (!(await present())) {
        // The excuse put back before its entry is taken back: never a decision left without it.
        const undo = (pendingKey: string) =>
          m.excuses.updateOne(
            { _id: id, orgId, status: decision.status, decidedBy: decider, updatedAt: at },
            { $set: { status: 'pending', decidedBy: null, decidedAt: null, decisionNote: null, pendingKey, updatedAt: before.updatedAt } },
          );
        // Its scope's key back, unless a new excuse of the scope took it meanwhile: then both stay
        // pending (as those from before migration 24), this one without the key.
        await undo(before.pendingKey ?? id).catch(async (err: unknown) => {
          if (!isDuplicateKeyError(err)) throw err;
          await undo(id);
        });
        await takeBackAuditEntries(m, auditIds);
        throw new ActorGoneError(decider!);
      }
      return get(orgId, id);
    },
    async edit(orgId, id, fields) {
      const res = await m.excuses.updateOne(
        { _id: id, orgId, status: 'pending' },
        { $set: { category: fields.category, text: fields.text, updatedAt: clock() } },
      );
      return res.matchedCount === 1 ? get(orgId, id) : null;
    },
    async putDocument(orgId, id, info, bytes) {
      const res = await m.excuses.updateOne(
        { _id: id, orgId, status: 'pending' },
        { $set: { document: { ...info }, documentBytes: bytes, updatedAt: clock() } },
      );
      return res.matchedCount === 1 ? get(orgId, id) : null;
    },
    async getDocument(orgId, id) {
      const d = await m.excuses
        .findOne({ _id: id, orgId }, { document: 1, documentBytes: 1 })
        .lean<Pick<ExcuseDoc, 'document' | 'documentBytes'>>();
      if (!d?.document || !d.documentBytes) return null;
      return {
        info: { fileName: d.document.fileName, contentType: d.document.contentType, size: d.document.size },
        bytes: toBuffer(d.documentBytes),
      };
    },
  };
}

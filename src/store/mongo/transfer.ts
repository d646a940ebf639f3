import { Types, type Model } from 'mongoose';
import type { CollectionEntity, CollectionName, TransferApi } from '../../domain/ports/transfer.js';
import { mapConflicts } from './errors.js';
import { fromAudit, FROM_ENTITY, TO_ENTITY } from './mapping.js';
import type { CollectionDoc, Models } from './models.js';
import type { AuditDoc } from './audit-schemas.js';
import { DELIVERY_COUNTER } from './webhooks.js';
import { bumpStanding } from './standing-versions.js';
import { copySessionStarts, unmarkSessionStarts } from './session-starts.js';

/**
 * The bulkWrite operations that import one batch: an upsert on `_id` per entity, so that
 * running an import twice leaves the collection as after the first. Audit entries get their
 * ordering `seq` only on insert, in batch order, so a re-run keeps the first run's order.
 */
export function importOps<C extends CollectionName>(
  collection: C,
  batch: readonly CollectionEntity[C][],
  /** records: their sessions' starts by session id (a record's session not there: null). */
  sessionStartsAt?: ReadonlyMap<string, Date>,
) {
  return batch.map((entity) => {
    const doc: Record<string, unknown> =
      collection === 'audit'
        ? { ...fromAudit(entity as CollectionEntity['audit'], new Types.ObjectId()) }
        : { ...(FROM_ENTITY[collection](entity) as object) };
    if (collection === 'records') doc['sessionStartsAt'] = sessionStartsAt?.get((entity as CollectionEntity['records']).sessionId) ?? null;
    // Marked as a move is (session-starts.ts): written over a session already there, its start may
    // have moved, and the records' copy follows in a second write that a crash could stop.
    if (collection === 'sessions') doc['startMovePending'] = true;
    const { _id, seq, ...fields } = doc;
    return {
      updateOne: {
        filter: { _id: _id as string },
        update: seq === undefined ? { $set: fields } : { $set: fields, $setOnInsert: { seq } },
        upsert: true,
      },
    };
  });
}

/** The starts of an imported batch's sessions, by session id (an organisation's sessions only). */
async function importedRecordStarts(m: Models, batch: readonly CollectionEntity['records'][]): Promise<Map<string, Date>> {
  const out = new Map<string, Date>();
  for (const orgId of new Set(batch.map((r) => r.orgId))) {
    const ids = [...new Set(batch.filter((r) => r.orgId === orgId).map((r) => r.sessionId))];
    const found = await m.sessions.find({ orgId, _id: { $in: ids } }, { _id: 1, startsAt: 1 }).lean<{ _id: string; startsAt: Date }[]>();
    for (const s of found) out.set(s._id, s.startsAt);
  }
  return out;
}

/** Export order: insertion order where the collection has one (audit, deliveries), else by id. */
export function exportSort(collection: CollectionName): Record<string, 1> {
  if (collection === 'audit') return { at: 1, seq: 1 };
  if (collection === 'webhookDeliveries') return { seq: 1 };
  return { _id: 1 };
}

export function mongoTransfer(m: Models): TransferApi {
  const model = <C extends CollectionName>(c: C): Model<CollectionDoc[C]> => {
    const found = (m as Partial<Models>)[c];
    if (!found) throw new Error(`unknown collection: ${String(c)}`);
    return found as unknown as Model<CollectionDoc[C]>;
  };
  return {
    async count(collection) {
      return model(collection).countDocuments({});
    },
    export<C extends CollectionName>(collection: C, batchSize: number): AsyncIterable<CollectionEntity[C][]> {
      const mdl = model(collection);
      if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError('batchSize must be a positive integer');
      const toEntity = TO_ENTITY[collection] as (d: CollectionDoc[C]) => CollectionEntity[C];
      return {
        async *[Symbol.asyncIterator]() {
          const cursor = mdl.find({}).sort(exportSort(collection)).allowDiskUse(true).lean<CollectionDoc[C][]>().cursor({ batchSize });
          let batch: CollectionEntity[C][] = [];
          try {
            for await (const doc of cursor) {
              batch.push(toEntity(doc as CollectionDoc[C]));
              if (batch.length === batchSize) {
                yield batch;
                batch = [];
              }
            }
            if (batch.length > 0) yield batch;
          } finally {
            await cursor.close();
          }
        },
      };
    },
    async import<C extends CollectionName>(collection: C, batch: CollectionEntity[C][]) {
      if (batch.length === 0) return;
      const mdl = model(collection) as unknown as Model<AuditDoc>;
      // Ordered, so a batch that fails stops where it failed and a re-run resumes it.
      // Records carry their session's start (student-history.ts): sessions come before records in
      // an import, so a record's is read from there; a session imported over one already there
      // (a restore, a re-run) writes its start on the records it has.
      const starts = collection === 'records' ? await importedRecordStarts(m, batch as CollectionEntity['records'][]) : undefined;
      await mapConflicts(() => mdl.bulkWrite(importOps(collection, batch, starts), { ordered: true }));
      if (collection === 'sessions') {
        const sessions = (batch as CollectionEntity['sessions'][]).map((x) => ({ _id: x.id, orgId: x.orgId, startsAt: x.startsAt }));
        await copySessionStarts(m, sessions);
        await unmarkSessionStarts(m, sessions);
      }
      if (collection === 'webhookDeliveries') {
        // Deliveries created after the copy must get a seq above every copied one.
        const top = Math.max(...(batch as CollectionEntity['webhookDeliveries'][]).map((d) => d.seq));
        await m.webhookCounters.updateOne({ _id: DELIVERY_COUNTER }, { $max: { value: top } }, { upsert: true });
      }
      // An import over a live store (a restore) may change who may act: its nodes read it again.
      if (collection === 'organisations')
        await bumpStanding(
          m,
          (batch as CollectionEntity['organisations'][]).map((o) => o.id),
        );
      if (collection === 'users' || collection === 'refreshTokens') {
        await bumpStanding(
          m,
          (batch as CollectionEntity['users' | 'refreshTokens'][]).map((x) => x.orgId),
        );
      }
    },
  };
}

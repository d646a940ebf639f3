import { Types, type Model } from 'mongoose';
import type { CollectionEntity, CollectionName, TransferApi } from '../../domain/ports/transfer.js';
import { mapConflicts } from './errors.js';
import { fromAudit, FROM_ENTITY, TO_ENTITY } from './mapping.js';
import type { CollectionDoc, Models } from './models.js';
import type { AuditDoc } from './audit-schemas.js';
import { DELIVERY_COUNTER } from './webhooks.js';

/**
 * The bulkWrite operations that import one batch: an upsert on `_id` per entity, so that
 * running an import twice leaves the collection as after the first. Audit entries get their
 * ordering `seq` only on insert, in batch order, so a re-run keeps the first run's order.
 */
export function importOps<C extends CollectionName>(collection: C, batch: readonly CollectionEntity[C][]) {
  return batch.map((entity) => {
    const doc: Record<string, unknown> =
      collection === 'audit'
        ? { ...fromAudit(entity as CollectionEntity['audit'], new Types.ObjectId()) }
        : { ...(FROM_ENTITY[collection](entity) as object) };
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
      await mapConflicts(() => mdl.bulkWrite(importOps(collection, batch), { ordered: true }));
      if (collection === 'webhookDeliveries') {
        // Deliveries created after the copy must get a seq above every copied one.
        const top = Math.max(...(batch as CollectionEntity['webhookDeliveries'][]).map((d) => d.seq));
        await m.webhookCounters.updateOne({ _id: DELIVERY_COUNTER }, { $max: { value: top } }, { upsert: true });
      }
    },
  };
}

import type { OneRosterObject, OneRosterRepository } from '../../domain/ports/oneroster.js';
import { mapConflicts } from './errors.js';
import type { Models } from './models.js';
import type { OneRosterObjectDoc } from './oneroster-schemas.js';

function toObject(d: OneRosterObjectDoc): OneRosterObject {
  return { orgId: d.orgId, kind: d.kind, sourcedId: d.sourcedId, entityId: d.entityId, data: { ...d.data }, updatedAt: d.updatedAt };
}

/** The upsert of one object by its key, as put and putMany send it. */
function upsertOf(object: OneRosterObject) {
  const _id = `${object.orgId}:${object.kind}:${object.sourcedId}`;
  return {
    filter: { _id },
    update: {
      $set: {
        orgId: object.orgId,
        kind: object.kind,
        sourcedId: object.sourcedId,
        entityId: object.entityId,
        entityKey: object.entityId ?? _id,
        data: object.data,
        updatedAt: object.updatedAt,
      },
    },
    upsert: true,
  };
}

export function oneRosterRepository(m: Models, clock: () => Date): OneRosterRepository {
  return {
    async put(input) {
      const object: OneRosterObject = { ...input, updatedAt: clock() };
      const { filter, update, upsert } = upsertOf(object);
      await mapConflicts(() => m.onerosterObjects.updateOne(filter, update, { upsert }), 'oneroster');
      return object;
    },
    async putMany(inputs) {
      const at = clock();
      const objects = inputs.map((input): OneRosterObject => ({ ...input, updatedAt: at }));
      if (objects.length === 0) return objects;
      // The new ones (a first import: all of them) as one insert, which FerretDB writes in one
      // transaction where it gives each upsert a scan and a transaction of its own; the others
      // as upserts by _id. One inserted meanwhile by another import is a duplicate key: a
      // conflict, which the caller resolves by putting them one by one.
      const ups = objects.map(upsertOf);
      const found = await m.onerosterObjects
        .find({ _id: { $in: ups.map((u) => u.filter._id) } }, { _id: 1 })
        .lean<Array<{ _id: string }>>();
      const stored = new Set(found.map((d) => d._id));
      const fresh = ups.filter((u) => !stored.has(u.filter._id));
      const replaced = ups.filter((u) => stored.has(u.filter._id));
      await mapConflicts(async () => {
        if (fresh.length > 0) {
          await m.onerosterObjects.insertMany(
            fresh.map((u) => ({ _id: u.filter._id, ...u.update.$set })),
            { ordered: false },
          );
        }
        if (replaced.length > 0)
          await m.onerosterObjects.bulkWrite(
            replaced.map((u) => ({ updateOne: u })),
            { ordered: false },
          );
      }, 'oneroster');
      return objects;
    },
    async getMany(orgId, kind, sourcedIds) {
      if (sourcedIds.length === 0) return [];
      const docs = await m.onerosterObjects
        .find({ orgId, kind, sourcedId: { $in: sourcedIds } })
        .sort({ sourcedId: 1 })
        .lean<OneRosterObjectDoc[]>();
      return docs.map(toObject);
    },
    async getByEntities(orgId, kind, entityIds) {
      if (entityIds.length === 0) return [];
      // entityKey is entityId where there is one: the unique index `oneroster` serves this read
      // (entityId alone has no index, and the import reads the links of a school's accounts by it).
      const docs = await m.onerosterObjects
        .find({ orgId, kind, entityKey: { $in: entityIds }, entityId: { $in: entityIds } })
        .sort({ sourcedId: 1 })
        .lean<OneRosterObjectDoc[]>();
      return docs.map(toObject);
    },
  };
}

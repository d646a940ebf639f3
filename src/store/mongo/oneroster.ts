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
      // By _id, which every server searches by its index (FerretDB scans for other filters).
      if (objects.length > 0) {
        await mapConflicts(
          () =>
            m.onerosterObjects.bulkWrite(
              objects.map((o) => ({ updateOne: upsertOf(o) })),
              { ordered: false },
            ),
          'oneroster',
        );
      }
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
      const docs = await m.onerosterObjects
        .find({ orgId, kind, entityId: { $in: entityIds } })
        .sort({ sourcedId: 1 })
        .lean<OneRosterObjectDoc[]>();
      return docs.map(toObject);
    },
  };
}

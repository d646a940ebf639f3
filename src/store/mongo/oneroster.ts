import type { OneRosterObject, OneRosterRepository } from '../../domain/ports/oneroster.js';
import { mapConflicts } from './errors.js';
import type { Models } from './models.js';
import type { OneRosterObjectDoc } from './oneroster-schemas.js';

function toObject(d: OneRosterObjectDoc): OneRosterObject {
  return { orgId: d.orgId, kind: d.kind, sourcedId: d.sourcedId, entityId: d.entityId, data: { ...d.data }, updatedAt: d.updatedAt };
}

export function oneRosterRepository(m: Models, clock: () => Date): OneRosterRepository {
  return {
    async put(input) {
      const object: OneRosterObject = { ...input, updatedAt: clock() };
      const _id = `${object.orgId}:${object.kind}:${object.sourcedId}`;
      await mapConflicts(
        () =>
          m.onerosterObjects.updateOne(
            { _id },
            {
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
            { upsert: true },
          ),
        'oneroster',
      );
      return object;
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

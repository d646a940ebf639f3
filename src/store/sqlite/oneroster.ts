import type { OneRosterObject, OneRosterRepository } from '../../domain/ports/oneroster.js';
import { mapConflicts, type SqliteDb } from './db.js';
import type { Row } from './common-mappers.js';

interface ObjectRow {
  org_id: string;
  kind: OneRosterObject['kind'];
  sourced_id: string;
  entity_id: string | null;
  data: string;
  updated_at: number;
}

function fromRow(r: Row): OneRosterObject {
  const row = r as unknown as ObjectRow;
  return {
    orgId: row.org_id,
    kind: row.kind,
    sourcedId: row.sourced_id,
    entityId: row.entity_id,
    data: JSON.parse(row.data) as Record<string, string>,
    updatedAt: new Date(row.updated_at),
  };
}

export function oneRosterRepository(db: SqliteDb, clock: () => Date): OneRosterRepository {
  const upsert = `INSERT INTO oneroster_objects (org_id, kind, sourced_id, entity_id, data, updated_at)
     VALUES (@org_id, @kind, @sourced_id, @entity_id, @data, @updated_at)
     ON CONFLICT (org_id, kind, sourced_id) DO UPDATE SET
       entity_id = excluded.entity_id, data = excluded.data, updated_at = excluded.updated_at`;
  const putOne = (object: OneRosterObject) =>
    db.stmt(upsert).run({
      org_id: object.orgId,
      kind: object.kind,
      sourced_id: object.sourcedId,
      entity_id: object.entityId,
      data: JSON.stringify(object.data),
      updated_at: object.updatedAt.getTime(),
    });
  return {
    async put(input) {
      const object: OneRosterObject = { ...input, updatedAt: clock() };
      mapConflicts(() => putOne(object));
      return object;
    },
    async putMany(inputs) {
      const at = clock();
      const objects = inputs.map((input): OneRosterObject => ({ ...input, updatedAt: at }));
      if (objects.length > 0) mapConflicts(() => db.tx(() => objects.forEach(putOne)));
      return objects;
    },
    async getMany(orgId, kind, sourcedIds) {
      if (sourcedIds.length === 0) return [];
      return db
        .stmt(
          'SELECT * FROM oneroster_objects WHERE org_id = ? AND kind = ? AND sourced_id IN (SELECT value FROM json_each(?)) ORDER BY sourced_id',
        )
        .all(orgId, kind, JSON.stringify(sourcedIds))
        .map(fromRow);
    },
    async getByEntities(orgId, kind, entityIds) {
      if (entityIds.length === 0) return [];
      return db
        .stmt(
          'SELECT * FROM oneroster_objects WHERE org_id = ? AND kind = ? AND entity_id IN (SELECT value FROM json_each(?)) ORDER BY sourced_id',
        )
        .all(orgId, kind, JSON.stringify(entityIds))
        .map(fromRow);
    },
  };
}

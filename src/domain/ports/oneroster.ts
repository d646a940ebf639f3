/**
 * What the OneRoster import keeps of the school information system (docs/oneroster.md).
 * The conventions of every port are in ./store.ts.
 */

/** OneRoster object types the import keeps a link or a copy of (docs/oneroster.md). */
export const ONEROSTER_KINDS = ['org', 'academicSession', 'class', 'user'] as const;
export type OneRosterKind = (typeof ONEROSTER_KINDS)[number];

/**
 * What the last OneRoster import saw of one object of the school's information system, by its
 * sourcedId: the local user or subject it became (`entityId`, null for orgs and academic
 * sessions, which have no local entity) and the source fields kept (a session's dates, a
 * class's terms), so an unchanged re-import writes nothing.
 */
export interface OneRosterObject {
  orgId: string;
  kind: OneRosterKind;
  sourcedId: string;
  entityId: string | null;
  data: Record<string, string>;
  updatedAt: Date;
}

export interface OneRosterRepository {
  /** Inserts or replaces by (orgId, kind, sourcedId). Throws StoreConflictError('oneroster') when the entity is linked to another sourcedId of the kind. */
  put(object: Omit<OneRosterObject, 'updatedAt'>): Promise<OneRosterObject>;
  /**
   * put for several objects in one store call (one transaction on SQLite, one bulk write on
   * MongoDB). Throws StoreConflictError('oneroster') when any of them conflicts: on SQLite none
   * is stored then, on MongoDB the others may be (each put is idempotent, so the caller may put
   * them again one by one to learn which).
   */
  putMany(objects: readonly Omit<OneRosterObject, 'updatedAt'>[]): Promise<OneRosterObject[]>;
  getMany(orgId: string, kind: OneRosterKind, sourcedIds: string[]): Promise<OneRosterObject[]>;
  /** The objects linked to these local entities (export: a local id back to its sourcedId). */
  getByEntities(orgId: string, kind: OneRosterKind, entityIds: string[]): Promise<OneRosterObject[]>;
}

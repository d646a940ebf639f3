import {
  READ_VERSION_KINDS,
  type ReadVersionKind,
  type ReadVersionRepository,
  type StandingVersionRepository,
} from '../../domain/ports/read-versions.js';
import type { SqliteDb } from './db.js';
import { STANDING_VERSION_KIND } from './migrations.js';

/** Read by key from the table the triggers of migration 27 keep (./migrations.ts): one statement. */
export function readVersionRepository(db: SqliteDb): ReadVersionRepository {
  return {
    async current(orgId) {
      const versions = { users: 0, subjects: 0, enrolments: 0, sessions: 0 } satisfies Record<ReadVersionKind, number>;
      for (const r of db.stmt<{ kind: string; version: number }>('SELECT kind, version FROM read_versions WHERE org_id = ?').all(orgId)) {
        if ((READ_VERSION_KINDS as readonly string[]).includes(r.kind)) versions[r.kind as ReadVersionKind] = r.version;
      }
      return versions;
    },
  };
}

/** Read by key from the row the triggers of migration 33 keep (./migrations.ts): one statement. */
export function standingVersionRepository(db: SqliteDb): StandingVersionRepository {
  return {
    async current(orgId) {
      const row = db
        .stmt<{ version: number }>(`SELECT version FROM read_versions WHERE org_id = ? AND kind = '${STANDING_VERSION_KIND}'`)
        .get(orgId);
      return row?.version ?? 0;
    },
  };
}

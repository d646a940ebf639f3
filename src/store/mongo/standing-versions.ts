import type { StandingVersionRepository } from '../../domain/ports/read-versions.js';
import type { Models } from './models.js';
import type { StandingVersionDoc } from './organisation-schemas.js';

/**
 * Moves the organisation's standing version on. Called by every write of this store that changes
 * who may act (a user's role, deactivation, required password or deletion, the organisation's
 * deactivation, a login ended), after the change: a node that reads the version after it reads
 * the change too. Without triggers a write that dies between the two leaves the version behind;
 * nodes read the standing again after ACTOR_MAX_AGE_MS all the same (src/realtime/current-actor.ts).
 */
export async function bumpStanding(m: Models, orgIds: Iterable<string>): Promise<void> {
  const ids = [...new Set(orgIds)];
  if (ids.length === 0) return;
  await m.standingVersions.bulkWrite(
    ids.map((id) => ({ updateOne: { filter: { _id: id }, update: { $inc: { version: 1 } }, upsert: true } })),
    { ordered: false },
  );
}

export function standingVersionRepository(m: Models): StandingVersionRepository {
  return {
    async current(orgId) {
      const d = await m.standingVersions.findOne({ _id: orgId }).lean<StandingVersionDoc>();
      return d?.version ?? 0;
    },
  };
}

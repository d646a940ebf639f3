import type { GuardianRepository } from '../../domain/ports/guardians.js';
import type { Models } from './models.js';
import type { GuardianDoc } from './schemas.js';

/** One document per student, `_id` `orgId:studentId`, replaced whole. */
export function guardianRepository(m: Models, clock: () => Date): GuardianRepository {
  return {
    async get(orgId, studentId) {
      const d = await m.guardians.findOne({ _id: `${orgId}:${studentId}` }).lean<GuardianDoc>();
      return (d?.contacts ?? []).map((c) => ({ name: c.name, relation: c.relation, email: c.email, language: c.language }));
    },
    async put(orgId, studentId, contacts) {
      const stored = contacts.map((c) => ({ name: c.name, relation: c.relation, email: c.email, language: c.language }));
      if (stored.length === 0) await m.guardians.deleteOne({ _id: `${orgId}:${studentId}` });
      else
        await m.guardians.updateOne(
          { _id: `${orgId}:${studentId}` },
          { $set: { orgId, studentId, contacts: stored, updatedAt: clock() } },
          { upsert: true },
        );
      return stored;
    },
  };
}

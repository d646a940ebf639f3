import type { GuardianRepository } from '../../domain/ports/guardians.js';
import { guardianEmailKey, guardianUnsubscribeEntry, withUnsubscribes } from '../../domain/guardians/guardian-unsubscribes.js';
import type { Models } from './models.js';
import type { GuardianDoc } from './guardian-schemas.js';

/**
 * One document per student, `_id` `orgId:studentId`: the list is replaced whole (`$set`), the
 * unsubscribes beside it change one entry at a time (`$addToSet`, `$pull`), so neither write loses the other.
 */
export function guardianRepository(m: Models, clock: () => Date): GuardianRepository {
  const doc = (orgId: string, studentId: string) => m.guardians.findOne({ _id: `${orgId}:${studentId}` }).lean<GuardianDoc>();
  return {
    async get(orgId, studentId) {
      const d = await doc(orgId, studentId);
      return withUnsubscribes(d?.contacts ?? [], d?.unsubscribed ?? []);
    },
    async put(orgId, studentId, contacts) {
      const _id = `${orgId}:${studentId}`;
      const stored = contacts.map((c) => ({ name: c.name, relation: c.relation, email: c.email, language: c.language }));
      if (stored.length === 0) {
        // The unsubscribes outlive an emptied list: the same address added back stays unsubscribed.
        await m.guardians.deleteOne({ _id, $or: [{ unsubscribed: { $exists: false } }, { unsubscribed: { $size: 0 } }] });
        await m.guardians.updateOne({ _id }, { $set: { contacts: [], updatedAt: clock() } });
        return [];
      }
      await m.guardians.updateOne({ _id }, { $set: { orgId, studentId, contacts: stored, updatedAt: clock() } }, { upsert: true });
      return withUnsubscribes(stored, (await doc(orgId, studentId))?.unsubscribed ?? []);
    },
    async unsubscribe(orgId, studentId, emailKey, category) {
      const d = await doc(orgId, studentId);
      if (!d?.contacts.some((c) => guardianEmailKey(c.email) === emailKey)) return false;
      await m.guardians.updateOne({ _id: d._id }, { $addToSet: { unsubscribed: guardianUnsubscribeEntry(category, emailKey) } });
      return true;
    },
    async resubscribe(orgId, studentId, emailKey, category) {
      const d = await doc(orgId, studentId);
      if (!d?.contacts.some((c) => guardianEmailKey(c.email) === emailKey)) return false;
      await m.guardians.updateOne({ _id: d._id }, { $pull: { unsubscribed: guardianUnsubscribeEntry(category, emailKey) } });
      return true;
    },
  };
}

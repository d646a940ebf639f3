import type { GuardianContact, GuardianRepository } from '../../domain/ports/guardians.js';
import { guardianEmailKey, guardianUnsubscribeEntry, withUnsubscribes } from '../../domain/guardians/guardian-unsubscribes.js';
import type { SqliteDb } from './db.js';

function parse<T>(json: string, column: string): T {
  try {
    return JSON.parse(json) as T;
  } catch (err) {
    throw new Error(`corrupt JSON in column guardian_contacts.${column}`, { cause: err });
  }
}

export function guardianRepository(db: SqliteDb, clock: () => Date): GuardianRepository {
  const row = (orgId: string, studentId: string) =>
    db
      .stmt<{ contacts: string; unsubscribed: string }>(
        'SELECT contacts, unsubscribed FROM guardian_contacts WHERE org_id = ? AND student_id = ?',
      )
      .get(orgId, studentId);
  return {
    async get(orgId, studentId) {
      const r = row(orgId, studentId);
      if (!r) return [];
      return withUnsubscribes(parse<GuardianContact[]>(r.contacts, 'contacts'), parse<string[]>(r.unsubscribed, 'unsubscribed'));
    },
    async put(orgId, studentId, contacts) {
      const stored = contacts.map((c) => ({ name: c.name, relation: c.relation, email: c.email, language: c.language }));
      if (stored.length === 0) {
        // The unsubscribes outlive an emptied list: the same address added back stays unsubscribed.
        db.stmt("DELETE FROM guardian_contacts WHERE org_id = ? AND student_id = ? AND unsubscribed = '[]'").run(orgId, studentId);
        db.stmt("UPDATE guardian_contacts SET contacts = '[]', updated_at = ? WHERE org_id = ? AND student_id = ?").run(
          clock().getTime(),
          orgId,
          studentId,
        );
        return [];
      }
      db.stmt(
        `INSERT INTO guardian_contacts (org_id, student_id, contacts, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (org_id, student_id) DO UPDATE SET contacts = excluded.contacts, updated_at = excluded.updated_at`,
      ).run(orgId, studentId, JSON.stringify(stored), clock().getTime());
      return withUnsubscribes(stored, parse<string[]>(row(orgId, studentId)!.unsubscribed, 'unsubscribed'));
    },
    async unsubscribe(orgId, studentId, emailKey, category) {
      const r = row(orgId, studentId);
      if (!r || !parse<GuardianContact[]>(r.contacts, 'contacts').some((c) => guardianEmailKey(c.email) === emailKey)) return false;
      const entry = guardianUnsubscribeEntry(category, emailKey);
      // One statement: the entry is appended only when absent, whoever else writes the row meanwhile.
      db.stmt(
        `UPDATE guardian_contacts SET unsubscribed = json_insert(unsubscribed, '$[#]', ?)
         WHERE org_id = ? AND student_id = ? AND NOT EXISTS (SELECT 1 FROM json_each(unsubscribed) WHERE value = ?)`,
      ).run(entry, orgId, studentId, entry);
      return true;
    },
    async resubscribe(orgId, studentId, emailKey, category) {
      const r = row(orgId, studentId);
      if (!r || !parse<GuardianContact[]>(r.contacts, 'contacts').some((c) => guardianEmailKey(c.email) === emailKey)) return false;
      // One statement, like unsubscribe: other entries written meanwhile are kept.
      db.stmt(
        `UPDATE guardian_contacts SET unsubscribed = (SELECT json_group_array(value) FROM json_each(unsubscribed) WHERE value <> ?)
         WHERE org_id = ? AND student_id = ?`,
      ).run(guardianUnsubscribeEntry(category, emailKey), orgId, studentId);
      return true;
    },
  };
}

import type { GuardianContact, GuardianRepository } from '../../domain/ports/guardians.js';
import type { SqliteDb } from './db.js';

export function guardianRepository(db: SqliteDb, clock: () => Date): GuardianRepository {
  return {
    async get(orgId, studentId) {
      const r = db
        .stmt<{ contacts: string }>('SELECT contacts FROM guardian_contacts WHERE org_id = ? AND student_id = ?')
        .get(orgId, studentId);
      if (!r) return [];
      try {
        return JSON.parse(r.contacts) as GuardianContact[];
      } catch (err) {
        throw new Error('corrupt JSON in column guardian_contacts.contacts', { cause: err });
      }
    },
    async put(orgId, studentId, contacts) {
      const stored = contacts.map((c) => ({ name: c.name, relation: c.relation, email: c.email, language: c.language }));
      if (stored.length === 0) {
        db.stmt('DELETE FROM guardian_contacts WHERE org_id = ? AND student_id = ?').run(orgId, studentId);
      } else {
        db.stmt(
          `INSERT INTO guardian_contacts (org_id, student_id, contacts, updated_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (org_id, student_id) DO UPDATE SET contacts = excluded.contacts, updated_at = excluded.updated_at`,
        ).run(orgId, studentId, JSON.stringify(stored), clock().getTime());
      }
      return stored;
    },
  };
}

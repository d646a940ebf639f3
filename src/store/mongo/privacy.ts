import { newId } from '../../shared/ids.js';
import { auditConcerns, scrubAudit } from '../erasure.js';
import type { AuditEntry, Consent, ConsentRepository, ErasureCounts, PersonRef, PrivacyRepository } from '../../domain/store-ports.js';
import { fromConsent, toAudit, toConsent } from './mapping.js';
import type { Models } from './models.js';
import type { AuditDoc, ConsentDoc } from './schemas.js';

export function consentRepository(m: Models): ConsentRepository {
  return {
    async create(input) {
      const c: Consent = { id: newId(), ...input, withdrawnAt: null, withdrawnBy: null };
      await m.consents.create(fromConsent(c));
      return c;
    },
    async current(orgId, userId, purpose) {
      const d = await m.consents
        .findOne({ orgId, userId, purpose, withdrawnAt: null })
        .sort({ givenAt: -1, _id: -1 })
        .lean<ConsentDoc>();
      return d ? toConsent(d) : null;
    },
    async listForUser(orgId, userId) {
      const docs = await m.consents.find({ orgId, userId }).sort({ givenAt: 1, _id: 1 }).lean<ConsentDoc[]>();
      return docs.map(toConsent);
    },
    async withdraw(orgId, userId, purpose, by, at) {
      const res = await m.consents.updateMany({ orgId, userId, purpose, withdrawnAt: null }, { $set: { withdrawnAt: at, withdrawnBy: by } });
      return res.modifiedCount;
    },
  };
}

/**
 * Not one transaction (a standalone server has none): each step filters on the user id and the
 * user document goes last, so an erasure interrupted half-way is finished by running it again.
 */
export function privacyRepository(m: Models): PrivacyRepository {
  const recordIds = async (p: PersonRef): Promise<Set<string>> => {
    const docs = await m.records.find({ orgId: p.orgId, studentId: p.userId }, { _id: 1 }).lean<Array<{ _id: string }>>();
    return new Set(docs.map((d) => d._id));
  };
  // Audit values are free-form: the organisation's entries are read once and filtered here.
  const concerning = async (p: PersonRef, ids: Set<string>): Promise<AuditEntry[]> => {
    const found: AuditEntry[] = [];
    const cursor = m.audit.find({ orgId: p.orgId }).sort({ at: 1, seq: 1 }).lean<AuditDoc[]>().cursor();
    try {
      for await (const d of cursor) {
        const e = toAudit(d as AuditDoc);
        if (auditConcerns(e, p, ids)) found.push(e);
      }
    } finally {
      await cursor.close();
    }
    return found;
  };

  return {
    async auditAbout(person) {
      return concerning(person, await recordIds(person));
    },
    async erase(person, tombstoneId) {
      const { orgId, userId } = person;
      const ids = await recordIds(person);
      const counts: ErasureCounts = {
        users: 0, records: 0, sessions: 0, subjects: 0, enrolments: 0, audit: 0,
        refreshTokens: 0, accountTokens: 0, faces: 0, faceProposals: 0, consents: 0,
      };
      for (const e of await concerning(person, ids)) {
        const s = scrubAudit(e, person, ids, tombstoneId);
        await m.audit.updateOne(
          { _id: e.id },
          { $set: { entityId: s.entityId, actorId: s.actorId, from: s.from ?? null, to: s.to ?? null, reason: s.reason, ip: s.ip } },
        );
        counts.audit++;
      }
      const modified = (r: { modifiedCount: number }): number => r.modifiedCount;
      const deleted = (r: { deletedCount: number }): number => r.deletedCount;
      counts.records = modified(
        await m.records.updateMany(
          { orgId, studentId: userId },
          { $set: { studentId: tombstoneId, location: null, ip: null, note: null, correctionReason: null, deviceId: null, userAgent: null, verification: null } },
        ),
      );
      counts.records += modified(await m.records.updateMany({ orgId, decidedBy: userId }, { $set: { decidedBy: tombstoneId } }));
      counts.sessions = modified(await m.sessions.updateMany({ orgId, teacherId: userId }, { $set: { teacherId: tombstoneId } }));
      counts.sessions += modified(await m.sessions.updateMany({ orgId, closedBy: userId }, { $set: { closedBy: tombstoneId } }));
      counts.subjects = modified(await m.subjects.updateMany({ orgId, teacherIds: userId }, { $pull: { teacherIds: userId } }));
      counts.enrolments = deleted(await m.enrolments.deleteMany({ orgId, studentId: userId }));
      counts.refreshTokens = deleted(await m.refreshTokens.deleteMany({ orgId, userId }));
      counts.accountTokens = deleted(await m.accountTokens.deleteMany({ orgId, userId }));
      counts.faces = deleted(await m.faces.deleteMany({ orgId, userId }));
      counts.faceProposals = deleted(await m.faceProposals.deleteMany({ orgId, userId }));
      await m.faceProposals.updateMany({ orgId, proposedBy: userId }, { $set: { proposedBy: tombstoneId } });
      counts.consents = deleted(await m.consents.deleteMany({ orgId, userId }));
      await m.consents.updateMany({ orgId, recordedBy: userId }, { $set: { recordedBy: tombstoneId } });
      await m.consents.updateMany({ orgId, withdrawnBy: userId }, { $set: { withdrawnBy: tombstoneId } });
      // The school system's id of the person is theirs too; a later import would create them anew.
      await m.onerosterObjects.deleteMany({ orgId, kind: 'user', entityId: userId });
      counts.users = deleted(await m.users.deleteMany({ orgId, _id: userId }));
      return counts;
    },
  };
}

import { newId } from '../../shared/ids.js';
import { auditConcerns, escapeRegExp, scrubAudit, scrubJsonText, scrubValue, textNeedles } from '../../domain/privacy/erasure-rules.js';
import { type AuditEntry } from '../../domain/ports/audit.js';
import {
  emptyErasureCounts,
  type Consent,
  type ConsentRepository,
  type PersonRef,
  type PrivacyRepository,
} from '../../domain/ports/privacy.js';
import { fromConsent, toAudit, toConsent } from './mapping.js';
import type { Models } from './models.js';
import type { AuditDoc } from './audit-schemas.js';
import type { ConsentDoc } from './privacy-schemas.js';
import type { GuardianDoc } from './guardian-schemas.js';
import type { NotificationDoc } from './alert-schemas.js';
import { eraseRecords as eraseRecordsOf } from './erase-records.js';
import { bumpStanding } from './standing-versions.js';
import { meetingOf } from './timetable.js';
import { mergeMeetingInto } from './meeting-merge.js';
import type { MeetingDoc } from './timetable-schemas.js';
import { meetingNaturalKey } from '../../domain/ports/timetable.js';
import { replaceAuditEntries, restoreAuditScrubs } from './audit-scrubs.js';

export function consentRepository(m: Models): ConsentRepository {
  return {
    async create(input) {
      const c: Consent = { id: newId(), ...input, withdrawnAt: null, withdrawnBy: null };
      await m.consents.create(fromConsent(c));
      return c;
    },
    async current(orgId, userId, purpose) {
      const d = await m.consents.findOne({ orgId, userId, purpose, withdrawnAt: null }).sort({ givenAt: -1, _id: -1 }).lean<ConsentDoc>();
      return d ? toConsent(d) : null;
    },
    async listForUser(orgId, userId) {
      const docs = await m.consents.find({ orgId, userId }).sort({ givenAt: 1, _id: 1 }).lean<ConsentDoc[]>();
      return docs.map(toConsent);
    },
    async withdraw(orgId, userId, purpose, by, at) {
      const res = await m.consents.updateMany(
        { orgId, userId, purpose, withdrawnAt: null },
        { $set: { withdrawnAt: at, withdrawnBy: by } },
      );
      return res.modifiedCount;
    },
  };
}

/**
 * Not one transaction (a standalone server has none): each step filters on the user id and the
 * user document goes last, so an erasure interrupted half-way is finished by running it again.
 */
export function privacyRepository(m: Models): PrivacyRepository {
  // The ids of their records and excuses, whose audit entries are about them.
  const recordIds = async (p: PersonRef): Promise<Set<string>> => {
    const [records, excuses] = await Promise.all([
      m.records.find({ orgId: p.orgId, studentId: p.userId }, { _id: 1 }).lean<Array<{ _id: string }>>(),
      m.excuses.find({ orgId: p.orgId, studentId: p.userId }, { _id: 1 }).lean<Array<{ _id: string }>>(),
    ]);
    return new Set([...records, ...excuses].map((d) => d._id));
  };
  // Audit values are free-form: the organisation's entries are read once and filtered here.
  const concerning = async (p: PersonRef, ids: Set<string>): Promise<AuditEntry[]> => {
    const found: AuditEntry[] = [];
    const cursor = m.audit.find({ orgId: p.orgId }).sort({ at: 1, seq: 1 }).lean<AuditDoc[]>().cursor();
    try {
      for await (const d of cursor) {
        const entry = toAudit(d as AuditDoc);
        if (auditConcerns(entry, p, ids)) found.push(entry);
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
      const counts = emptyErasureCounts();
      const modified = (r: { modifiedCount: number }): number => r.modifiedCount;
      const deleted = (r: { deletedCount: number }): number => r.deletedCount;
      // Their records go to the tombstone, each with a new roster version (erase-records.ts).
      const eraseRecords = async (): Promise<void> => {
        counts.records += await eraseRecordsOf(m, orgId, userId, tombstoneId);
      };
      // Their records and the audit entries about them (ids read anew each time).
      // The audit entries are swapped for scrubbed copies through a stage (audit-scrubs.ts).
      const sweep = async (): Promise<void> => {
        const ids = await recordIds(person);
        const about = (await concerning(person, ids)).map((e) => e.id);
        counts.audit += await replaceAuditEntries(m, about, (doc) => {
          const s = scrubAudit(toAudit(doc), person, ids, tombstoneId);
          return { ...doc, entityId: s.entityId, actorId: s.actorId, from: s.from ?? null, to: s.to ?? null, reason: s.reason, ip: s.ip };
        });
        await eraseRecords();
      };
      // An erasure stopped half-way may have left entries staged, out of the audit trail.
      await restoreAuditScrubs(m);
      await sweep();
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
      // Read before the contacts go: emails to their guardians are about them too.
      const guardians = await m.guardians.findOne({ orgId, studentId: userId }).lean<GuardianDoc>();
      const guardianValues = (guardians?.contacts ?? []).flatMap((c) => [c.email, c.name]);
      counts.guardians = deleted(await m.guardians.deleteMany({ orgId, studentId: userId }));
      counts.excuses = deleted(await m.excuses.deleteMany({ orgId, studentId: userId }));
      counts.excuses += modified(await m.excuses.updateMany({ orgId, submittedBy: userId }, { $set: { submittedBy: tombstoneId } }));
      counts.excuses += modified(await m.excuses.updateMany({ orgId, decidedBy: userId }, { $set: { decidedBy: tombstoneId } }));
      counts.notifications = deleted(await m.notifications.deleteMany({ orgId, userId }));
      for (const n of await m.notifications.find({ orgId, 'alert.studentId': userId }).lean<NotificationDoc[]>()) {
        counts.notifications += modified(
          await m.notifications.updateOne({ _id: n._id }, { $set: { alert: scrubValue(n.alert, person, tombstoneId) } }),
        );
      }
      counts.notificationPreferences = deleted(await m.notificationPreferences.deleteMany({ orgId, userId }));
      // A state's id ends with the student's id (orgId|ruleId|subjectId|studentId).
      counts.alertStates = deleted(await m.alertStates.deleteMany({ orgId, _id: { $regex: `\\|${escapeRegExp(userId)}$` } }));
      const anyOf = (fields: string[], values: string[]) =>
        fields.flatMap((f) => values.map((v) => ({ [f]: { $regex: escapeRegExp(v), $options: 'i' } })));
      const mailNeedles = textNeedles(person, guardianValues);
      const sweepOutbox = async (): Promise<number> => {
        const headerTexts = await m.outbox
          .find({ orgId }, { _id: 1, headers: 1 })
          .lean<Array<{ _id: string; headers: Record<string, string> }>>();
        const byHeaders = headerTexts
          .filter((d) => mailNeedles.some((v) => JSON.stringify(d.headers).toLowerCase().includes(v.toLowerCase())))
          .map((d) => d._id);
        return deleted(
          await m.outbox.deleteMany({
            orgId,
            $or: [...anyOf(['to', 'subject', 'text', 'html'], mailNeedles), { _id: { $in: byHeaders } }],
          }),
        );
      };
      counts.outbox = await sweepOutbox();
      const deliveries = await m.webhookDeliveries
        .find({ orgId, $or: anyOf(['body'], textNeedles(person)) }, { _id: 1, body: 1 })
        .lean<Array<{ _id: string; body: string }>>();
      for (const d of deliveries) {
        counts.webhookDeliveries += modified(
          await m.webhookDeliveries.updateOne({ _id: d._id }, { $set: { body: scrubJsonText(d.body, person, tombstoneId) } }),
        );
      }
      // A meeting without its own teacher falls back to the subject's.
      // The meeting changes, so its revision moves in the same write, as an edit's does: it counts
      // every change of the meeting, and edits are keyed by it (edit-trail.ts).
      // Its natural key (imp29) names the teacher too: made again without them, or it would keep the
      // id. A meeting that, without them, equals another of the subject is merged into that one:
      // the key is unique, and the erasure must not fail on it (sqlite/privacy.ts does the same).
      const taught = await m.meetings.find({ orgId, teacherId: userId }).lean<MeetingDoc[]>();
      counts.meetings = 0;
      for (const doc of taught) {
        const naturalKey = meetingNaturalKey({ ...meetingOf(doc), teacherId: null });
        const twin = await m.meetings.findOne({ orgId, naturalKey, _id: { $ne: doc._id } }, { _id: 1 }).lean<{ _id: string }>();
        if (twin) {
          counts.meetings += await mergeMeetingInto(m, orgId, doc._id, twin._id);
          continue;
        }
        counts.meetings += modified(
          await m.meetings.updateOne(
            { orgId, _id: doc._id, teacherId: userId },
            { $set: { teacherId: null, naturalKey }, $inc: { revision: 1 } },
          ),
        );
      }
      counts.teacherSettings = deleted(await m.teacherSettings.deleteMany({ orgId, userId }));
      counts.users = deleted(await m.users.deleteMany({ orgId, _id: userId }));
      // An enrol that found the student still there inserted by now, and one that reads the
      // account from here on takes its insert back itself (directory.ts, enrol).
      counts.enrolments += deleted(await m.enrolments.deleteMany({ orgId, studentId: userId }));
      await bumpStanding(m, [orgId]);
      // Again once the account is gone: a check-in batch that found the student (or a teacher's
      // mark its teacher) still there wrote its record and audit entry before reading the
      // account (record-batch.ts), so they are stored by now; one that reads it from here on takes its writes back itself. The same
      // for an invitation or reset email and its audit entry (AccountService.takeBackErased).
      await sweep();
      // Decisions too: a teacher's mark that found them still there was written by now; one that
      // reads the account from here on takes itself back (record-batch.ts).
      counts.records += modified(await m.records.updateMany({ orgId, decidedBy: userId }, { $set: { decidedBy: tombstoneId } }));
      // And an excuse decision that found them still there after the sweep above (excuses.decide).
      counts.excuses += modified(await m.excuses.updateMany({ orgId, decidedBy: userId }, { $set: { decidedBy: tombstoneId } }));
      counts.outbox += await sweepOutbox();
      return counts;
    },
  };
}

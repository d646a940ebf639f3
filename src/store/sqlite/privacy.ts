import { newId } from '../../shared/ids.js';
import { auditConcerns, scrubAudit, scrubJsonText, textNeedles } from '../../domain/privacy/erasure-rules.js';
import { type AuditEntry } from '../../domain/ports/audit.js';
import { type GuardianContact } from '../../domain/ports/guardians.js';
import {
  emptyErasureCounts,
  type Consent,
  type ConsentRepository,
  type PersonRef,
  type PrivacyRepository,
} from '../../domain/ports/privacy.js';
import type { SqliteDb } from './db.js';
import { audit } from './audit-mappers.js';
import { consents } from './privacy-mappers.js';
import { insertSql } from './common-mappers.js';
import { subjects } from './subject-mappers.js';

export function consentRepository(db: SqliteDb): ConsentRepository {
  const insert = insertSql(consents, false);
  return {
    async create(input) {
      const c: Consent = { id: newId(), ...input, withdrawnAt: null, withdrawnBy: null };
      db.stmt(insert).run(consents.toRow(c));
      return c;
    },
    async current(orgId, userId, purpose) {
      const r = db
        .stmt(
          `SELECT * FROM consents WHERE org_id = ? AND user_id = ? AND purpose = ? AND withdrawn_at IS NULL
           ORDER BY given_at DESC, rowid DESC LIMIT 1`,
        )
        .get(orgId, userId, purpose);
      return r ? consents.fromRow(r) : null;
    },
    async listForUser(orgId, userId) {
      return db
        .stmt('SELECT * FROM consents WHERE org_id = ? AND user_id = ? ORDER BY given_at, rowid')
        .all(orgId, userId)
        .map(consents.fromRow);
    },
    async withdraw(orgId, userId, purpose, by, at) {
      return db
        .stmt(
          'UPDATE consents SET withdrawn_at = ?, withdrawn_by = ? WHERE org_id = ? AND user_id = ? AND purpose = ? AND withdrawn_at IS NULL',
        )
        .run(at.getTime(), by, orgId, userId, purpose).changes;
    },
  };
}

export function privacyRepository(db: SqliteDb): PrivacyRepository {
  // The ids of their records and excuses, whose audit entries are about them.
  const recordIds = (p: PersonRef): Set<string> =>
    new Set(
      db
        .stmt<{ id: string }>(
          // Records by the unique key's student_id (`+org_id`: not the organisation's records_session_roster prefix).
          'SELECT id FROM records WHERE +org_id = ? AND student_id = ? UNION ALL SELECT id FROM excuses WHERE org_id = ? AND student_id = ?',
        )
        .all(p.orgId, p.userId, p.orgId, p.userId)
        .map((r) => r.id),
    );
  // Free-form audit values are JSON text: the entries that may name the person are few, and
  // auditConcerns decides on the parsed entry.
  const concerning = (p: PersonRef, ids: Set<string>): AuditEntry[] =>
    db
      .stmt('SELECT * FROM audit WHERE org_id = ? ORDER BY at, seq')
      .all(p.orgId)
      .map(audit.fromRow)
      .filter((e) => auditConcerns(e, p, ids));

  return {
    async auditAbout(person) {
      return concerning(person, recordIds(person));
    },
    async erase(person, tombstoneId) {
      const { orgId, userId } = person;
      return db.tx(() => {
        const ids = recordIds(person);
        const run = (sql: string, ...args: unknown[]): number => db.stmt(sql).run(...args).changes;
        const counts = emptyErasureCounts();
        const update = db.stmt(
          'UPDATE audit SET entity_id = @entity_id, actor_id = @actor_id, from_json = @from_json, to_json = @to_json, reason = @reason, ip = @ip WHERE id = @id',
        );
        for (const e of concerning(person, ids)) {
          const row = audit.toRow(scrubAudit(e, person, ids, tombstoneId));
          update.run({
            id: row.id,
            entity_id: row.entity_id,
            actor_id: row.actor_id,
            from_json: row.from_json,
            to_json: row.to_json,
            reason: row.reason,
            ip: row.ip,
          });
          counts.audit++;
        }
        // Each erased record takes a new roster version, as any change of a record does: the
        // group commit's peer index (domain/checkins/session-peers.ts) reads changes by it.
        const erased = db.stmt<{ id: string; session_id: string }>(
          // By the unique key's student_id: on org_id SQLite would read the organisation's records.
          'SELECT id, session_id FROM records WHERE +org_id = ? AND student_id = ?',
        );
        for (const r of erased.all(orgId, userId)) {
          const v = db
            .stmt<{ roster_version: number }>(
              'UPDATE sessions SET roster_version = roster_version + 1 WHERE id = ? RETURNING roster_version',
            )
            .get(r.session_id)?.roster_version;
          if (v !== undefined) run('UPDATE records SET roster_version = ? WHERE id = ?', v, r.id);
        }
        // A new version too: a check-in retry in flight (an optimistic update read before) must
        // not write its address and location onto the erased record.
        counts.records = run(
          `UPDATE records SET student_id = ?, version = version + 1, location = NULL, ip = NULL, note = NULL, correction_reason = NULL, device_id = NULL, user_agent = NULL, verification = NULL,
             decided_by = CASE WHEN decided_by = ? THEN ? ELSE decided_by END
           WHERE +org_id = ? AND student_id = ?`,
          tombstoneId,
          userId,
          tombstoneId,
          orgId,
          userId,
        );
        counts.records += run('UPDATE records SET decided_by = ? WHERE org_id = ? AND decided_by = ?', tombstoneId, orgId, userId);
        counts.sessions = run(
          `UPDATE sessions SET teacher_id = CASE WHEN teacher_id = ? THEN ? ELSE teacher_id END,
             closed_by = CASE WHEN closed_by = ? THEN ? ELSE closed_by END
           WHERE org_id = ? AND (teacher_id = ? OR closed_by = ?)`,
          userId,
          tombstoneId,
          userId,
          tombstoneId,
          orgId,
          userId,
          userId,
        );
        const taught = db
          .stmt('SELECT * FROM subjects WHERE org_id = ? AND EXISTS (SELECT 1 FROM json_each(teacher_ids) WHERE value = ?)')
          .all(orgId, userId)
          .map(subjects.fromRow);
        for (const s of taught) {
          run('UPDATE subjects SET teacher_ids = ? WHERE id = ?', JSON.stringify(s.teacherIds.filter((t) => t !== userId)), s.id);
          counts.subjects++;
        }
        counts.enrolments = run('DELETE FROM enrolments WHERE org_id = ? AND student_id = ?', orgId, userId);
        counts.refreshTokens = run('DELETE FROM refresh_tokens WHERE org_id = ? AND user_id = ?', orgId, userId);
        counts.accountTokens = run('DELETE FROM account_tokens WHERE org_id = ? AND user_id = ?', orgId, userId);
        counts.faces = run('DELETE FROM faces WHERE org_id = ? AND user_id = ?', orgId, userId);
        counts.faceProposals = run('DELETE FROM face_proposals WHERE org_id = ? AND user_id = ?', orgId, userId);
        // A proposal they made for someone else stays for the admin, without their name on it.
        run('UPDATE face_proposals SET proposed_by = ? WHERE org_id = ? AND proposed_by = ?', tombstoneId, orgId, userId);
        counts.consents = run('DELETE FROM consents WHERE org_id = ? AND user_id = ?', orgId, userId);
        run('UPDATE consents SET recorded_by = ? WHERE org_id = ? AND recorded_by = ?', tombstoneId, orgId, userId);
        run('UPDATE consents SET withdrawn_by = ? WHERE org_id = ? AND withdrawn_by = ?', tombstoneId, orgId, userId);
        // The school system's id of the person is theirs too; a later import would create them anew.
        run("DELETE FROM oneroster_objects WHERE org_id = ? AND kind = 'user' AND entity_id = ?", orgId, userId);
        // Read before the contacts go: emails to their guardians are about them too.
        const guardians = db
          .stmt<{ contacts: string }>('SELECT contacts FROM guardian_contacts WHERE org_id = ? AND student_id = ?')
          .get(orgId, userId);
        const guardianValues = guardians
          ? (parseJson(guardians.contacts, 'guardian_contacts.contacts') as GuardianContact[]).flatMap((c) => [c.email, c.name])
          : [];
        counts.guardians = run('DELETE FROM guardian_contacts WHERE org_id = ? AND student_id = ?', orgId, userId);
        counts.excuses = run('DELETE FROM excuses WHERE org_id = ? AND student_id = ?', orgId, userId);
        counts.excuses += run('UPDATE excuses SET submitted_by = ? WHERE org_id = ? AND submitted_by = ?', tombstoneId, orgId, userId);
        counts.excuses += run('UPDATE excuses SET decided_by = ? WHERE org_id = ? AND decided_by = ?', tombstoneId, orgId, userId);
        counts.notifications = run('DELETE FROM notifications WHERE org_id = ? AND user_id = ?', orgId, userId);
        const aboutThem = db
          .stmt<{ id: string; alert: string }>(
            "SELECT id, alert FROM notifications WHERE org_id = ? AND json_extract(alert, '$.studentId') = ?",
          )
          .all(orgId, userId);
        for (const n of aboutThem)
          counts.notifications += run('UPDATE notifications SET alert = ? WHERE id = ?', scrubJsonText(n.alert, person, tombstoneId), n.id);
        counts.notificationPreferences = run('DELETE FROM notification_preferences WHERE org_id = ? AND user_id = ?', orgId, userId);
        counts.alertStates = run('DELETE FROM alert_states WHERE org_id = ? AND student_id = ?', orgId, userId);
        const mailNeedles = textNeedles(person, guardianValues);
        const mailFields = ['recipient', 'subject', 'text', 'html', 'headers'];
        counts.outbox = run(
          `DELETE FROM outbox WHERE org_id = ? AND (${mailFields.flatMap((f) => mailNeedles.map(() => `instr(lower(${f}), ?) > 0`)).join(' OR ')})`,
          orgId,
          ...mailFields.flatMap(() => mailNeedles.map((v) => v.toLowerCase())),
        );
        const bodyNeedles = textNeedles(person);
        const deliveries = db
          .stmt<{ id: string; body: string }>(
            `SELECT id, body FROM webhook_deliveries WHERE org_id = ? AND (${bodyNeedles.map(() => 'instr(lower(body), ?) > 0').join(' OR ')})`,
          )
          .all(orgId, ...bodyNeedles.map((v) => v.toLowerCase()));
        for (const d of deliveries)
          counts.webhookDeliveries += run(
            'UPDATE webhook_deliveries SET body = ? WHERE id = ?',
            scrubJsonText(d.body, person, tombstoneId),
            d.id,
          );
        // A meeting without its own teacher falls back to the subject's.
        // The meeting changes, so its revision moves in the same write, as an edit's does: it counts
        // every change of the meeting, and edits are keyed by it (edit-trail.ts).
        // A meeting equal, once without its teacher, to one of the subject with no teacher of its
        // own would break the meetings' unique key (migration 40) and fail the erasure: it is
        // merged into that one, as the migration merged equal meetings (its sessions and the days
        // it held go to it, the rest with the meeting).
        const twins = db
          .stmt<{ own: string; twin: string }>(
            `SELECT m.id AS own, MIN(t.id) AS twin FROM meetings m JOIN meetings t
               ON t.org_id = m.org_id AND t.id <> m.id AND t.teacher_id IS NULL AND t.subject_id = m.subject_id
                 AND t.term_id = m.term_id AND t.weekday = m.weekday AND t.start_time = m.start_time AND t.end_time = m.end_time
                 AND IFNULL(t.preset, '') = IFNULL(m.preset, '') AND IFNULL(t.location, '') = IFNULL(m.location, '')
                 AND t.allowed_ip_ranges = m.allowed_ip_ranges
             WHERE m.org_id = ? AND m.teacher_id = ? GROUP BY m.id`,
          )
          .all(orgId, userId);
        counts.meetings = 0;
        for (const { own, twin } of twins) {
          run('UPDATE sessions SET meeting_id = ? WHERE org_id = ? AND meeting_id = ?', twin, orgId, own);
          run('UPDATE OR IGNORE occurrences SET meeting_id = ? WHERE meeting_id = ?', twin, own);
          run('DELETE FROM occurrences WHERE meeting_id = ?', own);
          counts.meetings += run('DELETE FROM meetings WHERE org_id = ? AND id = ?', orgId, own);
        }
        counts.meetings += run(
          'UPDATE meetings SET teacher_id = NULL, revision = revision + 1 WHERE org_id = ? AND teacher_id = ?',
          orgId,
          userId,
        );
        counts.teacherSettings = run('DELETE FROM teacher_settings WHERE org_id = ? AND user_id = ?', orgId, userId);
        counts.users = run('DELETE FROM users WHERE org_id = ? AND id = ?', orgId, userId);
        return counts;
      });
    },
  };
}

function parseJson(text: string, column: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`corrupt JSON in column ${column}`, { cause: err });
  }
}

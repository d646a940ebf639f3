import type { Database } from 'better-sqlite3';
import type { SchemaMigrated } from '../schema-migration.js';

/**
 * Versioned schema migrations, applied in order at start.
 *
 * To change the schema, append a new entry with the next version number and a short name.
 * Never edit or reorder an entry once it has shipped: databases in the field have already
 * recorded it in `schema_migrations` and will not run it again. Each migration runs in its
 * own IMMEDIATE transaction together with the row that records it, so a crash leaves the
 * database either before or after that migration, never half-way.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * Migration 27's triggers on `table`: each insert, update (of the `updateOf` columns when given)
 * and delete moves its organisation's read version of the table; an update that moves a row to
 * another organisation moves both. Written out in full once, they were one text four times over;
 * the text is the same, so databases that ran it see no change.
 */
function readVersionTriggers(table: string, updateOf = ''): string {
  const bump = (row: 'NEW' | 'OLD') => `INSERT INTO read_versions (org_id, kind, version) VALUES (${row}.org_id, '${table}', 1)
          ON CONFLICT (org_id, kind) DO UPDATE SET version = version + 1;`;
  return `      CREATE TRIGGER read_versions_${table}_insert AFTER INSERT ON ${table} BEGIN
        ${bump('NEW')}
      END;
      CREATE TRIGGER read_versions_${table}_update AFTER UPDATE${updateOf} ON ${table} BEGIN
        ${bump('OLD')}
        INSERT INTO read_versions (org_id, kind, version) SELECT NEW.org_id, '${table}', 1 WHERE NEW.org_id IS NOT OLD.org_id
          ON CONFLICT (org_id, kind) DO UPDATE SET version = version + 1;
      END;
      CREATE TRIGGER read_versions_${table}_delete AFTER DELETE ON ${table} BEGIN
        ${bump('OLD')}
      END;
`;
}

/** The kind under which migration 33's triggers keep the standing version in read_versions (./read-versions.ts). */
export const STANDING_VERSION_KIND = 'standing';

/**
 * A trigger of migration 33: after `event` (with its WHEN clause), moves the standing version of
 * each organisation `orgIds` name (SQL expressions of the row).
 */
function standingTrigger(name: string, event: string, ...orgIds: string[]): string {
  const bumps = orgIds.map(
    (orgId) => `INSERT INTO read_versions (org_id, kind, version) VALUES (${orgId}, '${STANDING_VERSION_KIND}', 1)
          ON CONFLICT (org_id, kind) DO UPDATE SET version = version + 1;`,
  );
  return `      CREATE TRIGGER standing_version_${name} AFTER ${event} BEGIN
        ${bumps.join('\n        ')}
      END;
`;
}

/** Every column of records as of migration 37, in the table's order: what migration 38 copies. */
const RECORD_COLUMNS = `id, org_id, session_id, subject_id, student_id, status, reason, flags, distance_m, location, ip, attempts,
        submitted_at, decided_at, decided_by, note, verification, version, created_at, updated_at, roster_version,
        correction_reason, device_id, user_agent, absence_category`;

// Dates are INTEGER epoch milliseconds; arrays and objects are JSON text.
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE organisations (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        slug TEXT NOT NULL UNIQUE,
        timezone TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );

      CREATE TABLE users (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL,
        email TEXT NOT NULL,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        student_number TEXT,
        password_hash TEXT,
        active INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        UNIQUE (org_id, email)
      );
      CREATE INDEX users_email ON users (email);
      CREATE INDEX users_org_role ON users (org_id, role);

      CREATE TABLE subjects (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL,
        code TEXT NOT NULL,
        name TEXT NOT NULL,
        teacher_ids TEXT NOT NULL,
        location TEXT,
        allowed_ip_ranges TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        UNIQUE (org_id, code)
      );

      CREATE TABLE enrolments (
        org_id TEXT NOT NULL,
        subject_id TEXT NOT NULL REFERENCES subjects (id) ON DELETE CASCADE,
        student_id TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        UNIQUE (subject_id, student_id)
      );
      CREATE INDEX enrolments_student ON enrolments (org_id, student_id);

      CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL,
        subject_id TEXT NOT NULL,
        teacher_id TEXT NOT NULL,
        status TEXT NOT NULL,
        policy TEXT NOT NULL,
        starts_at INTEGER NOT NULL,
        late_after INTEGER NOT NULL,
        closes_at INTEGER NOT NULL,
        code_secret TEXT NOT NULL,
        day TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        closed_at INTEGER,
        closed_by TEXT,
        lease_owner TEXT,
        lease_until INTEGER
      );
      CREATE INDEX sessions_org_subject ON sessions (org_id, subject_id, starts_at);
      CREATE INDEX sessions_org_day ON sessions (org_id, day);
      CREATE INDEX sessions_due ON sessions (status, closes_at);

      CREATE TABLE records (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL,
        session_id TEXT NOT NULL,
        subject_id TEXT NOT NULL,
        student_id TEXT NOT NULL,
        status TEXT NOT NULL,
        reason TEXT,
        flags TEXT NOT NULL,
        distance_m REAL,
        location TEXT,
        ip TEXT,
        attempts INTEGER NOT NULL,
        submitted_at INTEGER,
        decided_at INTEGER,
        decided_by TEXT,
        note TEXT,
        verification TEXT,
        version INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        UNIQUE (session_id, student_id)
      );
      CREATE INDEX records_student ON records (org_id, student_id, created_at);

      CREATE TABLE summaries (
        org_id TEXT NOT NULL,
        subject_id TEXT NOT NULL,
        day TEXT NOT NULL,
        present INTEGER NOT NULL,
        late INTEGER NOT NULL,
        absent INTEGER NOT NULL,
        excused INTEGER NOT NULL,
        total INTEGER NOT NULL,
        percentage REAL NOT NULL,
        updated_at INTEGER NOT NULL,
        UNIQUE (subject_id, day)
      );

      -- seq keeps insertion order among entries with the same timestamp.
      CREATE TABLE audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        org_id TEXT NOT NULL,
        entity_type TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        session_id TEXT,
        actor_id TEXT,
        action TEXT NOT NULL,
        from_json TEXT,
        to_json TEXT,
        reason TEXT,
        ip TEXT,
        at INTEGER NOT NULL
      );
      CREATE INDEX audit_entity ON audit (org_id, entity_type, entity_id, at);
      CREATE INDEX audit_session ON audit (org_id, session_id, at);

      CREATE TABLE refresh_tokens (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        family_id TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        expires_at INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        rotated_at INTEGER,
        revoked_at INTEGER
      );
      CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
      CREATE INDEX refresh_tokens_user ON refresh_tokens (org_id, user_id);
      CREATE INDEX refresh_tokens_expiry ON refresh_tokens (expires_at);

      CREATE TABLE faces (
        org_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        model_id TEXT NOT NULL,
        model_version TEXT NOT NULL,
        embeddings TEXT NOT NULL,
        photos BLOB,
        updated_at INTEGER NOT NULL,
        UNIQUE (org_id, user_id)
      );
    `,
  },
  {
    version: 2,
    name: 'face proposals',
    sql: `
      CREATE TABLE face_proposals (
        org_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        model_id TEXT NOT NULL,
        model_version TEXT NOT NULL,
        embeddings TEXT NOT NULL,
        photos BLOB NOT NULL,
        proposed_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        UNIQUE (org_id, user_id)
      );
      CREATE INDEX face_proposals_created ON face_proposals (org_id, created_at);
    `,
  },
  {
    version: 3,
    name: 'organisation status and settings',
    sql: `
      ALTER TABLE organisations ADD COLUMN active INTEGER NOT NULL DEFAULT 1;
      ALTER TABLE organisations ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
    `,
  },
  {
    version: 4,
    name: 'accounts: set-password links, forced password change, login devices',
    sql: `
      CREATE TABLE account_tokens (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        purpose TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        expires_at INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        used_at INTEGER
      );
      CREATE INDEX account_tokens_user ON account_tokens (org_id, user_id);
      CREATE INDEX account_tokens_expiry ON account_tokens (expires_at);

      ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE refresh_tokens ADD COLUMN user_agent TEXT;
      ALTER TABLE refresh_tokens ADD COLUMN ip TEXT;
    `,
  },
  {
    version: 5,
    name: 'roster versions in the store',
    // Every record change so far counted once: a record at version v was changed v times.
    sql: `
      ALTER TABLE sessions ADD COLUMN roster_version INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE records ADD COLUMN roster_version INTEGER NOT NULL DEFAULT 0;
      UPDATE sessions SET roster_version = (SELECT coalesce(sum(version), 0) FROM records WHERE records.session_id = sessions.id);
    `,
  },
  {
    version: 6,
    name: 'report indexes',
    // At-risk lists and the dashboard add up an organisation's summaries over a day range; the
    // audit trail is read by the user who acted (scripts/bench-reports.ts times both).
    sql: `
      CREATE INDEX summaries_org_day ON summaries (org_id, day);
      CREATE INDEX audit_actor ON audit (org_id, actor_id, at);
    `,
  },
  {
    version: 8,
    name: 'consents',
    sql: `
      CREATE TABLE consents (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        purpose TEXT NOT NULL,
        text_version TEXT NOT NULL,
        given_by TEXT NOT NULL,
        guardian_name TEXT,
        recorded_by TEXT NOT NULL,
        given_at INTEGER NOT NULL,
        withdrawn_at INTEGER,
        withdrawn_by TEXT
      );
      CREATE INDEX consents_user ON consents (org_id, user_id, purpose, given_at);
    `,
  },
  {
    version: 9,
    name: 'leases of scheduled system jobs',
    sql: `
      CREATE TABLE jobs (
        name TEXT PRIMARY KEY,
        lease_owner TEXT,
        lease_until INTEGER,
        last_run_at INTEGER
      );
    `,
  },
  {
    version: 11,
    name: 'correction reason and device of records',
    // The reason staff gave for a correction after closing (roster, CSV); the device a check-in
    // came from (shared-device flag).
    sql: `
      ALTER TABLE records ADD COLUMN correction_reason TEXT;
      ALTER TABLE records ADD COLUMN device_id TEXT;
      ALTER TABLE records ADD COLUMN user_agent TEXT;
    `,
  },
  {
    version: 13,
    name: 'terms, holidays, meetings and their occurrences; teacher settings',
    // occurrences' primary key is what makes a timetable session be created once across nodes.
    sql: `
      CREATE TABLE terms (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL,
        name TEXT NOT NULL,
        start_day TEXT NOT NULL,
        end_day TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX terms_org ON terms (org_id, start_day);
      CREATE TABLE holidays (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL,
        name TEXT NOT NULL,
        start_day TEXT NOT NULL,
        end_day TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX holidays_org ON holidays (org_id, start_day);
      CREATE TABLE meetings (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL,
        subject_id TEXT NOT NULL,
        term_id TEXT NOT NULL,
        weekday INTEGER NOT NULL,
        start_time TEXT NOT NULL,
        end_time TEXT NOT NULL,
        teacher_id TEXT,
        preset TEXT,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX meetings_org_subject ON meetings (org_id, subject_id);
      CREATE TABLE occurrences (
        org_id TEXT NOT NULL,
        meeting_id TEXT NOT NULL,
        day TEXT NOT NULL,
        subject_id TEXT NOT NULL,
        state TEXT NOT NULL,
        session_id TEXT,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (meeting_id, day)
      );
      CREATE TABLE teacher_settings (
        org_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        timetable_open TEXT NOT NULL,
        PRIMARY KEY (org_id, user_id)
      );
    `,
  },
  {
    version: 14,
    name: 'webhook endpoints and deliveries',
    // seq (the rowid) orders the deliveries of one (endpoint, order key) queue.
    sql: `
      CREATE TABLE webhook_endpoints (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL,
        url TEXT NOT NULL,
        description TEXT,
        secret TEXT NOT NULL,
        events TEXT NOT NULL,
        active INTEGER NOT NULL,
        failing_since INTEGER,
        disabled_at INTEGER,
        disabled_reason TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX webhook_endpoints_org ON webhook_endpoints (org_id, created_at);
      CREATE TABLE webhook_deliveries (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        org_id TEXT NOT NULL,
        endpoint_id TEXT NOT NULL,
        event TEXT NOT NULL,
        order_key TEXT NOT NULL,
        body TEXT NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL,
        retry_until INTEGER NOT NULL,
        last_status INTEGER,
        last_error TEXT,
        lease_owner TEXT,
        lease_until INTEGER,
        created_at INTEGER NOT NULL,
        delivered_at INTEGER
      );
      CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
      CREATE INDEX webhook_deliveries_queue ON webhook_deliveries (endpoint_id, order_key, state, seq);
      CREATE TABLE webhook_attempts (
        delivery_id TEXT NOT NULL,
        org_id TEXT NOT NULL,
        at INTEGER NOT NULL,
        status_code INTEGER,
        error TEXT,
        duration_ms INTEGER NOT NULL
      );
      CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, at);
    `,
  },
  {
    version: 15,
    name: 'alert rules, their per-student state, notifications, email preferences and the email outbox',
    sql: `
      CREATE TABLE alert_rules (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        count INTEGER NOT NULL,
        threshold_pct REAL,
        window_days INTEGER,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX alert_rules_org ON alert_rules (org_id, created_at);
      CREATE TABLE alert_states (
        org_id TEXT NOT NULL,
        rule_id TEXT NOT NULL,
        subject_id TEXT NOT NULL,
        student_id TEXT NOT NULL,
        firing INTEGER NOT NULL,
        PRIMARY KEY (org_id, rule_id, subject_id, student_id)
      );
      CREATE TABLE notifications (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        category TEXT NOT NULL,
        alert TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        read_at INTEGER,
        seq INTEGER NOT NULL
      );
      CREATE INDEX notifications_user ON notifications (org_id, user_id, created_at, seq);
      CREATE INDEX notifications_unread ON notifications (org_id, user_id) WHERE read_at IS NULL;
      CREATE TABLE notification_preferences (
        org_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        language TEXT NOT NULL,
        unsubscribed TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (org_id, user_id)
      );
      CREATE TABLE outbox (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL,
        category TEXT NOT NULL,
        recipient TEXT NOT NULL,
        subject TEXT NOT NULL,
        text TEXT NOT NULL,
        html TEXT NOT NULL,
        headers TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        last_error TEXT,
        next_attempt_at INTEGER NOT NULL,
        claimed_by TEXT,
        claim_until INTEGER,
        created_at INTEGER NOT NULL,
        sent_at INTEGER
      );
      CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
      CREATE INDEX outbox_org ON outbox (org_id, created_at);
    `,
  },
  {
    version: 16,
    name: 'excuses, guardian contacts and the absence category of records',
    // The document's bytes live beside the excuse; list queries name their columns to skip them.
    sql: `
      ALTER TABLE records ADD COLUMN absence_category TEXT;
      CREATE TABLE excuses (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL,
        student_id TEXT NOT NULL,
        submitted_by TEXT NOT NULL,
        subject_id TEXT,
        session_id TEXT,
        from_day TEXT NOT NULL,
        to_day TEXT NOT NULL,
        category TEXT NOT NULL,
        text TEXT NOT NULL,
        document TEXT,
        document_bytes BLOB,
        status TEXT NOT NULL,
        decided_by TEXT,
        decided_at INTEGER,
        decision_note TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX excuses_student ON excuses (org_id, student_id, created_at);
      CREATE INDEX excuses_subject ON excuses (org_id, subject_id, created_at);
      CREATE INDEX excuses_covering ON excuses (org_id, status, student_id, from_day);
      CREATE TABLE guardian_contacts (
        org_id TEXT NOT NULL,
        student_id TEXT NOT NULL,
        contacts TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (org_id, student_id)
      );
    `,
  },
  {
    version: 17,
    name: 'oneroster objects',
    // The school information system's ids (sourcedId) of the users and subjects a OneRoster
    // import made, and the orgs and academic sessions it read: one row per object, one local
    // entity per sourcedId of a kind.
    sql: `
      CREATE TABLE oneroster_objects (
        org_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        sourced_id TEXT NOT NULL,
        entity_id TEXT,
        data TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (org_id, kind, sourced_id)
      );
      CREATE UNIQUE INDEX oneroster_objects_entity ON oneroster_objects (org_id, kind, entity_id) WHERE entity_id IS NOT NULL;
    `,
  },
  {
    version: 18,
    name: "teachers' session defaults",
    // NULL: the teacher never set it, and the organisation's setting applies.
    sql: `
      ALTER TABLE teacher_settings ADD COLUMN default_policy TEXT;
      ALTER TABLE teacher_settings ADD COLUMN late_grace_minutes INTEGER;
      ALTER TABLE teacher_settings ADD COLUMN code_period_s INTEGER;
    `,
  },
  {
    version: 19,
    name: 'records by session',
    // Without it the planner answered "org_id = ? AND session_id = ?" (the group commit's
    // peer read, the roster, the proxy peers) from records_student on org_id alone, reading
    // every record of the organisation: a check-in's cost grew with the term. The created_at,
    // id tail serves listBySession's ORDER BY without a sort.
    sql: `
      CREATE INDEX records_session ON records (org_id, session_id, created_at, id);
    `,
  },
  {
    version: 20,
    name: 'unsubscribes of guardian contacts',
    // A JSON array of '<category>:<email key>' beside the list, so replacing the list keeps it.
    sql: `
      ALTER TABLE guardian_contacts ADD COLUMN unsubscribed TEXT NOT NULL DEFAULT '[]';
    `,
  },
  {
    version: 21,
    name: 'meeting rooms',
    // A meeting's room over its subject's classroom (NULL / '[]': the subject's), the room a
    // session copies from its meeting or was opened with, and the meeting it was created from.
    sql: `
      ALTER TABLE meetings ADD COLUMN location TEXT;
      ALTER TABLE meetings ADD COLUMN allowed_ip_ranges TEXT NOT NULL DEFAULT '[]';
      ALTER TABLE sessions ADD COLUMN room TEXT;
      ALTER TABLE sessions ADD COLUMN meeting_id TEXT;
    `,
  },
  {
    version: 22,
    name: 'sessions by teacher',
    // One class at a time per teacher: every open by a teacher reads their open and scheduled
    // sessions (sessions.listActiveForTeacher), which without this scanned the organisation's.
    sql: `
      CREATE INDEX sessions_org_teacher ON sessions (org_id, teacher_id, status);
    `,
  },
  {
    version: 23,
    name: 'outbox emails for a user (invitations and resets)',
    // The user an account email is for: its set-password link is made at each attempt, never stored.
    sql: `
      ALTER TABLE outbox ADD COLUMN user_id TEXT;
    `,
  },
  {
    version: 24,
    name: 'records by session and roster version',
    // The group commit keeps each session's proxy-signal index on the node and reads only the
    // records changed since its last batch (records.listPeerMarksSince); also counts the
    // session's records from the index alone, to notice deletions.
    sql: `
      CREATE INDEX records_session_roster ON records (org_id, session_id, roster_version);
    `,
  },
  {
    version: 25,
    name: "the organisation's audit trail by time",
    // An admin's audit page without a selector (the organisation's whole trail, by day range):
    // without it the planner read the organisation's entries through audit_actor and sorted
    // them all for one page. seq is the rowid, so the index also gives "ORDER BY at, seq".
    // Not (org_id, action, at) too: every check-in appends an entry, and a second new index
    // took a batched append from 20.4 to 23.6 µs of CPU an entry (19.0 without this one).
    sql: `
      CREATE INDEX audit_org_at ON audit (org_id, at);
    `,
  },
  {
    version: 26,
    name: 'one index of records by session',
    // Since 24 every query of a session's records chose records_session_roster, on the same
    // (org_id, session_id) prefix, but listBySession, whose ORDER BY created_at, id records_session
    // spared a sort of one session's records. Each check-in paid for it in the record writer's
    // commit: about 0.7 of 7.6 pages written to the WAL, 5 % of its CPU (scripts/bench-record-writer.ts;
    // docs/multi-node.md, "Load").
    sql: `
      DROP INDEX IF EXISTS records_session;
    `,
  },
  {
    version: 27,
    name: 'read versions of the directory',
    // A number per organisation and table that every stored change of its users, subjects,
    // enrolments or sessions moves on, whoever writes (this process, another node, the admin
    // CLI, a later migration): the check-in reads keep sessions, subjects, enrolments and names
    // on the node while theirs has not moved (src/domain/checkins/checkin-reads.ts). Triggers, so
    // no write path can forget it; one per table, so opening a session does not drop the names.
    // A session's roster counter and the scheduler's lease are left out: every group commit moves
    // the one, and the check-in reads use neither. A row is never deleted, so a version never comes
    // back (a read kept under it cannot pass for a newer one).
    sql: `
      CREATE TABLE read_versions (
        org_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        version INTEGER NOT NULL,
        PRIMARY KEY (org_id, kind)
      ) WITHOUT ROWID;
${readVersionTriggers('users')}${readVersionTriggers('subjects')}${readVersionTriggers('enrolments')}${readVersionTriggers(
      'sessions',
      ` OF id, org_id, subject_id, teacher_id, status, policy, starts_at, late_after, closes_at, code_secret,
          day, created_at, updated_at, closed_at, closed_by, room, meeting_id`,
    )}    `,
  },
  {
    version: 28,
    name: 'users by student number',
    // users.getByStudentNumbers (the guardian and students CSV imports resolve their rows by it, 500
    // numbers a query) searched the organisation's users through users_org_role, every row of them.
    sql: `
      CREATE INDEX IF NOT EXISTS users_org_student_number ON users (org_id, student_number);
    `,
  },
  {
    version: 29,
    name: 'preference language may follow the organisation',
    // A user's language was required (English by default); NULL now means the organisation's
    // default (settings.language). SQLite cannot drop NOT NULL in place, so the table is copied.
    // Rows keep their language: a stored 'en' was a choice or the old default, and nothing tells which.
    sql: `
      CREATE TABLE notification_preferences_new (
        org_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        language TEXT,
        unsubscribed TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (org_id, user_id)
      );
      INSERT INTO notification_preferences_new (org_id, user_id, language, unsubscribed, updated_at)
        SELECT org_id, user_id, language, unsubscribed, updated_at FROM notification_preferences;
      DROP TABLE notification_preferences;
      ALTER TABLE notification_preferences_new RENAME TO notification_preferences;
    `,
  },
  {
    version: 30,
    name: "a meeting's revision",
    // How many edits of a meeting have completed, moved in the same write as the edit; until now
    // counted from the subject's meeting.update audit entries on every edit and refusal. Backfilled
    // from that count, so an edit in progress across the upgrade keeps its key (edit-trail.ts).
    sql: `
      ALTER TABLE meetings ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
      UPDATE meetings SET revision = (
        SELECT count(*) FROM audit a
         WHERE a.org_id = meetings.org_id AND a.entity_type = 'subject' AND a.entity_id = meetings.subject_id
           AND a.action = 'meeting.update' AND json_extract(a.from_json, '$.id') = meetings.id
      );
    `,
  },
  {
    version: 31,
    name: "audit_actor without a student's check-ins",
    // Each check-in's entry put a row in audit_actor keyed by the student's random id, a leaf page
    // of its own per check-in: 1.45 of the 5.8 pages a check-in wrote to the WAL (docs/multi-node.md,
    // "Load"). The page by actor reaches a check-in's entry through its record instead
    // (records_student, then audit_entity: reports.ts auditQuery), so the index leaves it out while
    // the record is there and its student is the entry's actor. \`orphaned\` puts an entry back
    // when that stops holding: set by the triggers below whenever a record is removed or changes
    // student (records.remove, the erasure, an import over it), in the same statement's
    // transaction. An entry marked too eagerly is only an index row more; one left unmarked and
    // unreachable would be missing from its actor's page.
    sql: `
      ALTER TABLE audit ADD COLUMN orphaned INTEGER NOT NULL DEFAULT 0;
      UPDATE audit SET orphaned = 1
       WHERE action = 'checkin.submit'
         AND NOT (entity_type = 'record' AND EXISTS (
           SELECT 1 FROM records r WHERE r.id = audit.entity_id AND r.org_id = audit.org_id AND r.student_id = audit.actor_id));
      DROP INDEX audit_actor;
      CREATE INDEX audit_actor ON audit (org_id, actor_id, at) WHERE action <> 'checkin.submit' OR orphaned = 1;
      CREATE TRIGGER records_orphan_checkin_entries AFTER DELETE ON records BEGIN
        UPDATE audit SET orphaned = 1
         WHERE org_id = OLD.org_id AND entity_type = 'record' AND entity_id = OLD.id AND action = 'checkin.submit' AND orphaned = 0;
      END;
      CREATE TRIGGER records_restudent_checkin_entries AFTER UPDATE OF id, org_id, student_id ON records
       WHEN OLD.id IS NOT NEW.id OR OLD.org_id IS NOT NEW.org_id OR OLD.student_id IS NOT NEW.student_id BEGIN
        UPDATE audit SET orphaned = 1
         WHERE org_id = OLD.org_id AND entity_type = 'record' AND entity_id = OLD.id AND action = 'checkin.submit' AND orphaned = 0
           AND (actor_id IS NOT NEW.student_id OR NEW.org_id IS NOT OLD.org_id OR NEW.id IS NOT OLD.id);
      END;
      CREATE TRIGGER audit_orphan_checkin_entry AFTER UPDATE OF org_id, entity_type, entity_id, actor_id, action ON audit
       WHEN NEW.action = 'checkin.submit' AND NEW.orphaned = 0 AND NOT (NEW.entity_type = 'record' AND EXISTS (
         SELECT 1 FROM records r WHERE r.id = NEW.entity_id AND r.org_id = NEW.org_id AND r.student_id = NEW.actor_id)) BEGIN
        UPDATE audit SET orphaned = 1 WHERE seq = NEW.seq;
      END;
    `,
  },
  {
    version: 32,
    name: "a session's mark of the meeting edit that cancelled it",
    // Until now only the cancellation's audit entry carried the mark, written after the session:
    // a crash in between left the edit's cancellation unmarked. Backfilled from that entry; a
    // session of a meeting cancelled with no entry at all is marked UNAUDITED_CANCEL
    // (src/domain/ports/sessions.ts), as nothing tells whether an edit or a hand cancel stopped
    // there. The read-version triggers name the new column (migration 27's rule).
    sql: `
      ALTER TABLE sessions ADD COLUMN meeting_edit TEXT;
      UPDATE sessions SET meeting_edit = (
        SELECT json_extract(a.to_json, '$.meetingEdit') FROM audit a
         WHERE a.org_id = sessions.org_id AND a.session_id = sessions.id AND a.action = 'session.cancel'
         ORDER BY a.at DESC, a.seq DESC LIMIT 1
      )
       WHERE status = 'cancelled' AND meeting_id IS NOT NULL;
      UPDATE sessions SET meeting_edit = 'unaudited'
       WHERE status = 'cancelled' AND meeting_id IS NOT NULL AND NOT EXISTS (
         SELECT 1 FROM audit a WHERE a.org_id = sessions.org_id AND a.session_id = sessions.id AND a.action = 'session.cancel'
       );
      DROP TRIGGER read_versions_sessions_insert;
      DROP TRIGGER read_versions_sessions_update;
      DROP TRIGGER read_versions_sessions_delete;
${readVersionTriggers(
  'sessions',
  ` OF id, org_id, subject_id, teacher_id, status, policy, starts_at, late_after, closes_at, code_secret,
          day, created_at, updated_at, closed_at, closed_by, room, meeting_id, meeting_edit`,
)}    `,
  },
  {
    version: 33,
    name: 'standing version of an organisation',
    // A number per organisation that every stored change of who may act in it moves on, whoever
    // writes (this process, another node, the admin CLI): a role, a deactivation, a required new
    // password, a deleted user or organisation, a login ended. Nodes keep each socket's acting
    // user while it stands (src/realtime/current-actor.ts) instead of reading it again every
    // second. Kept in read_versions under its own kind, which the directory's reads ignore; the
    // WHEN clauses leave out updates that name the columns without changing them (an edit form
    // writes them all), and a new login (an insert) changes nobody's standing.
    sql: `
${standingTrigger(
  'users_update',
  `UPDATE OF org_id, role, active, must_change_password ON users
       WHEN NEW.org_id IS NOT OLD.org_id OR NEW.role IS NOT OLD.role OR NEW.active IS NOT OLD.active
         OR NEW.must_change_password IS NOT OLD.must_change_password`,
  'OLD.org_id',
  'NEW.org_id',
)}${standingTrigger('users_delete', 'DELETE ON users', 'OLD.org_id')}${standingTrigger(
      'organisations_update',
      'UPDATE OF active ON organisations WHEN NEW.active IS NOT OLD.active',
      'NEW.id',
    )}${standingTrigger('organisations_delete', 'DELETE ON organisations', 'OLD.id')}${standingTrigger(
      'refresh_tokens_revoked',
      'UPDATE OF revoked_at ON refresh_tokens WHEN NEW.revoked_at IS NOT OLD.revoked_at',
      'NEW.org_id',
    )}    `,
  },
  {
    version: 34,
    // The outbox page's search by recipient (an address or its start, case ignored: LIKE's
    // NOCASE) scanned every email of the organisation: 341 ms for one address among 100 000
    // emails, 0.3 ms with this index (pairs alternated, load 16). Its collation is LIKE's, so
    // SQLite's LIKE optimisation can use it.
    name: 'outbox emails by recipient',
    sql: `CREATE INDEX outbox_org_recipient ON outbox (org_id, recipient COLLATE NOCASE);`,
  },
  {
    version: 35,
    // A new school year: last year's subjects archived keep their records but leave the default
    // lists. No index: a school has hundreds of subjects, read a page at a time by code.
    name: "a subject's archiving",
    sql: `ALTER TABLE subjects ADD COLUMN archived_at INTEGER;`,
  },
  {
    version: 36,
    // The once-a-minute search for selfie verifications lost with their node read every record
    // of the last day's sessions on the event loop (about 200 ms at 300,000 records): only the
    // records whose verification is still queued, a handful, are in this index.
    name: 'records whose selfie verification is queued',
    sql: `CREATE INDEX records_verification_queued ON records (submitted_at, id)
      WHERE status = 'pending' AND json_extract(verification, '$.state') = 'queued';`,
  },
  {
    version: 37,
    // A double tap on "Send" gave a student two pending excuses of one scope, each to be decided.
    // The student's one pending excuse of a scope holds its key (pendingScopeKey in
    // src/domain/ports/excuses.ts, spelled here in SQL), a decision clears it, and the unique index
    // refuses a second insert of the key. Of the scopes already pending more than once, the oldest
    // excuse takes the key and the others stay pending without one, to be decided as before.
    name: "a student's one pending excuse of a scope",
    sql: `
      ALTER TABLE excuses ADD COLUMN pending_key TEXT;
      UPDATE excuses SET pending_key = k.pending_key
        FROM (
          SELECT id, pending_key, row_number() OVER (PARTITION BY org_id, pending_key ORDER BY created_at, id) AS nth
            FROM (SELECT id, org_id, created_at,
                         CASE WHEN session_id IS NOT NULL THEN student_id || '|session|' || session_id
                              ELSE student_id || '|days|' || coalesce(subject_id, '*') || '|' || from_day || '|' || to_day END AS pending_key
                    FROM excuses WHERE status = 'pending')
        ) AS k
       WHERE k.id = excuses.id AND k.nth = 1;
      CREATE UNIQUE INDEX excuses_pending ON excuses (org_id, pending_key) WHERE pending_key IS NOT NULL;
    `,
  },
  {
    version: 38,
    // Two indexes of records were keyed by the student: the unique key (session_id, student_id)
    // at random among a session's entries, and records_student (org_id, student_id, created_at) at
    // random among the organisation's. Each dirtied a leaf page of its own per check-in in the
    // record writer's commit: 1.4 and 1.4 of the 4.3 pages a check-in wrote to the WAL
    // (docs/multi-node.md, "Load", round 28). The key's columns swapped, (student_id, session_id)
    // is the same uniqueness and serves both: a student's records by its first column, a record
    // by both. A session's records are read through records_session_roster, which has the
    // session's organisation. SQLite cannot change a table's constraint in place, so the table is
    // copied (rowids kept); its indexes are made again as before, and the audit trigger that
    // reads records is dropped while the table is renamed.
    // audit_session leaves out a check-in's entry while its record leads to it, as audit_actor
    // does since 31 (0.4 to 1 page per check-in, by the sessions a batch spans): a session's
    // trail reaches those through the session's records (records_session_roster, then
    // audit_entity: reports.ts). \`orphaned\` now also means the record is another session's:
    // the triggers are made again watching session_id too, and the entries already stored are
    // marked by the same rule.
    name: 'the unique key of records by student first, records_student dropped; audit_session without check-ins',
    sql: `
      CREATE TABLE records_new (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL,
        session_id TEXT NOT NULL,
        subject_id TEXT NOT NULL,
        student_id TEXT NOT NULL,
        status TEXT NOT NULL,
        reason TEXT,
        flags TEXT NOT NULL,
        distance_m REAL,
        location TEXT,
        ip TEXT,
        attempts INTEGER NOT NULL,
        submitted_at INTEGER,
        decided_at INTEGER,
        decided_by TEXT,
        note TEXT,
        verification TEXT,
        version INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        roster_version INTEGER NOT NULL DEFAULT 0,
        correction_reason TEXT,
        device_id TEXT,
        user_agent TEXT,
        absence_category TEXT,
        UNIQUE (student_id, session_id)
      );
      INSERT INTO records_new (rowid, ${RECORD_COLUMNS})
        SELECT rowid, ${RECORD_COLUMNS} FROM records;
      DROP TRIGGER audit_orphan_checkin_entry;
      DROP TABLE records;
      ALTER TABLE records_new RENAME TO records;
      CREATE INDEX records_session_roster ON records (org_id, session_id, roster_version);
      CREATE INDEX records_verification_queued ON records (submitted_at, id)
        WHERE status = 'pending' AND json_extract(verification, '$.state') = 'queued';
      CREATE TRIGGER records_orphan_checkin_entries AFTER DELETE ON records BEGIN
        UPDATE audit SET orphaned = 1
         WHERE org_id = OLD.org_id AND entity_type = 'record' AND entity_id = OLD.id AND action = 'checkin.submit' AND orphaned = 0;
      END;
      CREATE TRIGGER records_restudent_checkin_entries AFTER UPDATE OF id, org_id, student_id, session_id ON records
       WHEN OLD.id IS NOT NEW.id OR OLD.org_id IS NOT NEW.org_id OR OLD.student_id IS NOT NEW.student_id
         OR OLD.session_id IS NOT NEW.session_id BEGIN
        UPDATE audit SET orphaned = 1
         WHERE org_id = OLD.org_id AND entity_type = 'record' AND entity_id = OLD.id AND action = 'checkin.submit' AND orphaned = 0
           AND (actor_id IS NOT NEW.student_id OR session_id IS NOT NEW.session_id OR NEW.org_id IS NOT OLD.org_id OR NEW.id IS NOT OLD.id);
      END;
      CREATE TRIGGER audit_orphan_checkin_entry AFTER UPDATE OF org_id, entity_type, entity_id, actor_id, action, session_id ON audit
       WHEN NEW.action = 'checkin.submit' AND NEW.orphaned = 0 AND NOT (NEW.entity_type = 'record' AND EXISTS (
         SELECT 1 FROM records r WHERE r.id = NEW.entity_id AND r.org_id = NEW.org_id AND r.student_id = NEW.actor_id
           AND r.session_id IS NEW.session_id)) BEGIN
        UPDATE audit SET orphaned = 1 WHERE seq = NEW.seq;
      END;
      UPDATE audit SET orphaned = 1
       WHERE action = 'checkin.submit' AND orphaned = 0
         AND NOT (entity_type = 'record' AND EXISTS (
           SELECT 1 FROM records r WHERE r.id = audit.entity_id AND r.org_id = audit.org_id AND r.student_id = audit.actor_id
             AND r.session_id IS audit.session_id));
      DROP INDEX audit_session;
      CREATE INDEX audit_session ON audit (org_id, session_id, at) WHERE action <> 'checkin.submit' OR orphaned = 1;
    `,
  },
  {
    version: 39,
    // A roll-over retried reads whether each new subject's class was carried from its
    // subject.rollover entries (audit.listRollovers): through audit_entity that was the subject's
    // whole trail (every enrolment and meeting entry) per row. This index holds those entries alone.
    name: "subjects' roll-over entries",
    sql: `
      CREATE INDEX audit_rollover ON audit (org_id, entity_id, at) WHERE action = 'subject.rollover';
    `,
  },
  {
    version: 40,
    // Two imports of one week at once (a double click, a retry after a timeout, two admins) each
    // read "not there yet" and both added every meeting. The store now keeps a meeting once in
    // its organisation, all its fields the key (meetingNaturalKey). Networks are made a sorted
    // set first (their order says nothing, and the index compares the text); of equal meetings
    // the oldest stays, and takes the days the others' occurrences held that it does not hold
    // itself (a session made for the day stays the day's), the rest of their occurrences going
    // with them; their sessions name the keeper (an edit or delete of it still follows that
    // day's session). Occurrences of meetings deleted before deletes took them go too: they were read
    // by nothing, and would hold the days of a meeting that comes back with its id (a roll-over's copy).
    name: "a meeting once in its organisation; a deleted meeting's occurrences gone with it",
    sql: `
      UPDATE meetings SET allowed_ip_ranges = '[]' WHERE allowed_ip_ranges IS NULL;
      UPDATE meetings
        SET allowed_ip_ranges = (SELECT json_group_array(value ORDER BY value) FROM (SELECT DISTINCT value FROM json_each(meetings.allowed_ip_ranges)))
        WHERE json_array_length(allowed_ip_ranges) > 1;
      CREATE TEMP TABLE meeting_keepers AS
        SELECT id, first_value(id) OVER (
          PARTITION BY org_id, subject_id, term_id, weekday, start_time, end_time, IFNULL(teacher_id, ''), IFNULL(preset, ''),
            IFNULL(location, ''), allowed_ip_ranges
          ORDER BY created_at, id
        ) AS keeper FROM meetings;
      DELETE FROM meeting_keepers WHERE id = keeper;
      UPDATE OR IGNORE occurrences SET meeting_id = (SELECT keeper FROM meeting_keepers WHERE id = occurrences.meeting_id)
        WHERE meeting_id IN (SELECT id FROM meeting_keepers);
      DELETE FROM occurrences WHERE meeting_id IN (SELECT id FROM meeting_keepers);
      UPDATE sessions SET meeting_id = (SELECT keeper FROM meeting_keepers WHERE id = sessions.meeting_id)
        WHERE meeting_id IN (SELECT id FROM meeting_keepers);
      DELETE FROM meetings WHERE id IN (SELECT id FROM meeting_keepers);
      DROP TABLE meeting_keepers;
      DELETE FROM occurrences WHERE meeting_id NOT IN (SELECT id FROM meetings);
      CREATE UNIQUE INDEX meetings_natural_key ON meetings (org_id, subject_id, term_id, weekday, start_time, end_time,
        IFNULL(teacher_id, ''), IFNULL(preset, ''), IFNULL(location, ''), allowed_ip_ranges);
    `,
  },
  {
    version: 41,
    // seq was AUTOINCREMENT, which keeps the highest seq ever used in sqlite_sequence: each
    // insert read and wrote that row, a page of its own in every commit of the record writer
    // (one per batch) and 0.6 µs of CPU per entry (docs/multi-node.md, "Load", round 29). A plain
    // INTEGER PRIMARY KEY takes the largest seq stored plus one, the same number while no entry is
    // ever deleted, and none is (the erasure and retention rewrite entries, nothing removes one):
    // seq still orders the entries of one instant by insertion, and still names an entry (the
    // trigger below, the transfer's export by rowid). SQLite cannot drop AUTOINCREMENT in place,
    // so the table is copied with its seq; its indexes and the triggers that name it are made
    // again as migrations 31 to 39 left them (the records' triggers would stop the rename while
    // no table is called audit).
    name: 'the audit trail without AUTOINCREMENT',
    sql: `
      CREATE TABLE audit_new (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        org_id TEXT NOT NULL,
        entity_type TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        session_id TEXT,
        actor_id TEXT,
        action TEXT NOT NULL,
        from_json TEXT,
        to_json TEXT,
        reason TEXT,
        ip TEXT,
        at INTEGER NOT NULL,
        orphaned INTEGER NOT NULL DEFAULT 0
      );
      INSERT INTO audit_new (seq, id, org_id, entity_type, entity_id, session_id, actor_id, action, from_json, to_json, reason, ip, at, orphaned)
        SELECT seq, id, org_id, entity_type, entity_id, session_id, actor_id, action, from_json, to_json, reason, ip, at, orphaned
          FROM audit ORDER BY seq;
      DROP TRIGGER records_orphan_checkin_entries;
      DROP TRIGGER records_restudent_checkin_entries;
      DROP TABLE audit;
      ALTER TABLE audit_new RENAME TO audit;
      CREATE INDEX audit_entity ON audit (org_id, entity_type, entity_id, at);
      CREATE INDEX audit_org_at ON audit (org_id, at);
      CREATE INDEX audit_actor ON audit (org_id, actor_id, at) WHERE action <> 'checkin.submit' OR orphaned = 1;
      CREATE INDEX audit_session ON audit (org_id, session_id, at) WHERE action <> 'checkin.submit' OR orphaned = 1;
      CREATE INDEX audit_rollover ON audit (org_id, entity_id, at) WHERE action = 'subject.rollover';
      CREATE TRIGGER records_orphan_checkin_entries AFTER DELETE ON records BEGIN
        UPDATE audit SET orphaned = 1
         WHERE org_id = OLD.org_id AND entity_type = 'record' AND entity_id = OLD.id AND action = 'checkin.submit' AND orphaned = 0;
      END;
      CREATE TRIGGER records_restudent_checkin_entries AFTER UPDATE OF id, org_id, student_id, session_id ON records
       WHEN OLD.id IS NOT NEW.id OR OLD.org_id IS NOT NEW.org_id OR OLD.student_id IS NOT NEW.student_id
         OR OLD.session_id IS NOT NEW.session_id BEGIN
        UPDATE audit SET orphaned = 1
         WHERE org_id = OLD.org_id AND entity_type = 'record' AND entity_id = OLD.id AND action = 'checkin.submit' AND orphaned = 0
           AND (actor_id IS NOT NEW.student_id OR session_id IS NOT NEW.session_id OR NEW.org_id IS NOT OLD.org_id OR NEW.id IS NOT OLD.id);
      END;
      CREATE TRIGGER audit_orphan_checkin_entry AFTER UPDATE OF org_id, entity_type, entity_id, actor_id, action, session_id ON audit
       WHEN NEW.action = 'checkin.submit' AND NEW.orphaned = 0 AND NOT (NEW.entity_type = 'record' AND EXISTS (
         SELECT 1 FROM records r WHERE r.id = NEW.entity_id AND r.org_id = NEW.org_id AND r.student_id = NEW.actor_id
           AND r.session_id IS NEW.session_id)) BEGIN
        UPDATE audit SET orphaned = 1 WHERE seq = NEW.seq;
      END;
    `,
  },
  {
    version: 42,
    // The admins' list of upcoming sessions whose teacher can no longer run them (docs/authorization.md,
    // "Sessions left without a teacher") is computed from the organisation's scheduled sessions
    // (sessions.listScheduled); without this it scanned every session the organisation ever had.
    name: 'scheduled sessions of an organisation',
    sql: `
      CREATE INDEX sessions_org_status_start ON sessions (org_id, status, starts_at, id);
    `,
  },
  {
    version: 43,
    // Every clash check (one class at a time per teacher: an opening, a widening, each session a
    // timetable run creates) read all the teacher's open and scheduled sessions, the whole horizon,
    // and kept the few of other subjects overlapping the window (sessions.listActiveForTeacherDuring).
    // With the start after the status it reads a range of starts instead, and with the subject the
    // checked subject's own sessions (a room's parallel ones) are passed over in the index, never
    // read from the table. listActiveForTeacher is served as before by its first columns, so the
    // old index goes rather than cost every session write a second one.
    name: "a teacher's sessions by start",
    sql: `
      DROP INDEX sessions_org_teacher;
      CREATE INDEX sessions_org_teacher_start ON sessions (org_id, teacher_id, status, starts_at, subject_id);
    `,
  },
  {
    version: 44,
    // A student's live list and every reconnect read their subjects' active sessions
    // (sessions.listActiveForSubjects) through sessions_org_subject, every session the subjects
    // ever had (about 150 each late in the year) for the few open or scheduled ones. This index
    // holds only those, so it stays small and a closing costs one entry removed. SQLite takes it
    // only for a query whose WHERE has this status term word for word (ACTIVE_SESSION_STATES, in
    // its order): test/unit/store/sqlite-session-indexes.test.ts checks that it still does.
    name: "a subject's active sessions",
    sql: `
      CREATE INDEX sessions_org_subject_active ON sessions (org_id, subject_id, starts_at) WHERE status IN ('scheduled', 'open');
    `,
  },
];

/**
 * The file was migrated by a newer release than this one (typically a rollback after an
 * upgrade): this release's queries may not fit its schema, so it does not start on it.
 */
export class SchemaTooNewError extends Error {
  constructor(
    readonly version: number,
    readonly known: number,
  ) {
    super(
      `the database has schema version ${version}, newer than this release knows (${known}): a newer release upgraded it. ` +
        'Start that release again, or restore the backup taken before the upgrade (docs/backup.md, README "Upgrading")',
    );
    this.name = 'SchemaTooNewError';
  }
}

/**
 * Applies every migration newer than the database's; returns the versions it applied. `migrated`
 * hears the run when it applied any (the start's log line).
 */
export function applyMigrations(
  db: Database,
  migrations: readonly Migration[] = MIGRATIONS,
  migrated?: (m: SchemaMigrated) => void,
): number[] {
  const start = performance.now();
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  )`);
  const newest = (db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0;
  const known = Math.max(0, ...migrations.map((m) => m.version));
  if (newest > known) throw new SchemaTooNewError(newest, known);
  const applied: number[] = [];
  const isApplied = db.prepare<[number], { version: number }>('SELECT version FROM schema_migrations WHERE version = ?');
  const record = db.prepare<[number, string, number]>('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    // IMMEDIATE takes the write lock before the check, so two processes opening the same file
    // cannot both apply one migration.
    db.transaction(() => {
      if (isApplied.get(m.version)) return;
      db.exec(m.sql);
      record.run(m.version, m.name, Date.now());
      applied.push(m.version);
    }).immediate();
  }
  if (applied.length > 0) migrated?.({ from: newest, to: Math.max(newest, ...applied), versions: applied, ms: performance.now() - start });
  return applied;
}

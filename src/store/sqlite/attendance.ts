import { newTimeOrderedId } from '../../shared/ids.js';
import { newSessionEntity } from '../new-entities.js';
import { ActorGoneError, LeaseLostError, StoreBusyError, StoreConflictError, type LeaseFence } from '../../domain/ports/common.js';
import { renewFence, writeUnderFence } from './jobs.js';
import {
  type AttendanceRecord,
  type NewRecord,
  type PeerMarkChanges,
  type PeerMarksUnchanged,
  type PeerMarkWant,
  type RecordPatch,
  type RecordRepository,
  type RecordWrite,
  type RecordWriteResult,
  type VersionedPeerMark,
  PROXY_PEERS_PER_CRITERION,
} from '../../domain/ports/records.js';
import {
  LONGEST_SESSION_MS,
  type NewSession,
  type SessionFilter,
  type SessionRepository,
  type SessionWindow,
} from '../../domain/ports/sessions.js';
import { isBusy, isDatabaseWide, mapConflicts, toConflict, type SqliteDb } from './db.js';
import { definedOnly } from './directory.js';
import { audit, auditValues, REACHED_BY_RECORD } from './audit-mappers.js';
import { recordAuditEntry } from '../../domain/checkins/record-audit.js';
import { insertSql, sqlWords, type Row } from './common-mappers.js';
import { records, recordValues } from './record-mappers.js';
import { sessions } from './session-mappers.js';
import { ACTIVE_SESSION_STATES, UNCLOSED_SESSION_STATES } from '../../shared/events.js';
import { totalFromPage } from '../../domain/paging.js';

const ACTIVE = sqlWords(ACTIVE_SESSION_STATES);
const UNCLOSED = sqlWords(UNCLOSED_SESSION_STATES);

// Sessions (with the scheduler's lease) and attendance records.

const TRANSITION_FIELDS = [
  'status',
  'closesAt',
  'lateAfter',
  'closedAt',
  'closedBy',
  'startsAt',
  'teacherId',
  'policy',
  'room',
  'meetingEdit',
] as const;
const TRANSITION_COLUMNS: Record<(typeof TRANSITION_FIELDS)[number], string> = {
  status: 'status',
  closesAt: 'closes_at',
  lateAfter: 'late_after',
  closedAt: 'closed_at',
  closedBy: 'closed_by',
  startsAt: 'starts_at',
  teacherId: 'teacher_id',
  policy: 'policy',
  room: 'room',
  meetingEdit: 'meeting_edit',
};

/** The organisation's upcoming classes (sessions.listScheduled), through sessions_org_status_start (migration 42). */
export const SCHEDULED_SESSIONS = `SELECT * FROM sessions WHERE org_id = ? AND status = 'scheduled' AND starts_at > ? ORDER BY starts_at, id`;

/**
 * The subjects' active sessions (sessions.listActiveForSubjects: a student's live list, each
 * reconnect), through sessions_org_subject_active (migration 44), which holds no closed session.
 * Its status term is that index's WHERE word for word, or SQLite would not take it.
 */
export const SUBJECT_ACTIVE_SESSIONS = `SELECT * FROM sessions WHERE org_id = ? AND status IN (${ACTIVE})
  AND subject_id IN (SELECT value FROM json_each(?)) ORDER BY starts_at, id`;

/**
 * The active sessions sharing an instant with [@startsAt, @closesAt): those starting in
 * (@startsAt - LONGEST_SESSION_MS, @closesAt) and closing after @startsAt. The lower bound makes
 * the start a range of the index (a session starting earlier has closed by @startsAt).
 */
const DURING = `starts_at > @earliest AND starts_at < @closesAt AND closes_at > @startsAt ORDER BY starts_at, id`;
/**
 * A subject's, through sessions_org_subject (org_id, subject_id, starts_at). The status is not
 * an index term (+status): by it the planner took sessions_org_status_start, every subject's
 * active sessions of the organisation in that range. Nor can it take sessions_org_subject_active
 * (its WHERE is not this term): the window's range of starts already holds few sessions.
 */
export const SUBJECT_SESSIONS_DURING = `SELECT * FROM sessions WHERE org_id = @orgId
  AND subject_id IN (SELECT value FROM json_each(@subjectIds)) AND +status IN (${ACTIVE}) AND ${DURING}`;
/**
 * A teacher's, but those of @exceptSubjectId (NULL: none), through sessions_org_teacher_start
 * (migration 43), which holds the subject: the rows left out are never read from the table.
 */
export const TEACHER_SESSIONS_DURING = `SELECT * FROM sessions WHERE org_id = @orgId AND teacher_id = @teacherId
  AND status IN (${ACTIVE}) AND subject_id IS NOT @exceptSubjectId AND ${DURING}`;

const duringParams = (w: SessionWindow) => ({
  startsAt: w.startsAt.getTime(),
  closesAt: w.closesAt.getTime(),
  earliest: w.startsAt.getTime() - LONGEST_SESSION_MS,
});

export function sessionRepository(db: SqliteDb, clock: () => Date): SessionRepository {
  const insert = insertSql(sessions, false);
  return {
    async create(orgId, input: NewSession, fence) {
      const s = newSessionEntity(orgId, input, clock());
      // The leases renewed in the insert's transaction: no other writer comes between them.
      mapConflicts(() =>
        db.tx(() => {
          if (fence) renewFence(db, fence);
          db.stmt(insert).run(sessions.toRow(s));
        }),
      );
      return s;
    },
    async get(orgId, id) {
      const r = db.stmt('SELECT * FROM sessions WHERE org_id = ? AND id = ?').get(orgId, id);
      return r ? sessions.fromRow(r) : null;
    },
    async list(orgId, f: SessionFilter) {
      const where = ['org_id = @orgId'];
      const params: Row = { orgId };
      if (f.subjectId !== undefined) {
        where.push('subject_id = @subjectId');
        params.subjectId = f.subjectId;
      }
      if (f.status !== undefined) {
        where.push('status IN (SELECT value FROM json_each(@status))');
        params.status = JSON.stringify(f.status);
      }
      if (f.fromDay !== undefined) {
        where.push('day >= @fromDay');
        params.fromDay = f.fromDay;
      }
      if (f.toDay !== undefined) {
        where.push('day <= @toDay');
        params.toDay = f.toDay;
      }
      const w = where.join(' AND ');
      const rows = db
        .stmt(`SELECT * FROM sessions WHERE ${w} ORDER BY starts_at DESC, created_at DESC, id LIMIT @limit OFFSET @offset`)
        .all({ ...params, limit: f.limit, offset: f.offset });
      const total = totalFromPage(rows.length, f) ?? db.stmt<{ n: number }>(`SELECT count(*) AS n FROM sessions WHERE ${w}`).get(params)!.n;
      return { items: rows.map(sessions.fromRow), total };
    },
    async listActiveForSubjects(orgId, subjectIds) {
      if (subjectIds.length === 0) return [];
      return db.stmt(SUBJECT_ACTIVE_SESSIONS).all(orgId, JSON.stringify(subjectIds)).map(sessions.fromRow);
    },
    async listActiveForTeacher(orgId, teacherId) {
      return db
        .stmt(`SELECT * FROM sessions WHERE org_id = ? AND teacher_id = ? AND status IN (${ACTIVE}) ORDER BY starts_at, id`)
        .all(orgId, teacherId)
        .map(sessions.fromRow);
    },
    async listActiveForSubjectsDuring(orgId, subjectIds, window) {
      if (subjectIds.length === 0) return [];
      return db
        .stmt(SUBJECT_SESSIONS_DURING)
        .all({ orgId, subjectIds: JSON.stringify(subjectIds), ...duringParams(window) })
        .map(sessions.fromRow);
    },
    async listActiveForTeacherDuring(orgId, teacherId, window, exceptSubjectId) {
      return db
        .stmt(TEACHER_SESSIONS_DURING)
        .all({ orgId, teacherId, exceptSubjectId: exceptSubjectId ?? null, ...duringParams(window) })
        .map(sessions.fromRow);
    },
    async listScheduled(orgId, after) {
      return db.stmt(SCHEDULED_SESSIONS).all(orgId, after.getTime()).map(sessions.fromRow);
    },
    async transition(orgId, id, from, patch, fence) {
      if (from.length === 0) return null;
      const p = definedOnly(patch);
      const set: string[] = ['updated_at = @now'];
      const params: Row = { orgId, id, from: JSON.stringify(from), now: clock().getTime() };
      for (const k of TRANSITION_FIELDS) {
        if (!(k in p)) continue;
        const v = p[k];
        set.push(`${TRANSITION_COLUMNS[k]} = @${k}`);
        // The policy and the room are JSON columns; a null room is NULL.
        params[k] = v instanceof Date ? v.getTime() : typeof v === 'object' && v !== null ? JSON.stringify(v) : v;
      }
      const update = () =>
        db
          .stmt(
            `UPDATE sessions SET ${set.join(', ')}
             WHERE org_id = @orgId AND id = @id AND status IN (SELECT value FROM json_each(@from)) RETURNING *`,
          )
          .get(params);
      const r = writeUnderFence(db, fence, update);
      return r ? sessions.fromRow(r) : null;
    },
    async cancelUnstaffed(orgId, id, teacherId, patch, fence) {
      // One statement: the teacher's standing and the subject's teachers are read in the write.
      const update = () =>
        db
          .stmt(
            `UPDATE sessions SET status = 'cancelled', closed_at = @closedAt, closed_by = @closedBy, updated_at = @now
             WHERE org_id = @orgId AND id = @id AND status = 'scheduled' AND teacher_id = @teacherId
               AND NOT EXISTS (
                 SELECT 1 FROM users u JOIN subjects s ON s.org_id = u.org_id AND s.id = sessions.subject_id
                 WHERE u.org_id = @orgId AND u.id = @teacherId AND u.active = 1 AND u.role = 'teacher'
                   AND EXISTS (SELECT 1 FROM json_each(s.teacher_ids) WHERE value = u.id))
             RETURNING *`,
          )
          .get({ orgId, id, teacherId, closedAt: patch.closedAt.getTime(), closedBy: patch.closedBy, now: clock().getTime() });
      const r = writeUnderFence(db, fence, update);
      return r ? sessions.fromRow(r) : null;
    },
    async listDue(now, limit) {
      return db
        .stmt(
          `SELECT * FROM sessions
           WHERE ((status IN (${ACTIVE}) AND closes_at <= @now) OR status = 'closing')
             AND (lease_until IS NULL OR lease_until < @now)
           ORDER BY closes_at, id LIMIT @limit`,
        )
        .all({ now: now.getTime(), limit })
        .map(sessions.fromRow);
    },
    async listStarting(now, limit) {
      return db
        .stmt(`SELECT * FROM sessions WHERE status = 'scheduled' AND starts_at <= ? ORDER BY starts_at, id LIMIT ?`)
        .all(now.getTime(), limit)
        .map(sessions.fromRow);
    },
    async nextDueAt() {
      const r = db.stmt<{ at: number | null }>(`SELECT min(closes_at) AS at FROM sessions WHERE status IN (${UNCLOSED})`).get()!;
      return r.at === null ? null : new Date(r.at);
    },
    async acquireLease(orgId, id, owner, until, now) {
      return (
        db
          .stmt(
            `UPDATE sessions SET lease_owner = @owner, lease_until = @until
             WHERE org_id = @orgId AND id = @id
               AND (lease_until IS NULL OR lease_until < @now OR lease_owner = @owner)`,
          )
          .run({ orgId, id, owner, until: until.getTime(), now: now.getTime() }).changes === 1
      );
    },
    async renewLease(orgId, id, owner, until) {
      return (
        db
          .stmt('UPDATE sessions SET lease_until = ? WHERE org_id = ? AND id = ? AND lease_owner = ?')
          .run(until.getTime(), orgId, id, owner).changes === 1
      );
    },
    async releaseLease(orgId, id, owner) {
      db.stmt(
        `UPDATE sessions SET lease_owner = NULL, lease_until = NULL
         WHERE org_id = ? AND id = ? AND lease_owner = ?`,
      ).run(orgId, id, owner);
    },
  };
}

/** Hands out the next roster version of a session, inside the record write's transaction. */
type NextRosterVersion = (sessionId: string) => number;

interface BatchRosterVersions {
  next: NextRosterVersion;
  /** Takes back the version `next` just handed out for the session: its write stored nothing. */
  giveBack(sessionId: string): void;
  /** The counters as they are now, to go back to when a write is rolled back alone. */
  mark(): ReadonlyMap<string, number | null>;
  restore(mark: ReadonlyMap<string, number | null>): void;
  /** Writes the counters that moved back to their sessions: before the batch commits. */
  store(): void;
}

/**
 * The roster versions of one group commit: each session's counter is read once, handed out in
 * memory in write order, and written back once, instead of an UPDATE per record. Only inside
 * the batch's IMMEDIATE transaction, which holds the write lock: no other connection can move
 * a counter in between, so the versions are the ones an UPDATE per record would have given.
 */
function batchRosterVersions(db: SqliteDb): BatchRosterVersions {
  // null: the session row is missing (imported data); its records get 0, as nextRosterVersion does.
  let counters = new Map<string, number | null>();
  const read = new Map<string, number | null>();
  return {
    next(sessionId) {
      let current = counters.get(sessionId);
      if (current === undefined) {
        current =
          db.stmt<{ roster_version: number }>('SELECT roster_version FROM sessions WHERE id = ?').get(sessionId)?.roster_version ?? null;
        read.set(sessionId, current);
      }
      if (current === null) {
        counters.set(sessionId, null);
        return 0;
      }
      counters.set(sessionId, current + 1);
      return current + 1;
    },
    giveBack(sessionId) {
      const current = counters.get(sessionId);
      if (current !== undefined && current !== null) counters.set(sessionId, current - 1);
    },
    mark: () => new Map(counters),
    restore(mark) {
      counters = new Map(mark);
    },
    store() {
      for (const [sessionId, version] of counters) {
        if (version === null || version === read.get(sessionId)) continue;
        db.stmt('UPDATE sessions SET roster_version = ? WHERE id = ?').run(version, sessionId);
      }
    },
  };
}

/**
 * The record an insert stores: the input with its id, first version and roster version, created
 * and updated at `now`. Also what the record writer thread's answer is rebuilt into (./record-writer.ts).
 */
export function insertedRecord(orgId: string, input: NewRecord, id: string, rosterVersion: number, now: Date): AttendanceRecord {
  // Spelled out, not `{ id, orgId, ...input, ... }`: a spread after other properties goes through
  // V8's generic copy, which grew the record's out-of-object property store step by step (each
  // step a copy left as garbage), once per check-in (docs/multi-node.md "Round 32, allocation").
  const record: AttendanceRecord = {
    id,
    orgId,
    sessionId: input.sessionId,
    subjectId: input.subjectId,
    studentId: input.studentId,
    status: input.status,
    reason: input.reason,
    flags: input.flags.slice(),
    distanceM: input.distanceM,
    location: input.location,
    ip: input.ip,
    attempts: input.attempts,
    submittedAt: input.submittedAt,
    decidedAt: input.decidedAt,
    decidedBy: input.decidedBy,
    note: input.note,
    verification: input.verification,
    version: 1,
    rosterVersion,
    createdAt: now,
    updatedAt: now,
  };
  // The optional fields stay absent when the input has none (as the spread left them); one added
  // to records and not copied here fails the build (OptionalUncopied below).
  if ('correctionReason' in input) record.correctionReason = input.correctionReason;
  if ('absenceCategory' in input) record.absenceCategory = input.absenceCategory;
  if ('deviceId' in input) record.deviceId = input.deviceId;
  if ('userAgent' in input) record.userAgent = input.userAgent;
  return record;
}

type OptionalOf<T> = { [K in keyof T]-?: object extends Pick<T, K> ? K : never }[keyof T];
type OptionalUncopied = Exclude<OptionalOf<NewRecord>, 'correctionReason' | 'absenceCategory' | 'deviceId' | 'userAgent'>;
const everyOptionalCopied: [OptionalUncopied] extends [never] ? true : OptionalUncopied = true;
void everyOptionalCopied;

interface PeerMarkRow {
  id: string;
  roster_version: number;
  student_id: string;
  device_id: string | null;
  ip: string | null;
  user_agent: string | null;
  lat: number | null;
  lon: number | null;
}

const UNCHANGED: PeerMarksUnchanged = { unchanged: true };

function peerMark(r: PeerMarkRow): VersionedPeerMark {
  return {
    id: r.id,
    rosterVersion: r.roster_version,
    studentId: r.student_id,
    deviceId: r.device_id,
    ip: r.ip,
    userAgent: r.user_agent,
    location: r.lat === null || r.lon === null ? null : { lat: r.lat, lon: r.lon },
  };
}

export function recordRepository(db: SqliteDb, clock: () => Date): RecordRepository {
  const insert = insertSql(records, false);
  // The unique key is (student_id, session_id) across organisations (migration 38).
  const byKey = 'SELECT * FROM records WHERE session_id = ? AND student_id = ?';
  const byStudent = 'SELECT * FROM records WHERE org_id = ? AND session_id = ? AND student_id = ?';
  const get = (orgId: string, id: string): AttendanceRecord | null => {
    const r = db.stmt('SELECT * FROM records WHERE org_id = ? AND id = ?').get(orgId, id);
    return r ? records.fromRow(r) : null;
  };
  // Called inside the record write's transaction: a roster version is handed out once, and only
  // with its change. A record whose session row is missing (imported data) gets 0.
  const nextRosterVersion: NextRosterVersion = (sessionId) =>
    db
      .stmt<{ roster_version: number }>('UPDATE sessions SET roster_version = roster_version + 1 WHERE id = ? RETURNING roster_version')
      .get(sessionId)?.roster_version ?? 0;
  const insertIfAbsent = (
    orgId: string,
    input: NewRecord,
    nextVersion: NextRosterVersion = nextRosterVersion,
  ): { record: AttendanceRecord; created: boolean } => {
    const found = db.stmt(byKey).get(input.sessionId, input.studentId);
    if (found) {
      // The key is taken by a record of another organisation (a session id reused across orgs).
      if (found.org_id !== orgId) throw new StoreConflictError('record');
      return { record: records.fromRow(found), created: false };
    }
    const now = clock();
    const rec = insertedRecord(orgId, input, newTimeOrderedId(now.getTime()), nextVersion(input.sessionId), now);
    db.stmt(insert).run(records.toRow(rec));
    return { record: rec, created: true };
  };
  const update = (
    orgId: string,
    id: string,
    expectedVersion: number,
    patch: RecordPatch,
    nextVersion: NextRosterVersion = nextRosterVersion,
  ): AttendanceRecord | null => {
    const cur = get(orgId, id);
    if (!cur || cur.version !== expectedVersion) return null;
    const next: AttendanceRecord = {
      ...cur,
      ...definedOnly(patch),
      version: cur.version + 1,
      rosterVersion: nextVersion(cur.sessionId),
      updatedAt: clock(),
    };
    const row = records.toRow(next);
    // The version check in WHERE is what makes it safe against other connections.
    const r = db
      .stmt(
        `UPDATE records SET status = @status, reason = @reason, flags = @flags, distance_m = @distance_m,
           location = @location, ip = @ip, attempts = @attempts, submitted_at = @submitted_at,
           decided_at = @decided_at, decided_by = @decided_by, note = @note, correction_reason = @correction_reason,
           absence_category = @absence_category, device_id = @device_id, user_agent = @user_agent,
           verification = @verification, version = version + 1, roster_version = @roster_version, updated_at = @updated_at
         WHERE org_id = @org_id AND id = @id AND version = @expected RETURNING *`,
      )
      .get({ ...row, expected: expectedVersion });
    return r ? records.fromRow(r) : null;
  };
  // The batch's insert: the unique key's own search says whether the key is taken, where a
  // read by the key before each insert searched it twice (3 to 3.5 µs of the writer's 60 to 70
  // per check-in, scripts/bench-record-writer.ts --by-statement).
  // The student's existence is the insert's own condition, where a read before it cost a
  // statement per check-in (3.6 µs of about 65); nothing stored then means the key was taken or
  // the student is gone, told apart by the read of the key, which only such a write makes.
  // Bound by position (recordValues): the record's values, then its student and organisation.
  const insertIfStudentUnlessTaken = `INSERT INTO records (${records.columns.join(', ')})
     SELECT ${records.columns.map(() => '?').join(', ')}
     WHERE EXISTS (SELECT 1 FROM users WHERE id = ? AND org_id = ?)
     ON CONFLICT (session_id, student_id) DO NOTHING`;
  const insertInBatch = (
    orgId: string,
    input: NewRecord,
    versions: BatchRosterVersions,
  ): { record: AttendanceRecord | null; created: boolean } => {
    const now = clock();
    const rec = insertedRecord(orgId, input, newTimeOrderedId(now.getTime()), versions.next(input.sessionId), now);
    const values = recordValues(rec);
    values.push(rec.studentId, orgId);
    if (db.stmt(insertIfStudentUnlessTaken).run(values).changes === 1) return { record: rec, created: true };
    versions.giveBack(input.sessionId);
    const found = db.stmt(byKey).get(input.sessionId, input.studentId);
    // Inside the batch's transaction, which an erasure's cannot interleave: a student erased
    // since the check-in was checked gets no record under their real id (nothing would erase it).
    if (!found) return { record: null, created: false };
    // The key is taken by a record of another organisation (a session id reused across orgs).
    if (found.org_id !== orgId) throw new StoreConflictError('record');
    return { record: records.fromRow(found), created: false };
  };
  // The entry and its record in one transaction: whether audit_actor must hold the entry is known
  // without the read of the record the general insert makes (audit-mappers.ts).
  // Bound by position (auditValues), `orphaned` last.
  const auditInsert = `INSERT INTO audit (${audit.columns.join(', ')}) VALUES (${audit.columns.map(() => '?').join(', ')})`;
  const peerMarksOf = (orgId: string, sessionId: string, after: number) => ({
    count: db.stmt<{ n: number }>('SELECT count(*) AS n FROM records WHERE org_id = ? AND session_id = ?').get(orgId, sessionId)!.n,
    rows: db
      .stmt<PeerMarkRow>(
        `SELECT id, roster_version, student_id, device_id, ip, user_agent,
           json_extract(location, '$.lat') AS lat, json_extract(location, '$.lon') AS lon
         FROM records WHERE org_id = ? AND session_id = ? AND roster_version > ?`,
      )
      .all(orgId, sessionId, after),
  });
  const readPeerMarks = db.raw.transaction(peerMarksOf);
  // The same for several sessions in one read transaction: one snapshot, one BEGIN and COMMIT
  // for all. (One query for all their counts and one for all their changes, by json_each, cost
  // more than these statements prepared per session: docs/multi-node.md, "Load".)
  // A session whose roster version is still the one the caller holds everything up to answers
  // so from its primary key: the count alone walked the session's index entries (all of them,
  // every batch) and the rows read back were the node's own writes, already merged.
  const rosterVersionOf = 'SELECT roster_version FROM sessions WHERE id = ? AND org_id = ?';
  const readEachPeerMarks = db.raw.transaction((orgId: string, wants: readonly PeerMarkWant[]) =>
    wants.map((w): PeerMarkChanges | PeerMarksUnchanged => {
      if (
        w.unlessRosterVersion !== undefined &&
        db.stmt<{ roster_version: number }>(rosterVersionOf).get(w.sessionId, orgId)?.roster_version === w.unlessRosterVersion
      ) {
        return UNCHANGED;
      }
      const { count, rows } = peerMarksOf(orgId, w.sessionId, w.afterRosterVersion ?? -1);
      return { count, marks: rows.map(peerMark) };
    }),
  );
  const userExists = 'SELECT 1 FROM users WHERE id = ? AND org_id = ?';
  // The user a write is made by (its audit actor, the decision's maker) when not its student,
  // whose record the student check already guards: a teacher erased since the mark was checked
  // would keep their id on it (docs/privacy.md). A check-in's own writes read nothing more.
  const goneActor = (w: RecordWrite, studentId: string): string | null => {
    const decidedBy = w.kind === 'insert' ? w.input.decidedBy : w.patch.decidedBy;
    for (const id of [w.audit.actorId, decidedBy]) {
      if (id && id !== studentId && !db.stmt(userExists).get(id, w.orgId)) return id;
    }
    return null;
  };
  const writeOne = (w: RecordWrite, versions: BatchRosterVersions): RecordWriteResult => {
    let before: AttendanceRecord | null = null;
    let after: AttendanceRecord | null;
    if (w.kind === 'insert') {
      // Who writes is checked before whom it is about, as on MongoDB (which reads its actors
      // before writing and its students after): a teacher erased meanwhile is refused as such.
      const gone = goneActor(w, w.input.studentId);
      if (gone) return { written: false, error: new ActorGoneError(gone) };
      const inserted = insertInBatch(w.orgId, w.input, versions);
      if (!inserted.created || !inserted.record) return { written: false, record: inserted.record };
      after = inserted.record;
    } else {
      before = get(w.orgId, w.id);
      const gone = before && goneActor(w, before.studentId);
      if (gone) return { written: false, error: new ActorGoneError(gone) };
      after = update(w.orgId, w.id, w.expectedVersion, w.patch, versions.next);
      if (!after) return { written: false, record: before };
    }
    const values = auditValues({ id: newTimeOrderedId(after.updatedAt.getTime()), ...recordAuditEntry(before, after, w.audit) });
    values.push(w.audit.action === REACHED_BY_RECORD && w.audit.actorId !== after.studentId ? 1 : 0);
    db.stmt(auditInsert).run(values);
    return { written: true, before, record: after };
  };
  return {
    async insertIfAbsent(orgId, input: NewRecord) {
      // IMMEDIATE: the check and the insert hold the write lock, so no other node slips between.
      return mapConflicts(() => db.tx(() => insertIfAbsent(orgId, input)));
    },
    async get(orgId, id) {
      return get(orgId, id);
    },
    async getForStudent(orgId, sessionId, studentId) {
      const r = db.stmt(byStudent).get(orgId, sessionId, studentId);
      return r ? records.fromRow(r) : null;
    },
    async getForStudents(orgId, sessionId, studentIds) {
      if (studentIds.length === 0) return [];
      // By the (student_id, session_id) key, not records_session_roster (every record of the session):
      // `+org_id` is filtered, not searched.
      return db
        .stmt('SELECT * FROM records WHERE session_id = ? AND student_id IN (SELECT value FROM json_each(?)) AND +org_id = ?')
        .all(sessionId, JSON.stringify(studentIds), orgId)
        .map(records.fromRow);
    },
    async getForSessionStudents(orgId, keys) {
      if (keys.length === 0) return [];
      // Each key by the (student_id, session_id) unique index, json_each's rows first.
      return db
        .stmt(
          `SELECT r.* FROM json_each(?) AS k CROSS JOIN records AS r
           WHERE r.session_id = k.value ->> 0 AND r.student_id = k.value ->> 1 AND +r.org_id = ?`,
        )
        .all(JSON.stringify(keys.map((k) => [k.sessionId, k.studentId])), orgId)
        .map(records.fromRow);
    },
    async listBySession(orgId, sessionId) {
      return db
        .stmt('SELECT * FROM records WHERE org_id = ? AND session_id = ? ORDER BY created_at, id')
        .all(orgId, sessionId)
        .map(records.fromRow);
    },
    async listProxyPeers(orgId, sessionId, probe) {
      // A few rows per criterion, however many students share a school address or a room.
      const base = 'SELECT * FROM records WHERE org_id = @org AND session_id = @session AND student_id <> @student AND';
      const args = { org: orgId, session: sessionId, student: probe.studentId };
      const rows: Row[] = [];
      if (probe.deviceId)
        rows.push(...db.stmt(`${base} device_id = @device LIMIT ${PROXY_PEERS_PER_CRITERION}`).all({ ...args, device: probe.deviceId }));
      if (probe.ip && probe.userAgent) {
        rows.push(
          ...db
            .stmt(`${base} ip = @ip AND user_agent = @ua LIMIT ${PROXY_PEERS_PER_CRITERION}`)
            .all({ ...args, ip: probe.ip, ua: probe.userAgent }),
        );
      }
      if (probe.near) {
        const { lat, lon, box } = probe.near;
        rows.push(
          ...db
            .stmt(
              `${base} location IS NOT NULL AND json_extract(location, '$.lat') BETWEEN @lat - @box AND @lat + @box
                 AND json_extract(location, '$.lon') BETWEEN @lon - @box AND @lon + @box LIMIT ${PROXY_PEERS_PER_CRITERION}`,
            )
            .all({ ...args, lat, lon, box }),
        );
      }
      const seen = new Set<string>();
      return rows.filter((r) => !seen.has(r['id'] as string) && seen.add(r['id'] as string)).map(records.fromRow);
    },
    async listBySessions(orgId, sessionIds) {
      if (sessionIds.length === 0) return [];
      return db
        .stmt(
          `SELECT * FROM records WHERE org_id = ? AND session_id IN (SELECT value FROM json_each(?))
           ORDER BY created_at, id`,
        )
        .all(orgId, JSON.stringify(sessionIds))
        .map(records.fromRow);
    },
    async listQueuedVerifications({ submittedBefore, sessionsClosingFrom }, limit) {
      // From the records still queued (a partial index, migration 36: a handful at any time) to
      // their sessions; reading the recent sessions' records instead held the event loop for
      // every record of the last day.
      return db
        .stmt(
          `SELECT r.* FROM records r INDEXED BY records_verification_queued
           JOIN sessions s ON s.org_id = r.org_id AND s.id = r.session_id
           WHERE r.status = 'pending' AND json_extract(r.verification, '$.state') = 'queued' AND r.submitted_at < @before
             AND (s.status IN (${UNCLOSED}) OR (s.status = 'closed' AND s.closes_at >= @from))
           ORDER BY r.submitted_at, r.id LIMIT @limit`,
        )
        .all({ from: sessionsClosingFrom.getTime(), before: submittedBefore.getTime(), limit })
        .map(records.fromRow);
    },
    async listByStudent(orgId, studentId, page) {
      // Session order, not write order: a late correction must not lift an old session to the
      // top. The student's rows come from the unique key's student_id, each session by its
      // primary key (`+r.org_id` is filtered: on org_id SQLite would read the organisation's
      // records by records_session_roster); a record whose session is gone sorts last (NULL), the
      // record id breaks ties so pages neither repeat nor skip.
      const items = db
        .stmt(
          `SELECT r.* FROM records r LEFT JOIN sessions s ON s.id = r.session_id AND s.org_id = r.org_id
           WHERE +r.org_id = ? AND r.student_id = ?
           ORDER BY s.starts_at DESC NULLS LAST, r.id DESC LIMIT ? OFFSET ?`,
        )
        .all(orgId, studentId, page.limit, page.offset)
        .map(records.fromRow);
      const total =
        totalFromPage(items.length, page) ??
        db.stmt<{ n: number }>('SELECT count(*) AS n FROM records WHERE +org_id = ? AND student_id = ?').get(orgId, studentId)!.n;
      return { items, total };
    },
    async update(orgId, id, expectedVersion, patch: RecordPatch) {
      return db.tx(() => update(orgId, id, expectedVersion, patch));
    },
    async listPeerMarksSince(orgId, sessionId, afterRosterVersion) {
      // Five columns, the fix's coordinates read by SQLite, only the rows changed since the
      // last read (records_session_roster); the count by an index alone. One deferred read
      // transaction: both see the same snapshot, so the count matches the rows exactly.
      db.assertOpen();
      const { count, rows } = readPeerMarks.deferred(orgId, sessionId, afterRosterVersion ?? -1);
      return {
        count,
        marks: rows.map(peerMark),
      };
    },
    async listPeerMarkChanges(orgId, wants) {
      if (wants.length === 0) return [];
      db.assertOpen();
      return readEachPeerMarks.deferred(orgId, wants);
    },
    async writeBatch(writes: readonly RecordWrite[], fence?: LeaseFence) {
      // One IMMEDIATE transaction (one WAL commit) for the batch. A write refused alone (a key
      // taken in another organisation) must leave the others, which a savepoint per write would
      // give; but a savepoint makes SQLite copy every page the write touches to a sub-journal
      // first, which more than tripled the pages written per check-in. So the batch runs once
      // without them, and only if a write throws is it rolled back whole and run again with a
      // savepoint per write.
      // A close's fence is renewed in the batch's transaction: no write of it lands once lost.
      try {
        return db.tx(() => {
          if (fence) renewFence(db, fence);
          const versions = batchRosterVersions(db);
          const results = writes.map((w) => writeOne(w, versions));
          versions.store();
          return results;
        });
      } catch (err) {
        // A failure of the database itself (busy past its timeout, I/O, disk full) would fail
        // every write again: it goes to the caller now rather than after a second wait. Any
        // other error is answered below, to the write that causes it, on the second run. Busy
        // means the transaction never began: the caller may try the whole batch again.
        if (isBusy(err)) throw new StoreBusyError({ cause: err });
        if (isDatabaseWide(err) || err instanceof LeaseLostError) throw err;
      }
      return db.tx(() => {
        if (fence) renewFence(db, fence);
        const versions = batchRosterVersions(db);
        const results = writes.map((w): RecordWriteResult => {
          const mark = versions.mark();
          try {
            return db.raw.transaction(() => writeOne(w, versions))();
          } catch (err) {
            // Rolled back with its savepoint: the versions it took are handed out again.
            versions.restore(mark);
            return { written: false, error: toConflict(err) };
          }
        });
        versions.store();
        return results;
      });
    },
    async remove(orgId, id, expectedVersion) {
      return db.tx(() => {
        const r = db
          .stmt<{ session_id: string }>('DELETE FROM records WHERE org_id = ? AND id = ? AND version = ? RETURNING session_id')
          .get(orgId, id, expectedVersion);
        if (!r) return false;
        nextRosterVersion(r.session_id);
        return true;
      });
    },
  };
}

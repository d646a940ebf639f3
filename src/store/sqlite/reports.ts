import { RECORD_STATUSES, type RecordStatus } from '../../domain/ports/common.js';
import { emptyStatusCounts, type ReportRepository, type StudentSubjectTally } from '../../domain/ports/reports.js';
import type { AuditFilter } from '../../domain/ports/audit.js';
import type { SqliteDb } from './db.js';
import { audit, REACHED_BY_RECORD } from './audit-mappers.js';
import { sqlWords } from './common-mappers.js';
import { ATTENDED_STATUSES, SETTLED_SESSION_STATES } from '../../shared/events.js';
import { totalFromPage } from '../../domain/paging.js';

// Aggregates behind the reporting API. Settled sessions are those closing or closed, the same
// ones a daily summary counts (cancelled and reopened sessions are left out).

const SETTLED = `s.status IN (${sqlWords(SETTLED_SESSION_STATES)})`;

interface TallyRow {
  subject_id: string;
  student_id: string;
  status: string;
  n: number;
  last_seen: number | null;
}

/**
 * The count and the page (with @limit and @offset) of an audit query, and their parameters.
 * Apart so that a test can read their plans (test/contract/sqlite.test.ts).
 *
 * By actor or by session, two disjoint parts in one order: the check-in entries that audit_actor
 * and audit_session leave out while their record leads to them (migrations 31 and 38), reached
 * from the records (the student's by the unique key's student_id, the session's by
 * records_session_roster), then each one's entries by audit_entity; and the rest from the
 * partial index, whose condition the query repeats word for word, or the planner would not take it.
 */
export function auditQuery(orgId: string, f: Omit<AuditFilter, 'limit' | 'offset'>): { count: string; page: string; params: object } {
  const params = {
    orgId,
    entityType: f.entityType ?? null,
    entityId: f.entityId ?? null,
    sessionId: f.sessionId ?? null,
    actorId: f.actorId ?? null,
    actions: f.actions !== undefined ? JSON.stringify(f.actions) : null,
    from: f.from?.getTime() ?? null,
    before: f.before?.getTime() ?? null,
  };
  if (f.actorId === undefined && f.sessionId === undefined) {
    const cond = ['org_id = @orgId', ...entryFilters(f, '')].join(' AND ');
    return {
      count: `SELECT count(*) AS n FROM audit WHERE ${cond}`,
      page: `SELECT * FROM audit WHERE ${cond} ORDER BY at, seq LIMIT @limit OFFSET @offset`,
      params,
    };
  }
  const indexedWhere = [
    'org_id = @orgId',
    ...(f.actorId !== undefined ? ['actor_id = @actorId'] : []),
    NOT_REACHED_BY_RECORD,
    ...entryFilters(f, ''),
  ].join(' AND ');
  const indexed = (what: string) => `SELECT ${what} FROM audit WHERE ${indexedWhere}`;
  const reachesCheckins =
    (f.actions === undefined || f.actions.includes(REACHED_BY_RECORD)) && (f.entityType === undefined || f.entityType === 'record');
  if (!reachesCheckins) {
    return { count: indexed('count(*) AS n'), page: `${indexed('*')} ORDER BY at, seq LIMIT @limit OFFSET @offset`, params };
  }
  const byRecordWhere = [
    ...(f.actorId !== undefined
      ? // Unary +: by the unique key's student_id, not the organisation's records by records_session_roster.
        ['+r.org_id = @orgId', 'r.student_id = @actorId', 'a.actor_id = @actorId']
      : ['r.org_id = @orgId', 'r.session_id = @sessionId']),
    `a.action = '${REACHED_BY_RECORD}'`,
    'a.orphaned = 0',
    ...entryFilters(f, 'a.'),
  ].join(' AND ');
  return {
    count: `SELECT (${byRecord('count(*)', byRecordWhere)}) + (${indexed('count(*)')}) AS n`,
    page: `${byRecord('a.*', byRecordWhere)} UNION ALL ${indexed('*')} ORDER BY at, seq LIMIT @limit OFFSET @offset`,
    params,
  };
}

/** The condition of the partial audit_actor and audit_session, as their readers must spell it. */
const NOT_REACHED_BY_RECORD = `(action <> '${REACHED_BY_RECORD}' OR orphaned = 1)`;

/**
 * The entries of the records `where` selects (alias r, the entry a), each record's by its key.
 * CROSS JOIN keeps the order: the records, then each one's entries by audit_entity (named: with
 * a session or a time range the planner, knowing no better, took audit_session per record).
 */
function byRecord(what: string, where: string): string {
  return `SELECT ${what} FROM records r CROSS JOIN audit a INDEXED BY audit_entity
     ON a.org_id = @orgId AND a.entity_type = 'record' AND a.entity_id = r.id WHERE ${where}`;
}

/** A session's whole trail in the order `at, seq`: the two parts of auditQuery's by session, unpaged. */
export const SESSION_TRAIL = `${byRecord(
  'a.*',
  `r.org_id = @orgId AND r.session_id = @sessionId AND a.action = '${REACHED_BY_RECORD}' AND a.orphaned = 0 AND a.session_id = @sessionId`,
)} UNION ALL SELECT * FROM audit WHERE org_id = @orgId AND session_id = @sessionId AND ${NOT_REACHED_BY_RECORD} ORDER BY at, seq`;

/** The filters of an audit query besides its organisation and actor, on the columns of `alias`. */
function entryFilters(f: Omit<AuditFilter, 'limit' | 'offset' | 'actorId'>, alias: string): string[] {
  const where: string[] = [];
  if (f.entityType !== undefined) where.push(`${alias}entity_type = @entityType`);
  if (f.entityId !== undefined) where.push(`${alias}entity_id = @entityId`);
  if (f.sessionId !== undefined) where.push(`${alias}session_id = @sessionId`);
  if (f.actions !== undefined) where.push(`${alias}action IN (SELECT value FROM json_each(@actions))`);
  if (f.from !== undefined) where.push(`${alias}at >= @from`);
  if (f.before !== undefined) where.push(`${alias}at < @before`);
  return where;
}

function isRecordStatus(s: string): s is RecordStatus {
  return (RECORD_STATUSES as readonly string[]).includes(s);
}

export function reportRepository(db: SqliteDb): ReportRepository {
  return {
    async studentTallies(orgId, f) {
      if (f.subjectId === undefined && f.studentId === undefined) throw new Error('studentTallies needs a subject or a student');
      // CROSS JOIN fixes the join order (SQLite keeps it): from a subject's sessions to their
      // records by records_session_roster (org_id, session_id), or by the (student_id,
      // session_id) key with a student too; or from a student's records (the key's student_id) to
      // their sessions, where the unary + keeps the planner off records_session_roster's org_id.
      const where = [SETTLED, 's.org_id = @orgId', f.subjectId !== undefined ? 'r.org_id = @orgId' : '+r.org_id = @orgId'];
      if (f.subjectId !== undefined) where.push('s.subject_id = @subjectId');
      if (f.studentId !== undefined) where.push('r.student_id = @studentId');
      if (f.fromDay !== undefined) where.push('s.day >= @fromDay');
      if (f.toDay !== undefined) where.push('s.day <= @toDay');
      const from =
        f.subjectId !== undefined
          ? 'sessions s CROSS JOIN records r ON r.session_id = s.id'
          : 'records r CROSS JOIN sessions s ON s.id = r.session_id';
      const rows = db
        .stmt<TallyRow>(
          `SELECT r.subject_id, r.student_id, r.status, count(*) AS n,
             max(CASE WHEN r.status IN (${sqlWords(ATTENDED_STATUSES)}) THEN r.submitted_at END) AS last_seen
           FROM ${from}
           WHERE ${where.join(' AND ')}
           GROUP BY r.subject_id, r.student_id, r.status`,
        )
        .all({ orgId, subjectId: f.subjectId ?? null, studentId: f.studentId ?? null, fromDay: f.fromDay ?? null, toDay: f.toDay ?? null });
      const tallies = new Map<string, StudentSubjectTally>();
      for (const row of rows) {
        const key = `${row.subject_id}\u0000${row.student_id}`;
        let t = tallies.get(key);
        if (!t) {
          t = { subjectId: row.subject_id, studentId: row.student_id, byStatus: emptyStatusCounts(), lastSeenAt: null };
          tallies.set(key, t);
        }
        if (isRecordStatus(row.status)) t.byStatus[row.status] += row.n;
        if (row.last_seen !== null && (t.lastSeenAt === null || row.last_seen > t.lastSeenAt.getTime()))
          t.lastSeenAt = new Date(row.last_seen);
      }
      return [...tallies.values()];
    },

    async subjectTotals(orgId, fromDay, toDay, subjectIds) {
      if (subjectIds && subjectIds.length === 0) return [];
      const only = subjectIds ? `AND subject_id IN (SELECT value FROM json_each(@ids))` : '';
      return db
        .stmt<{ subjectId: string; present: number; late: number; absent: number; excused: number; total: number }>(
          `SELECT subject_id AS subjectId, sum(present) AS present, sum(late) AS late, sum(absent) AS absent,
             sum(excused) AS excused, sum(total) AS total
           FROM summaries WHERE org_id = @orgId AND day >= @fromDay AND day <= @toDay ${only}
           GROUP BY subject_id ORDER BY subject_id`,
        )
        .all({ orgId, fromDay, toDay, ids: JSON.stringify(subjectIds ?? []) });
    },

    async recordStatusCounts(orgId, sessionIds) {
      const counts = emptyStatusCounts();
      if (sessionIds.length === 0) return counts;
      const rows = db
        .stmt<{ status: string; n: number }>(
          // Each session's records by records_session_roster (org_id, session_id): the unique key
          // no longer starts with the session (migration 38).
          `SELECT r.status, count(*) AS n FROM json_each(?) j CROSS JOIN records r ON r.session_id = j.value
           WHERE r.org_id = ? GROUP BY r.status`,
        )
        .all(JSON.stringify(sessionIds), orgId);
      for (const r of rows) if (isRecordStatus(r.status)) counts[r.status] += r.n;
      return counts;
    },

    async audit(orgId, f) {
      const q = auditQuery(orgId, f);
      const items = db
        .stmt(q.page)
        .all({ ...q.params, limit: f.limit, offset: f.offset })
        .map(audit.fromRow);
      const total = totalFromPage(items.length, f) ?? db.stmt<{ n: number }>(q.count).get(q.params)?.n ?? 0;
      return { items, total };
    },

    // By the primary key, `+org_id` filtered rather than searched (as users.getMany).
    async recordRefs(orgId, ids) {
      if (ids.length === 0) return [];
      return db
        .stmt<{ id: string; sessionId: string; studentId: string }>(
          `SELECT id, session_id AS sessionId, student_id AS studentId FROM records
           WHERE id IN (SELECT value FROM json_each(?)) AND +org_id = ?`,
        )
        .all(JSON.stringify(ids), orgId);
    },

    async sessionRefs(orgId, ids) {
      if (ids.length === 0) return [];
      return db
        .stmt<{ id: string; subjectId: string; startsAt: number }>(
          `SELECT id, subject_id AS subjectId, starts_at AS startsAt FROM sessions
           WHERE id IN (SELECT value FROM json_each(?)) AND +org_id = ?`,
        )
        .all(JSON.stringify(ids), orgId)
        .map((r) => ({ ...r, startsAt: new Date(r.startsAt) }));
    },

    async subjectRefs(orgId, ids) {
      if (ids.length === 0) return [];
      return db
        .stmt<{ id: string; code: string; name: string }>(
          'SELECT id, code, name FROM subjects WHERE id IN (SELECT value FROM json_each(?)) AND +org_id = ?',
        )
        .all(JSON.stringify(ids), orgId);
    },

    async excuseRefs(orgId, ids) {
      if (ids.length === 0) return [];
      return db
        .stmt<{ id: string; studentId: string }>(
          'SELECT id, student_id AS studentId FROM excuses WHERE id IN (SELECT value FROM json_each(?)) AND +org_id = ?',
        )
        .all(JSON.stringify(ids), orgId);
    },
  };
}

import { randomUUID } from 'node:crypto';
import { StoreConflictError } from '../../domain/ports/common.js';
import {
  canonicalRanges,
  defaultTeacherSettings,
  type Holiday,
  type Meeting,
  type MeetingPatch,
  type Occurrence,
  type TeacherDefaultPolicy,
  type Term,
  type TimetableRepository,
} from '../../domain/ports/timetable.js';
import type { ClassroomLocation } from '../../domain/ports/subjects.js';
import { mapConflicts, type SqliteDb } from './db.js';
import { renewFence } from './jobs.js';

// Terms, holidays, weekly meetings, their dated occurrences and teachers' timetable settings.

type Row = Record<string, unknown>;

const dayRange = (r: Row) => ({
  id: r['id'] as string,
  orgId: r['org_id'] as string,
  name: r['name'] as string,
  startDay: r['start_day'] as string,
  endDay: r['end_day'] as string,
  createdAt: new Date(r['created_at'] as number),
});

function parseJson<T>(json: string, column: string): T {
  try {
    return JSON.parse(json) as T;
  } catch (err) {
    throw new Error(`corrupt JSON in column ${column}`, { cause: err });
  }
}
const parsePolicy = (json: string) => parseJson<TeacherDefaultPolicy>(json, 'teacher_settings.default_policy');

const meetingOf = (r: Row): Meeting => ({
  id: r['id'] as string,
  orgId: r['org_id'] as string,
  subjectId: r['subject_id'] as string,
  termId: r['term_id'] as string,
  weekday: r['weekday'] as number,
  startTime: r['start_time'] as string,
  endTime: r['end_time'] as string,
  teacherId: (r['teacher_id'] as string | null) ?? null,
  preset: (r['preset'] as Meeting['preset']) ?? null,
  location: typeof r['location'] === 'string' ? parseJson<ClassroomLocation>(r['location'], 'meetings.location') : null,
  allowedIpRanges: parseJson<string[]>((r['allowed_ip_ranges'] as string | null) ?? '[]', 'meetings.allowed_ip_ranges'),
  revision: r['revision'] as number,
  createdAt: new Date(r['created_at'] as number),
});

/** Meeting fields by column, for inserts and edits. */
const MEETING_COLUMNS = {
  weekday: 'weekday',
  startTime: 'start_time',
  endTime: 'end_time',
  teacherId: 'teacher_id',
  preset: 'preset',
  location: 'location',
  allowedIpRanges: 'allowed_ip_ranges',
} as const satisfies Record<keyof MeetingPatch, string>;

/**
 * A field as its column holds it. The room in one form (the location's keys in one order, the
 * networks as canonicalRanges): the unique index meetings_natural_key (migration 40) compares the
 * columns' text.
 */
function meetingValue(field: keyof MeetingPatch, v: unknown): unknown {
  if (v === null || v === undefined) return v;
  if (field === 'location') {
    const { lat, lon, radiusM } = v as ClassroomLocation;
    return JSON.stringify({ lat, lon, radiusM });
  }
  if (field === 'allowedIpRanges') return JSON.stringify(canonicalRanges(v as string[]));
  return v;
}

const occurrenceOf = (r: Row): Occurrence => ({
  orgId: r['org_id'] as string,
  meetingId: r['meeting_id'] as string,
  day: r['day'] as string,
  subjectId: r['subject_id'] as string,
  state: r['state'] as Occurrence['state'],
  sessionId: (r['session_id'] as string | null) ?? null,
  updatedAt: new Date(r['updated_at'] as number),
});

export function timetableRepository(db: SqliteDb): TimetableRepository {
  /**
   * Runs a meeting write, its unique violations as StoreConflictError. Which of the two keys an
   * add met: 'id' whenever a meeting of the caller's id is stored (a repeated roll-over copy, equal
   * to the first or edited since), else 'meeting' (another meeting equal to it).
   */
  const conflictOf = <T>(id: string | undefined, write: () => T): T => {
    try {
      return mapConflicts(write);
    } catch (err) {
      if (!(err instanceof StoreConflictError) || id === undefined) throw err;
      const taken = db.stmt('SELECT 1 FROM meetings WHERE id = ?').get(id) !== undefined;
      throw taken ? new StoreConflictError('id') : err;
    }
  };
  const insertRange = (table: 'terms' | 'holidays', orgId: string, input: { name: string; startDay: string; endDay: string }) => {
    const entity = { id: randomUUID(), orgId, ...input, createdAt: new Date() };
    db.stmt(`INSERT INTO ${table} (id, org_id, name, start_day, end_day, created_at) VALUES (?, ?, ?, ?, ?, ?)`).run(
      entity.id,
      orgId,
      input.name,
      input.startDay,
      input.endDay,
      entity.createdAt.getTime(),
    );
    return entity;
  };
  return {
    async createTerm(orgId, input): Promise<Term> {
      return insertRange('terms', orgId, input);
    },
    async listTerms(orgId) {
      return db.stmt('SELECT * FROM terms WHERE org_id = ? ORDER BY start_day, id').all(orgId).map(dayRange);
    },
    async deleteTerm(orgId, id) {
      return db.tx(() => {
        db.stmt(
          'DELETE FROM occurrences WHERE org_id = ? AND meeting_id IN (SELECT id FROM meetings WHERE org_id = ? AND term_id = ?)',
        ).run(orgId, orgId, id);
        db.stmt('DELETE FROM meetings WHERE org_id = ? AND term_id = ?').run(orgId, id);
        return db.stmt('DELETE FROM terms WHERE org_id = ? AND id = ?').run(orgId, id).changes === 1;
      });
    },
    async createHoliday(orgId, input): Promise<Holiday> {
      return insertRange('holidays', orgId, input);
    },
    async listHolidays(orgId) {
      return db.stmt('SELECT * FROM holidays WHERE org_id = ? ORDER BY start_day, id').all(orgId).map(dayRange);
    },
    async deleteHoliday(orgId, id) {
      return db.stmt('DELETE FROM holidays WHERE org_id = ? AND id = ?').run(orgId, id).changes === 1;
    },
    async createMeeting(orgId, input, fence) {
      const { id, ...fields } = input;
      const m: Meeting = {
        id: id ?? randomUUID(),
        orgId,
        ...fields,
        allowedIpRanges: canonicalRanges(fields.allowedIpRanges),
        revision: 0,
        createdAt: new Date(),
      };
      // The leases renewed in the insert's transaction: no other writer comes between them.
      conflictOf(id, () =>
        db.tx(() => {
          if (fence) renewFence(db, fence);
          db.stmt(
            `INSERT INTO meetings (id, org_id, subject_id, term_id, weekday, start_time, end_time, teacher_id, preset, location,
           allowed_ip_ranges, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          ).run(
            m.id,
            orgId,
            m.subjectId,
            m.termId,
            m.weekday,
            m.startTime,
            m.endTime,
            m.teacherId,
            m.preset,
            meetingValue('location', m.location),
            meetingValue('allowedIpRanges', m.allowedIpRanges),
            m.createdAt.getTime(),
          );
        }),
      );
      return m;
    },
    async updateMeeting(orgId, id, patch, fence) {
      const fields = (Object.keys(MEETING_COLUMNS) as Array<keyof MeetingPatch>).filter((f) => patch[f] !== undefined);
      // The leases renewed in the update's transaction, as createMeeting's.
      const r = conflictOf(undefined, () =>
        db.tx(() => {
          if (fence) renewFence(db, fence);
          if (fields.length > 0) {
            // The revision moves in the same write: a crash after it cannot leave the edit uncounted.
            const set = [...fields.map((f) => `${MEETING_COLUMNS[f]} = @${f}`), 'revision = revision + 1'].join(', ');
            const params: Row = { orgId, id };
            for (const f of fields) params[f] = meetingValue(f, patch[f]);
            db.stmt(`UPDATE meetings SET ${set} WHERE org_id = @orgId AND id = @id`).run(params);
          }
          return db.stmt('SELECT * FROM meetings WHERE org_id = ? AND id = ?').get(orgId, id);
        }),
      );
      return r ? meetingOf(r) : null;
    },
    async getMeeting(orgId, id) {
      const r = db.stmt('SELECT * FROM meetings WHERE org_id = ? AND id = ?').get(orgId, id);
      return r ? meetingOf(r) : null;
    },
    async listMeetings(orgId, subjectId) {
      const rows =
        subjectId === undefined
          ? db.stmt('SELECT * FROM meetings WHERE org_id = ? ORDER BY weekday, start_time, id').all(orgId)
          : db.stmt('SELECT * FROM meetings WHERE org_id = ? AND subject_id = ? ORDER BY weekday, start_time, id').all(orgId, subjectId);
      return rows.map(meetingOf);
    },
    async deleteMeeting(orgId, id) {
      return db.tx(() => {
        db.stmt('DELETE FROM occurrences WHERE org_id = ? AND meeting_id = ?').run(orgId, id);
        return db.stmt('DELETE FROM meetings WHERE org_id = ? AND id = ?').run(orgId, id).changes === 1;
      });
    },
    async listOccurrences(orgId, meetingIds, fromDay, toDay) {
      if (meetingIds.length === 0) return [];
      return db
        .stmt(
          `SELECT * FROM occurrences WHERE org_id = ? AND day BETWEEN ? AND ?
             AND meeting_id IN (SELECT value FROM json_each(?)) ORDER BY day, meeting_id`,
        )
        .all(orgId, fromDay, toDay, JSON.stringify(meetingIds))
        .map(occurrenceOf);
    },
    async claimOccurrence(orgId, key, now, staleBefore) {
      return (
        db
          .stmt(
            `INSERT INTO occurrences (org_id, meeting_id, day, subject_id, state, session_id, updated_at)
             VALUES (@orgId, @meetingId, @day, @subjectId, 'claimed', NULL, @now)
             ON CONFLICT (meeting_id, day) DO UPDATE SET updated_at = @now
             WHERE occurrences.org_id = @orgId AND occurrences.state = 'claimed' AND occurrences.updated_at < @staleBefore`,
          )
          .run({ orgId, ...key, now: now.getTime(), staleBefore: staleBefore.getTime() }).changes === 1
      );
    },
    async completeOccurrence(orgId, meetingId, day, sessionId, now) {
      db.stmt(
        `UPDATE occurrences SET state = 'created', session_id = ?, updated_at = ?
         WHERE org_id = ? AND meeting_id = ? AND day = ? AND state = 'claimed'`,
      ).run(sessionId, now.getTime(), orgId, meetingId, day);
    },
    async forgetOccurrence(orgId, meetingId, day, sessionId) {
      db.stmt(`DELETE FROM occurrences WHERE org_id = ? AND meeting_id = ? AND day = ? AND state = 'created' AND session_id = ?`).run(
        orgId,
        meetingId,
        day,
        sessionId,
      );
    },
    async releaseOccurrence(orgId, meetingId, day) {
      db.stmt(`DELETE FROM occurrences WHERE org_id = ? AND meeting_id = ? AND day = ? AND state = 'claimed'`).run(orgId, meetingId, day);
    },
    async cancelOccurrence(orgId, key, now) {
      return db.tx(() => {
        const before = db
          .stmt('SELECT * FROM occurrences WHERE org_id = ? AND meeting_id = ? AND day = ?')
          .get(orgId, key.meetingId, key.day);
        db.stmt(
          `INSERT INTO occurrences (org_id, meeting_id, day, subject_id, state, session_id, updated_at)
           VALUES (@orgId, @meetingId, @day, @subjectId, 'cancelled', NULL, @now)
           ON CONFLICT (meeting_id, day) DO UPDATE SET state = 'cancelled', updated_at = @now WHERE occurrences.org_id = @orgId`,
        ).run({ orgId, ...key, now: now.getTime() });
        return before ? occurrenceOf(before) : null;
      });
    },
    async getTeacherSettings(orgId, userId) {
      const r = db.stmt('SELECT * FROM teacher_settings WHERE org_id = ? AND user_id = ?').get(orgId, userId);
      if (!r) return defaultTeacherSettings(orgId, userId);
      const policy = r['default_policy'];
      return {
        orgId,
        userId,
        timetableOpen: r['timetable_open'] === 'tap' ? 'tap' : 'auto',
        defaultPolicy: typeof policy === 'string' ? parsePolicy(policy) : {},
        lateGraceMinutes: (r['late_grace_minutes'] as number | null) ?? null,
        codePeriodS: (r['code_period_s'] as number | null) ?? null,
      };
    },
    async putTeacherSettings(settings) {
      db.stmt(
        `INSERT INTO teacher_settings (org_id, user_id, timetable_open, default_policy, late_grace_minutes, code_period_s)
         VALUES (@orgId, @userId, @timetableOpen, @defaultPolicy, @lateGraceMinutes, @codePeriodS)
         ON CONFLICT (org_id, user_id) DO UPDATE SET timetable_open = excluded.timetable_open,
           default_policy = excluded.default_policy, late_grace_minutes = excluded.late_grace_minutes,
           code_period_s = excluded.code_period_s`,
      ).run({
        orgId: settings.orgId,
        userId: settings.userId,
        timetableOpen: settings.timetableOpen,
        defaultPolicy: JSON.stringify(settings.defaultPolicy),
        lateGraceMinutes: settings.lateGraceMinutes,
        codePeriodS: settings.codePeriodS,
      });
      return { ...settings, defaultPolicy: { ...settings.defaultPolicy } };
    },
  };
}

import { newOrganisationEntity, newSubjectEntity, newUserEntity } from '../new-entities.js';
import type { Organisation, OrganisationPatch, OrganisationRepository } from '../../domain/ports/organisations.js';
import type {
  EnrolEntry,
  EnrolOutcome,
  NewSubject,
  Subject,
  SubjectFilter,
  SubjectPatch,
  SubjectRepository,
} from '../../domain/ports/subjects.js';
import type { User, UserFilter, UserPatch, UserRepository } from '../../domain/ports/users.js';
import { mapConflicts, toConflict, type SqliteDb } from './db.js';
import { StoreConflictError, type Page } from '../../domain/ports/common.js';
import { totalFromPage } from '../../domain/paging.js';
import { insertSql, type Row } from './common-mappers.js';
import { organisations, userNameFromRow, userStandingFromRow, users } from './organisation-mappers.js';
import { subjects } from './subject-mappers.js';
import { renewFence } from './jobs.js';
import { audit } from './audit-mappers.js';
import { newTimeOrderedId } from '../../shared/ids.js';
import { foldForSearch } from '../../domain/search-text.js';

// Organisations, users, subjects and enrolments: the org's directory.

/** users.getByStudentNumbers: through users_org_student_number (migration 28), the numbers' rows only. */
export const USERS_BY_STUDENT_NUMBERS = 'SELECT * FROM users WHERE org_id = ? AND student_number IN (SELECT value FROM json_each(?))';

export function organisationRepository(db: SqliteDb, clock: () => Date): OrganisationRepository {
  const insert = insertSql(organisations, false);
  return {
    async create(input) {
      const org = newOrganisationEntity(input, clock());
      mapConflicts(() => db.stmt(insert).run(organisations.toRow(org)));
      return org;
    },
    async get(id) {
      const r = db.stmt('SELECT * FROM organisations WHERE id = ?').get(id);
      return r ? organisations.fromRow(r) : null;
    },
    async list(q) {
      return page(db, 'organisations', [], 'slug', {}, organisations.fromRow, q);
    },
    async update(id, patch: OrganisationPatch) {
      const r = db.tx(() => {
        const cur = db.stmt('SELECT * FROM organisations WHERE id = ?').get(id);
        if (!cur) return undefined;
        const next: Organisation = { ...organisations.fromRow(cur), ...definedOnly(patch) };
        return db
          .stmt(
            'UPDATE organisations SET name = @name, timezone = @timezone, active = @active, settings = @settings WHERE id = @id RETURNING *',
          )
          .get(organisations.toRow(next));
      });
      return r ? organisations.fromRow(r) : null;
    },
    async getBySlug(slug) {
      const r = db.stmt('SELECT * FROM organisations WHERE slug = ?').get(slug);
      return r ? organisations.fromRow(r) : null;
    },
    async count() {
      return db.stmt<{ n: number }>('SELECT count(*) AS n FROM organisations').get()!.n;
    },
  };
}

/**
 * Escapes nothing: `instr` matches literally, so `%` and `_` in a query are plain text. Both
 * sides folded (domain/search-text.ts): `@q` must be `foldForSearch(q)`.
 */
const contains = (column: string) => `instr(ufold(coalesce(${column}, '')), @q) > 0`;

function page<T>(
  db: SqliteDb,
  from: string,
  where: string[],
  orderBy: string,
  params: Row,
  map: (r: Row) => T,
  q: { limit: number; offset: number },
): Page<T> {
  const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const rows = db
    .stmt(`SELECT * FROM ${from} ${w} ORDER BY ${orderBy} LIMIT @limit OFFSET @offset`)
    .all({ ...params, limit: q.limit, offset: q.offset });
  const total = totalFromPage(rows.length, q) ?? db.stmt<{ n: number }>(`SELECT count(*) AS n FROM ${from} ${w}`).get(params)!.n;
  return { items: rows.map(map), total };
}

export function userRepository(db: SqliteDb, clock: () => Date): UserRepository {
  const insert = insertSql(users, false);
  const get = (orgId: string, id: string): User | null => {
    const r = db.stmt('SELECT * FROM users WHERE org_id = ? AND id = ?').get(orgId, id);
    return r ? users.fromRow(r) : null;
  };
  return {
    async create(orgId, input) {
      const u = newUserEntity(orgId, input, clock());
      mapConflicts(() => db.stmt(insert).run(users.toRow(u)));
      return u;
    },
    async createMany(orgId, inputs) {
      const now = clock();
      const all = inputs.map((i) => newUserEntity(orgId, i, now));
      mapConflicts(() =>
        db.tx(() => {
          for (const u of all) db.stmt(insert).run(users.toRow(u));
        }),
      );
      return all;
    },
    async createEach(orgId, inputs) {
      const now = clock();
      const all = inputs.map((i) => newUserEntity(orgId, i, now));
      // A refused insert undoes only itself: the transaction goes on with the next.
      return db.tx(() =>
        all.map((u) => {
          try {
            db.stmt(insert).run(users.toRow(u));
            return u;
          } catch (err) {
            const conflict = toConflict(err);
            if (conflict instanceof StoreConflictError) return conflict;
            throw err;
          }
        }),
      );
    },
    async get(orgId, id) {
      return get(orgId, id);
    },
    async getMany(orgId, ids) {
      if (ids.length === 0) return [];
      // `+org_id`: filtered, not searched. On org_id SQLite read every user of the organisation
      // (users_org_role) for a few ids; by the key it reads those few rows.
      return db
        .stmt('SELECT * FROM users WHERE id IN (SELECT value FROM json_each(?)) AND +org_id = ?')
        .all(JSON.stringify(ids), orgId)
        .map(users.fromRow);
    },
    async getNames(orgId, ids) {
      if (ids.length === 0) return [];
      // Three columns, not the row: per check-in the whole user (its hash, email and dates) was
      // read and mapped for a roster entry's name.
      return db
        .stmt('SELECT id, name, student_number FROM users WHERE id IN (SELECT value FROM json_each(?)) AND +org_id = ?')
        .all(JSON.stringify(ids), orgId)
        .map(userNameFromRow);
    },
    async getStandings(orgId, ids) {
      if (ids.length === 0) return [];
      return db
        .stmt('SELECT id, role, active, must_change_password FROM users WHERE id IN (SELECT value FROM json_each(?)) AND +org_id = ?')
        .all(JSON.stringify(ids), orgId)
        .map(userStandingFromRow);
    },
    async getByEmail(orgId, email) {
      const r = db.stmt('SELECT * FROM users WHERE org_id = ? AND email = ?').get(orgId, email.toLowerCase());
      return r ? users.fromRow(r) : null;
    },
    async getByEmails(orgId, emails) {
      if (emails.length === 0) return [];
      return db
        .stmt('SELECT * FROM users WHERE org_id = ? AND email IN (SELECT value FROM json_each(?))')
        .all(orgId, JSON.stringify(emails.map((e) => e.toLowerCase())))
        .map(users.fromRow);
    },
    async getByStudentNumbers(orgId, numbers) {
      if (numbers.length === 0) return [];
      return db.stmt(USERS_BY_STUDENT_NUMBERS).all(orgId, JSON.stringify(numbers)).map(users.fromRow);
    },
    async findByEmailAnyOrg(email) {
      return db.stmt('SELECT * FROM users WHERE email = ? ORDER BY created_at, id').all(email.toLowerCase()).map(users.fromRow);
    },
    async list(orgId, f: UserFilter) {
      const where = ['org_id = @orgId'];
      const params: Row = { orgId };
      if (f.role !== undefined) {
        where.push('role = @role');
        params.role = f.role;
      }
      if (f.active !== undefined) {
        where.push('active = @active');
        params.active = f.active ? 1 : 0;
      }
      if (f.hasPassword !== undefined) where.push(f.hasPassword ? 'password_hash IS NOT NULL' : 'password_hash IS NULL');
      if (f.q) {
        where.push(`(${contains('name')} OR ${contains('email')} OR ${contains('student_number')})`);
        params.q = foldForSearch(f.q);
      }
      return page(db, 'users', where, 'ulower(name), id', params, users.fromRow, f);
    },
    async update(orgId, id, patch: UserPatch) {
      // Read and write in one transaction so a concurrent patch of other fields is not lost.
      const r = mapConflicts(() =>
        db.tx(() => {
          const cur = get(orgId, id);
          if (!cur) return undefined;
          const next: User = { ...cur, ...definedOnly(patch), updatedAt: clock() };
          next.email = next.email.toLowerCase();
          return db
            .stmt(
              `UPDATE users SET email = @email, name = @name, role = @role, student_number = @student_number,
                 password_hash = @password_hash, active = @active,
                 must_change_password = @must_change_password, updated_at = @updated_at
               WHERE org_id = @org_id AND id = @id RETURNING *`,
            )
            .get(users.toRow(next));
        }),
      );
      return r ? users.fromRow(r) : null;
    },
  };
}

/** A patch without its undefined keys, so `{ name: undefined }` leaves the name alone. */
export function definedOnly<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function subjectRepository(db: SqliteDb, clock: () => Date): SubjectRepository {
  const auditInsert = insertSql(audit, false);
  const insert = insertSql(subjects, false);
  const get = (orgId: string, id: string): Subject | null => {
    const r = db.stmt('SELECT * FROM subjects WHERE org_id = ? AND id = ?').get(orgId, id);
    return r ? subjects.fromRow(r) : null;
  };
  // The subject read inside the org makes enrolling into a foreign subject a no-op (`gone`), as
  // into one deleted or archived since a caller's check; the students' join refuses, in the same
  // write, one deactivated or deleted since. Inside the caller's transaction, with the audit entry.
  const enrolIn = (orgId: string, subjectId: string, studentIds: readonly string[], entry?: EnrolEntry): EnrolOutcome => {
    // Read in the write's transaction: a subject deleted or archived since the caller's check enrols nobody.
    const live = db
      .stmt<{ archived_at: number | null }>('SELECT archived_at FROM subjects WHERE org_id = ? AND id = ?')
      .get(orgId, subjectId);
    if (!live) return { added: 0, refused: [], gone: 'deleted' };
    if (live.archived_at !== null) return { added: 0, refused: [], gone: 'archived' };
    if (studentIds.length === 0) return { added: 0, refused: [] };
    const insert = `INSERT INTO enrolments (org_id, subject_id, student_id, created_at)
      SELECT s.org_id, s.id, u.id, @now FROM subjects s
      JOIN users u ON u.org_id = s.org_id AND u.id IN (SELECT value FROM json_each(@ids))
      WHERE s.org_id = @orgId AND s.id = @subjectId AND u.role = 'student' AND u.active = 1
      ON CONFLICT (subject_id, student_id) DO NOTHING`;
    const refusedSql = `SELECT j.value AS id FROM json_each(@ids) j
      WHERE EXISTS (SELECT 1 FROM subjects s WHERE s.org_id = @orgId AND s.id = @subjectId)
      AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = j.value AND u.org_id = @orgId AND u.role = 'student' AND u.active = 1)`;
    const ids = JSON.stringify([...new Set(studentIds)]);
    const added = db.stmt(insert).run({ orgId, subjectId, ids, now: clock().getTime() }).changes;
    const refused = db
      .stmt<{ id: string }>(refusedSql)
      .all({ orgId, subjectId, ids })
      .map((r) => r.id);
    const refusedSet = new Set(refused);
    const written = [...new Set(studentIds)].filter((id) => !refusedSet.has(id));
    if (entry && written.length > 0) db.stmt(auditInsert).run(audit.toRow({ id: newTimeOrderedId(), ...entry(subjectId, written) }));
    return { added, refused };
  };
  return {
    async create(orgId, input: NewSubject) {
      const s = newSubjectEntity(orgId, input, clock());
      mapConflicts(() => db.stmt(insert).run(subjects.toRow(s)));
      return s;
    },
    async get(orgId, id) {
      return get(orgId, id);
    },
    async getMany(orgId, ids) {
      if (ids.length === 0) return [];
      // By the key, the organisation filtered (as users.getMany).
      return db
        .stmt('SELECT * FROM subjects WHERE id IN (SELECT value FROM json_each(?)) AND +org_id = ?')
        .all(JSON.stringify(ids), orgId)
        .map(subjects.fromRow);
    },
    async getByCodes(orgId, codes) {
      if (codes.length === 0) return [];
      return db
        .stmt('SELECT * FROM subjects WHERE org_id = ? AND code IN (SELECT value FROM json_each(?))')
        .all(orgId, JSON.stringify(codes))
        .map(subjects.fromRow);
    },
    async list(orgId, f: SubjectFilter) {
      const where = ['s.org_id = @orgId'];
      const params: Row = { orgId };
      if (f.teacherId !== undefined) {
        where.push('EXISTS (SELECT 1 FROM json_each(s.teacher_ids) t WHERE t.value = @teacherId)');
        params.teacherId = f.teacherId;
      }
      if (f.studentId !== undefined) {
        where.push('EXISTS (SELECT 1 FROM enrolments e WHERE e.subject_id = s.id AND e.org_id = s.org_id AND e.student_id = @studentId)');
        params.studentId = f.studentId;
      }
      if (f.archived !== undefined) where.push(f.archived ? 's.archived_at IS NOT NULL' : 's.archived_at IS NULL');
      if (f.q) {
        where.push(`(${contains('s.code')} OR ${contains('s.name')})`);
        params.q = foldForSearch(f.q);
      }
      return page(db, 'subjects s', where, 's.code, s.id', params, subjects.fromRow, f);
    },
    async update(orgId, id, patch: SubjectPatch, fence) {
      const r = mapConflicts(() =>
        db.tx(() => {
          // The leases renewed in the update's transaction, as a fenced meeting edit's.
          if (fence) renewFence(db, fence);
          const cur = get(orgId, id);
          if (!cur) return undefined;
          const next: Subject = { ...cur, ...definedOnly(patch), updatedAt: clock() };
          return db
            .stmt(
              `UPDATE subjects SET code = @code, name = @name, teacher_ids = @teacher_ids, location = @location,
                 allowed_ip_ranges = @allowed_ip_ranges, archived_at = @archived_at, updated_at = @updated_at
               WHERE org_id = @org_id AND id = @id RETURNING *`,
            )
            .get(subjects.toRow(next));
        }),
      );
      return r ? subjects.fromRow(r) : null;
    },
    async setTeachersEach(orgId, swaps, fence, entries = []) {
      const now = clock().getTime();
      const rows = db.tx(() => {
        if (fence) renewFence(db, fence);
        // Compared minified (json()), whoever wrote the row: the same ids in the same order.
        const swap = db.stmt(
          `UPDATE subjects SET teacher_ids = @to, updated_at = @now
           WHERE org_id = @orgId AND id = @id AND json(teacher_ids) = json(@from) RETURNING *`,
        );
        const written = swaps.map((w) => {
          const r = swap.get({ orgId, id: w.id, now, from: JSON.stringify(w.from), to: JSON.stringify(w.to) });
          // Thrown inside the transaction: what it wrote before is rolled back.
          if (!r) throw new StoreConflictError(`teacherIds:${w.id}`);
          return r;
        });
        // In the transaction: a node dying after it leaves the change with its entries, before it neither.
        for (const entry of entries) db.stmt(auditInsert).run(audit.toRow({ id: newTimeOrderedId(), ...entry }));
        return written;
      });
      return rows.map(subjects.fromRow);
    },
    async delete(orgId, id) {
      // Enrolments go with the subject (ON DELETE CASCADE).
      return db.stmt('DELETE FROM subjects WHERE org_id = ? AND id = ?').run(orgId, id).changes === 1;
    },
    async enrol(orgId, subjectId, studentIds) {
      return db.tx(() => enrolIn(orgId, subjectId, studentIds));
    },
    async enrolMany(orgId, bySubject, entry) {
      return db.tx(() => new Map([...bySubject].map(([subjectId, ids]) => [subjectId, enrolIn(orgId, subjectId, ids, entry)])));
    },
    async unenrol(orgId, subjectId, studentIds) {
      if (studentIds.length === 0) return 0;
      return db
        .stmt(
          `DELETE FROM enrolments WHERE org_id = ? AND subject_id = ?
           AND student_id IN (SELECT value FROM json_each(?))`,
        )
        .run(orgId, subjectId, JSON.stringify(studentIds)).changes;
    },
    async unenrolStudent(orgId, studentId, subjectIds) {
      if (subjectIds.length === 0) return 0;
      return db
        .stmt(
          // By enrolments_student (org_id, student_id).
          `DELETE FROM enrolments WHERE org_id = ? AND student_id = ?
           AND subject_id IN (SELECT value FROM json_each(?))`,
        )
        .run(orgId, studentId, JSON.stringify(subjectIds)).changes;
    },
    async listEnrolled(orgId, subjectId) {
      return (
        db
          // By the (subject_id, student_id) key: on org_id SQLite read every enrolment of the organisation.
          .stmt<{ student_id: string }>(
            'SELECT student_id FROM enrolments WHERE subject_id = ? AND +org_id = ? ORDER BY created_at, student_id',
          )
          .all(subjectId, orgId)
          .map((r) => r.student_id)
      );
    },
    async isEnrolled(orgId, subjectId, studentId) {
      return (
        db
          .stmt('SELECT 1 AS one FROM enrolments WHERE org_id = ? AND subject_id = ? AND student_id = ?')
          .get(orgId, subjectId, studentId) !== undefined
      );
    },
    async enrolledAmong(orgId, subjectId, studentIds) {
      if (studentIds.length === 0) return [];
      return db
        .stmt<{ student_id: string }>(
          // By the (subject_id, student_id) key; `+org_id` keeps SQLite off the org's index.
          `SELECT student_id FROM enrolments WHERE subject_id = ? AND student_id IN (SELECT value FROM json_each(?))
           AND +org_id = ?`,
        )
        .all(subjectId, JSON.stringify(studentIds), orgId)
        .map((r) => r.student_id);
    },
    async enrolmentsOf(orgId, studentIds) {
      if (studentIds.length === 0) return [];
      return db
        .stmt<{ student_id: string; subject_id: string }>(
          // By enrolments_student (org_id, student_id).
          'SELECT student_id, subject_id FROM enrolments WHERE org_id = ? AND student_id IN (SELECT value FROM json_each(?))',
        )
        .all(orgId, JSON.stringify(studentIds))
        .map((r) => ({ studentId: r.student_id, subjectId: r.subject_id }));
    },
  };
}

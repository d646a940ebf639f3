import { expect } from 'chai';
import { SqliteDb } from '../../../src/store/sqlite/db.js';
import { SCHEDULED_SESSIONS, SUBJECT_SESSIONS_DURING, TEACHER_SESSIONS_DURING } from '../../../src/store/sqlite/attendance.js';

// The admins' list of sessions left without a teacher reads the organisation's scheduled
// sessions at each request; without migration 42 that scanned every session the organisation
// ever had (years of closed ones) through sessions_org_day.
describe('SQLite indexes of sessions', function () {
  let db: SqliteDb;
  beforeEach(function () {
    db = new SqliteDb(':memory:');
  });
  afterEach(function () {
    db.close();
  });

  it('reads them through sessions_org_status_start, in its order (no sort step)', function () {
    const plan = (db.raw.prepare(`EXPLAIN QUERY PLAN ${SCHEDULED_SESSIONS}`).all('o1', 0) as { detail: string }[]).map((r) => r.detail);
    expect(plan.join(' | ')).to.contain('SEARCH sessions USING INDEX sessions_org_status_start (org_id=? AND status=? AND starts_at>?)');
    expect(plan.join(' | ')).to.not.contain('TEMP B-TREE');
  });

  // Every clash check read all of a teacher's or a subject's open and scheduled sessions (the
  // timetable's whole horizon) for the few overlapping its window: n² over a timetable run.
  const window = { orgId: 'o1', teacherId: 't1', subjectIds: '["s1"]', exceptSubjectId: 's1', startsAt: 2, closesAt: 3, earliest: 1 };
  const planOf = (sql: string) =>
    (db.raw.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(window) as { detail: string }[]).map((r) => r.detail).join(' | ');

  it("reads a teacher's sessions of a window as a range of starts of sessions_org_teacher_start", function () {
    expect(planOf(TEACHER_SESSIONS_DURING)).to.contain(
      'SEARCH sessions USING INDEX sessions_org_teacher_start (org_id=? AND teacher_id=? AND status=? AND starts_at>? AND starts_at<?)',
    );
  });

  it("reads a subject's sessions of a window as a range of starts of sessions_org_subject, not the organisation's active ones", function () {
    expect(planOf(SUBJECT_SESSIONS_DURING)).to.contain(
      'SEARCH sessions USING INDEX sessions_org_subject (org_id=? AND subject_id=? AND starts_at>? AND starts_at<?)',
    );
  });

  it("has no index of a teacher's sessions without their start (migration 43 dropped it, a prefix of the new one)", function () {
    const names = (
      db.raw.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'sessions'`).all() as { name: string }[]
    ).map((r) => r.name);
    expect(names).to.include('sessions_org_teacher_start').and.not.include('sessions_org_teacher');
  });
});

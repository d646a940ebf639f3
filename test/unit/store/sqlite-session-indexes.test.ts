import { expect } from 'chai';
import { ACTIVE_SESSION_STATES } from '../../../src/shared/events.js';
import { SqliteDb } from '../../../src/store/sqlite/db.js';
import {
  SCHEDULED_SESSIONS,
  SUBJECT_ACTIVE_SESSIONS,
  SUBJECT_SESSIONS_DURING,
  TEACHER_SESSIONS_DURING,
} from '../../../src/store/sqlite/attendance.js';

// The admins' list of sessions left without a teacher reads the organisation's scheduled
// sessions at each request; without migration 42 that scanned every session the organisation
// ever had (years of closed ones) through sessions_org_day.
const ACTIVE_TERM = `status IN (${ACTIVE_SESSION_STATES.map((s) => `'${s}'`).join(', ')})`;

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

  // A student's live list and each reconnect: through sessions_org_subject it read every session
  // the subjects ever had (a year of closed ones) for the few active ones.
  it("reads the subjects' active sessions through the partial sessions_org_subject_active (migration 44)", function () {
    const plan = (db.raw.prepare(`EXPLAIN QUERY PLAN ${SUBJECT_ACTIVE_SESSIONS}`).all('o1', '["s1","s2"]') as { detail: string }[])
      .map((r) => r.detail)
      .join(' | ');
    expect(plan).to.contain('SEARCH sessions USING INDEX sessions_org_subject_active (org_id=? AND subject_id=?)');
  });

  it('sessions_org_subject_active holds only the active sessions: a closing leaves it, a reopening is back', function () {
    const insert = db.raw.prepare(
      `INSERT INTO sessions (id, org_id, subject_id, teacher_id, status, policy, starts_at, late_after, closes_at, code_secret, day,
         created_at, updated_at) VALUES (?, 'o1', 's1', 't1', ?, '{}', ?, 0, 0, 'k', '2026-03-04', 0, 0)`,
    );
    insert.run('a', 'closed', 1);
    insert.run('b', 'open', 2);
    insert.run('c', 'scheduled', 3);
    insert.run('d', 'cancelled', 4);
    insert.run('e', 'closing', 5);
    const inIndex = () =>
      (
        db.raw
          .prepare(
            `SELECT id FROM sessions INDEXED BY sessions_org_subject_active WHERE org_id = 'o1' AND subject_id = 's1' AND ${ACTIVE_TERM} ORDER BY starts_at`,
          )
          .all() as { id: string }[]
      ).map((r) => r.id);
    expect(inIndex()).to.deep.equal(['b', 'c']);
    // The index's own entries (ANALYZE counts its b-tree), not the table filtered after it.
    const entries = () => {
      db.raw.exec('ANALYZE sessions');
      const stat = db.raw.prepare(`SELECT stat FROM sqlite_stat1 WHERE idx = 'sessions_org_subject_active'`).get() as { stat: string };
      return Number(stat.stat.split(' ')[0]);
    };
    expect(entries()).to.equal(2);
    db.raw.prepare(`UPDATE sessions SET status = 'closed' WHERE id = 'b'`).run();
    expect(inIndex()).to.deep.equal(['c']);
    db.raw.prepare(`UPDATE sessions SET status = 'open' WHERE id = 'a'`).run();
    expect(inIndex()).to.deep.equal(['a', 'c']);
    expect(entries()).to.equal(2);
  });

  it("keeps every other session read's plan: a teacher's active sessions, a subject's history", function () {
    const of = (sql: string, ...p: unknown[]) =>
      (db.raw.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...(p as never[])) as { detail: string }[]).map((r) => r.detail).join(' | ');
    expect(
      of(`SELECT * FROM sessions WHERE org_id = ? AND teacher_id = ? AND ${ACTIVE_TERM} ORDER BY starts_at, id`, 'o1', 't1'),
    ).to.contain('SEARCH sessions USING INDEX sessions_org_teacher_start (org_id=? AND teacher_id=? AND status=?)');
    expect(
      of(`SELECT * FROM sessions WHERE org_id = ? AND subject_id = ? ORDER BY starts_at DESC, created_at DESC, id LIMIT 10`, 'o1', 's1'),
    ).to.contain('SEARCH sessions USING INDEX sessions_org_subject (org_id=? AND subject_id=?)');
  });

  it("has no index of a teacher's sessions without their start (migration 43 dropped it, a prefix of the new one)", function () {
    const names = (
      db.raw.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'sessions'`).all() as { name: string }[]
    ).map((r) => r.name);
    expect(names).to.include('sessions_org_teacher_start').and.not.include('sessions_org_teacher');
  });
});

import { expect } from 'chai';
import { SqliteDb } from '../../../src/store/sqlite/db.js';

// The indexes a check-in pays for in the record writer's commit (docs/multi-node.md, "Load"):
// each must serve a query. Migration 26 dropped records_session, whose (org_id, session_id)
// prefix records_session_roster has too; the queries of a session's records still search an
// index, none scans the table.

describe('SQLite indexes of records', function () {
  let db: SqliteDb;
  beforeEach(function () {
    db = new SqliteDb(':memory:');
  });
  afterEach(function () {
    db.close();
  });

  const plan = (sql: string, ...args: unknown[]) =>
    (db.raw.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((r) => r.detail).join(' | ');

  it('keeps one index by session, the one by roster version', function () {
    const names = (
      db.raw.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records'").all() as { name: string }[]
    )
      .map((r) => r.name)
      .sort();
    expect(names).to.deep.equal(['records_session_roster', 'records_student', 'sqlite_autoindex_records_1', 'sqlite_autoindex_records_2']);
  });

  it("searches an index for every query of a session's records", function () {
    const queries: [string, ...unknown[]][] = [
      ['SELECT * FROM records WHERE org_id = ? AND session_id = ? ORDER BY created_at, id', 'o', 's'],
      ['SELECT * FROM records WHERE org_id = ? AND session_id IN (SELECT value FROM json_each(?)) ORDER BY created_at, id', 'o', '[]'],
      ['SELECT count(*) AS n FROM records WHERE org_id = ? AND session_id = ?', 'o', 's'],
      ['SELECT id FROM records WHERE org_id = ? AND session_id = ? AND roster_version > ?', 'o', 's', 0],
      ['SELECT * FROM records WHERE org_id = ? AND session_id = ? AND student_id <> ? AND device_id = ? LIMIT 3', 'o', 's', 'x', 'd'],
      ['SELECT * FROM records WHERE session_id = ? AND student_id IN (SELECT value FROM json_each(?)) AND +org_id = ?', 's', '[]', 'o'],
      ['SELECT * FROM records WHERE org_id = ? AND session_id = ? AND student_id = ?', 'o', 's', 'x'],
    ];
    for (const [sql, ...args] of queries) {
      const detail = plan(sql, ...args);
      expect(detail, sql).to.match(/SEARCH records USING (COVERING )?INDEX (records_session_roster|sqlite_autoindex_records_2) /);
      expect(detail, sql).not.to.match(/SCAN records/);
    }
  });
});

import { expect } from 'chai';
import { SqliteDb } from '../../../src/store/sqlite/db.js';
import { auditQuery } from '../../../src/store/sqlite/reports.js';

// The indexes a check-in pays for in the record writer's commit (docs/multi-node.md, "Load"):
// each must serve a query. Migration 26 dropped records_session, whose (org_id, session_id)
// prefix records_session_roster has too; the queries of a session's records still search an
// index, none scans the table. Migration 38 put the unique key's student first and dropped
// records_student: a student's records are searched by the key's first column, never read
// through the organisation's prefix of records_session_roster.

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

  it('keeps one index by session, the one by roster version, and none by student but the key; the queued-verification index is partial', function () {
    const names = (
      db.raw.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records'").all() as { name: string }[]
    )
      .map((r) => r.name)
      .sort();
    expect(names).to.deep.equal([
      'records_session_roster',
      'records_verification_queued',
      'sqlite_autoindex_records_1',
      'sqlite_autoindex_records_2',
    ]);
    // Only a record whose selfie verification is queued pays for it: not a check-in without one.
    const partial = db.raw.prepare("SELECT partial FROM pragma_index_list('records') WHERE name = 'records_verification_queued'").get() as {
      partial: number;
    };
    expect(partial.partial).to.equal(1);
    const key = db.raw.prepare("SELECT name FROM pragma_index_info('sqlite_autoindex_records_2') ORDER BY seqno").all() as {
      name: string;
    }[];
    expect(key.map((c) => c.name)).to.deep.equal(['student_id', 'session_id']);
  });

  it("searches the key by student for every query of a student's records", function () {
    const page = auditQuery('o', { actorId: 'x' });
    const queries: [string, ...unknown[]][] = [
      [
        `SELECT r.* FROM records r LEFT JOIN sessions s ON s.id = r.session_id AND s.org_id = r.org_id
         WHERE +r.org_id = ? AND r.student_id = ? ORDER BY s.starts_at DESC NULLS LAST, r.id DESC LIMIT ? OFFSET ?`,
        'o',
        'x',
        10,
        0,
      ],
      ['SELECT count(*) AS n FROM records WHERE +org_id = ? AND student_id = ?', 'o', 'x'],
      ['SELECT id, session_id FROM records WHERE +org_id = ? AND student_id = ?', 'o', 'x'],
      ["UPDATE records SET student_id = 'y', version = version + 1 WHERE +org_id = ? AND student_id = ?", 'o', 'x'],
      [page.page, { ...page.params, limit: 10, offset: 0 }],
      [page.count, page.params],
    ];
    for (const [sql, ...args] of queries) {
      const detail = plan(sql, ...args);
      expect(detail, sql).to.match(/SEARCH r(ecords)? USING INDEX sqlite_autoindex_records_2 \(student_id=\?\)/);
      expect(detail, sql).not.to.match(/records_session_roster \(org_id=\?\)/);
      expect(detail, sql).not.to.match(/SCAN r(ecords)?\b/);
    }
  });

  it('finds the verifications lost with their node from the queued records, never scanning the records', function () {
    const detail = plan(
      `SELECT r.* FROM records r INDEXED BY records_verification_queued
       JOIN sessions s ON s.org_id = r.org_id AND s.id = r.session_id
       WHERE r.status = 'pending' AND json_extract(r.verification, '$.state') = 'queued' AND r.submitted_at < ?
         AND (s.status IN ('open', 'scheduled') OR (s.status = 'closed' AND s.closes_at >= ?))
       ORDER BY r.submitted_at, r.id LIMIT 10`,
      0,
      0,
    );
    expect(detail).to.match(/SEARCH r USING INDEX records_verification_queued/);
    expect(detail).not.to.match(/SCAN r\b/);
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

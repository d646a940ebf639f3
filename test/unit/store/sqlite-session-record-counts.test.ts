import { expect } from 'chai';
import Database from 'better-sqlite3';
import { applyMigrations, MIGRATIONS } from '../../../src/store/sqlite/migrations.js';

// Each session's record count, which the group commit reads per batch and session (a deletion shows
// as a count below the peers it knows): kept by migration 33's triggers and read by key, where
// count(*) walked the session's index entries on the main thread. Every way a record comes or goes
// keeps it equal to count(*); the contract suite checks the count the store answers on both stores.

describe("SQLite: each session's record count (migration 33)", function () {
  let db: Database.Database;
  let next = 0;
  beforeEach(function () {
    db = new Database(':memory:');
  });
  afterEach(function () {
    db.close();
  });

  /** A record row with every required column filled (the columns of whatever schema the file has). */
  function insertRecord(orgId: string, sessionId: string, studentId = `student-${++next}`): string {
    const columns = db
      .prepare<[], { name: string; type: string; notnull: number; dflt_value: unknown }>("SELECT * FROM pragma_table_info('records')")
      .all();
    const id = `record-${++next}`;
    const given: Record<string, unknown> = { id, org_id: orgId, session_id: sessionId, student_id: studentId };
    const used = columns.filter((c) => c.name in given || (c.notnull === 1 && c.dflt_value === null));
    const values = used.map((c) => (c.name in given ? given[c.name] : c.type === 'INTEGER' || c.type === 'REAL' ? 0 : 'x'));
    db.prepare(`INSERT INTO records (${used.map((c) => c.name).join(', ')}) VALUES (${used.map(() => '?').join(', ')})`).run(...values);
    return id;
  }

  /** The kept counts and count(*), by organisation and session. */
  function counts(): { kept: Record<string, number>; counted: Record<string, number> } {
    const rows = (sql: string) =>
      Object.fromEntries(
        db
          .prepare<[], { org_id: string; session_id: string; n: number }>(sql)
          .all()
          .map((r) => [`${r.org_id}/${r.session_id}`, r.n]),
      );
    return {
      kept: rows('SELECT org_id, session_id, n FROM session_record_counts'),
      counted: rows('SELECT org_id, session_id, count(*) AS n FROM records GROUP BY org_id, session_id'),
    };
  }

  it('counts the records a file already held when it is migrated', function () {
    applyMigrations(
      db,
      MIGRATIONS.filter((m) => m.version < 33),
    );
    for (let i = 0; i < 3; i += 1) insertRecord('org-a', 'session-1');
    insertRecord('org-a', 'session-2');
    insertRecord('org-b', 'session-3');
    applyMigrations(db);
    const { kept, counted } = counts();
    expect(kept).to.deep.equal({ 'org-a/session-1': 3, 'org-a/session-2': 1, 'org-b/session-3': 1 });
    expect(kept).to.deep.equal(counted);
  });

  it('follows every insert, delete and move of a record; a session without records keeps no row', function () {
    applyMigrations(db);
    const ids = [insertRecord('org-a', 'session-1'), insertRecord('org-a', 'session-1'), insertRecord('org-a', 'session-2')];
    // Ignored and refused inserts count nothing.
    db.prepare(
      `INSERT INTO records (id, org_id, session_id, subject_id, student_id, status, flags, attempts, version, created_at, updated_at, roster_version)
       SELECT id, org_id, session_id, subject_id, student_id, status, flags, attempts, version, created_at, updated_at, roster_version
         FROM records WHERE id = ? ON CONFLICT DO NOTHING`,
    ).run(ids[0]);
    expect(() =>
      insertRecord(
        'org-a',
        'session-1',
        db.prepare<[string], { student_id: string }>('SELECT student_id FROM records WHERE id = ?').get(ids[0]!)!.student_id,
      ),
    ).to.throw(/UNIQUE/);
    expect(counts().kept).to.deep.equal({ 'org-a/session-1': 2, 'org-a/session-2': 1 });

    db.prepare('UPDATE records SET session_id = ? WHERE id = ?').run('session-2', ids[0]);
    db.prepare('UPDATE records SET org_id = ?, session_id = ? WHERE id = ?').run('org-b', 'session-3', ids[2]);
    db.prepare("UPDATE records SET status = 'late' WHERE id = ?").run(ids[1]);
    expect(counts().kept).to.deep.equal({ 'org-a/session-1': 1, 'org-a/session-2': 1, 'org-b/session-3': 1 });

    db.prepare('DELETE FROM records WHERE id IN (?, ?)').run(ids[1], ids[2]);
    const { kept, counted } = counts();
    expect(kept).to.deep.equal({ 'org-a/session-2': 1 });
    expect(kept).to.deep.equal(counted);
  });

  it("reads a session's count by key, without walking its records", function () {
    applyMigrations(db);
    const plan = db
      .prepare<[string, string], { detail: string }>(
        'EXPLAIN QUERY PLAN SELECT n FROM session_record_counts WHERE org_id = ? AND session_id = ?',
      )
      .all('o', 's')
      .map((r) => r.detail)
      .join(' | ');
    expect(plan).to.match(/SEARCH session_record_counts USING PRIMARY KEY \(org_id=\? AND session_id=\?\)/);
  });
});

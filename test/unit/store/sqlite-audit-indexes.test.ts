import { expect } from 'chai';
import { SqliteDb } from '../../../src/store/sqlite/db.js';
import { auditQuery, SESSION_TRAIL } from '../../../src/store/sqlite/reports.js';

// Every check-in appends an audit entry, which pays for each index of the table in the record
// writer's commit (docs/multi-node.md, "Load"): each index must be the one a reader searches.
// An index dropped or narrowed, or a reader that stops using its index, changes these plans.

describe('SQLite indexes of the audit trail', function () {
  let db: SqliteDb;
  beforeEach(function () {
    db = new SqliteDb(':memory:');
  });
  afterEach(function () {
    db.close();
  });

  const plan = (sql: string, params: object) =>
    (db.raw.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as { detail: string }[]).map((r) => r.detail).join(' | ');
  const pagePlan = (f: Parameters<typeof auditQuery>[1]) => {
    const q = auditQuery('o1', f);
    return plan(q.page, { ...q.params, limit: 50, offset: 0 });
  };

  it('has the rowid, the unique id and five indexes, audit_actor and audit_session without the check-ins their records lead to, audit_rollover of roll-overs alone', function () {
    const rows = db.raw.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit' ORDER BY name").all() as {
      name: string;
      sql: string | null;
    }[];
    expect(rows.map((r) => r.name)).to.deep.equal([
      'audit_actor',
      'audit_entity',
      'audit_org_at',
      'audit_rollover',
      'audit_session',
      'sqlite_autoindex_audit_1',
    ]);
    // Each check-in's entry dirtied a leaf page of audit_actor of its own (keyed by the student's
    // random id): the page by actor reaches those through the student's records (migration 31).
    // audit_session's tail pages, one or more per session a batch spans: the session's records (38).
    for (const r of rows) {
      if (r.name === 'audit_actor' || r.name === 'audit_session')
        expect(r.sql, r.name).to.match(/ WHERE action <> 'checkin\.submit' OR orphaned = 1$/);
      // A check-in's entry is not a roll-over's, so it never writes a page of this one (39).
      else if (r.name === 'audit_rollover') expect(r.sql, r.name).to.match(/ WHERE action = 'subject\.rollover'$/);
      else expect(r.sql ?? '', r.name).not.to.match(/\bWHERE\b/i);
    }
  });

  it('numbers entries by a plain rowid, without the sqlite_sequence row AUTOINCREMENT writes in every commit (migration 41)', function () {
    const table = db.raw.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'audit'").get() as { sql: string };
    expect(table.sql).to.match(/\bseq INTEGER PRIMARY KEY,/);
    expect(table.sql).not.to.match(/AUTOINCREMENT/i);
    db.raw
      .prepare(
        `INSERT INTO audit (id, org_id, entity_type, entity_id, actor_id, action, at) VALUES ('a1', 'o1', 'record', 'r1', 'st1', 'checkin.submit', 1)`,
      )
      .run();
    expect(db.raw.prepare("SELECT count(*) AS n FROM sqlite_sequence WHERE name = 'audit'").get()).to.deep.equal({ n: 0 });
  });

  it('serves each selector of the audit page but the actor and the session from its own index, in time order without a sort', function () {
    const cases: [Parameters<typeof auditQuery>[1], string][] = [
      [{ entityType: 'record', entityId: 'r1' }, 'SEARCH audit USING INDEX audit_entity (org_id=? AND entity_type=? AND entity_id=?)'],
      [{}, 'SEARCH audit USING INDEX audit_org_at (org_id=?)'],
    ];
    for (const [f, expected] of cases) {
      const detail = pagePlan(f);
      expect(detail, JSON.stringify(f)).to.contain(expected);
      expect(detail, JSON.stringify(f)).not.to.contain('TEMP B-TREE');
    }
  });

  it('reads the page and count by actor in two parts, neither scanning the audit table: check-ins through records, the rest from audit_actor', function () {
    const forms: Parameters<typeof auditQuery>[1][] = [
      { actorId: 'u1' },
      { actorId: 'u1', actions: ['checkin.submit', 'user.update'] },
      { actorId: 'u1', from: new Date(0), before: new Date(1) },
      { actorId: 'u1', sessionId: 's1' },
      { actorId: 'u1', sessionId: 's1', actions: ['checkin.submit'], from: new Date(0), before: new Date(1) },
      { actorId: 'u1', entityType: 'record', entityId: 'r1' },
    ];
    for (const f of forms) {
      const q = auditQuery('o1', f);
      for (const detail of [pagePlan(f), plan(q.count, q.params)]) {
        // With an entity, the record by its id.
        expect(detail, JSON.stringify(f)).to.contain(
          f.entityId === undefined ? 'SEARCH r USING INDEX sqlite_autoindex_records_2 (student_id=?)' : 'SEARCH r USING INDEX',
        );
        expect(detail, JSON.stringify(f)).to.contain('SEARCH a USING INDEX audit_entity (org_id=? AND entity_type=? AND entity_id=?');
        expect(detail, JSON.stringify(f)).not.to.match(/SCAN (audit|a|r)\b/);
      }
      // Only the check-ins, a student's few, are sorted; the rest comes in order from audit_actor
      // (or, with a session, from audit_session, which has the same condition).
      if (f.entityType === undefined)
        expect(pagePlan(f), JSON.stringify(f)).to.match(
          /SEARCH audit USING INDEX (audit_actor \(org_id=\? AND actor_id=\?|audit_session \(org_id=\? AND session_id=\?)/,
        );
    }
    // Without check-ins among the actions or entities asked for, the page is audit_actor's alone.
    for (const f of [
      { actorId: 'u1', actions: ['user.update' as const] },
      { actorId: 'u1', entityType: 'user' as const },
    ]) {
      const detail = pagePlan(f);
      expect(detail, JSON.stringify(f)).to.contain('SEARCH audit USING INDEX audit_actor (org_id=? AND actor_id=?)');
      expect(detail, JSON.stringify(f)).not.to.contain('SEARCH r ');
      expect(detail, JSON.stringify(f)).not.to.contain('TEMP B-TREE');
    }
  });

  it('reads the page and count by session in two parts, neither scanning the audit table: check-ins through records, the rest from audit_session', function () {
    const forms: Parameters<typeof auditQuery>[1][] = [
      { sessionId: 's1' },
      { sessionId: 's1', actions: ['checkin.submit', 'record.correct'] },
      { sessionId: 's1', from: new Date(0), before: new Date(1) },
      { sessionId: 's1', entityType: 'record', entityId: 'r1' },
    ];
    for (const f of forms) {
      const q = auditQuery('o1', f);
      for (const detail of [pagePlan(f), plan(q.count, q.params)]) {
        expect(detail, JSON.stringify(f)).to.contain(
          f.entityId === undefined ? 'SEARCH r USING INDEX records_session_roster (org_id=? AND session_id=?)' : 'SEARCH r USING INDEX',
        );
        expect(detail, JSON.stringify(f)).to.contain('SEARCH a USING INDEX audit_entity (org_id=? AND entity_type=? AND entity_id=?');
        expect(detail, JSON.stringify(f)).not.to.match(/SCAN (audit|a|r)\b/);
      }
      if (f.entityType === undefined)
        expect(pagePlan(f), JSON.stringify(f)).to.contain('SEARCH audit USING INDEX audit_session (org_id=? AND session_id=?');
    }
    // Without check-ins among the actions asked for, the page is audit_session's alone, in order.
    const detail = pagePlan({ sessionId: 's1', actions: ['session.close'] });
    expect(detail).to.contain('SEARCH audit USING INDEX audit_session (org_id=? AND session_id=?)');
    expect(detail).not.to.contain('SEARCH r ');
    expect(detail).not.to.contain('TEMP B-TREE');
  });

  it("reads a record's and a session's trail, and rewrites an entry, by an index", function () {
    expect(
      plan('SELECT * FROM audit WHERE org_id = @o AND entity_type = @t AND entity_id = @e ORDER BY at, seq', {
        o: 'o',
        t: 'record',
        e: 'r',
      }),
    )
      .to.contain('INDEX audit_entity (org_id=? AND entity_type=? AND entity_id=?)')
      .and.not.contain('TEMP B-TREE');
    // A session's trail in two parts, as its page (reporting.ts).
    const trail = plan(SESSION_TRAIL, { orgId: 'o', sessionId: 's' });
    expect(trail).to.contain('SEARCH r USING INDEX records_session_roster (org_id=? AND session_id=?)');
    expect(trail).to.contain('SEARCH a USING INDEX audit_entity (org_id=? AND entity_type=? AND entity_id=?)');
    expect(trail).to.contain('SEARCH audit USING INDEX audit_session (org_id=? AND session_id=?)');
    expect(trail).not.to.match(/SCAN (audit|a|r)\b/);
    // Erasure's scrub and retention's address cut rewrite entries by their id.
    expect(plan('UPDATE audit SET ip = @ip WHERE id = @id AND ip = @old', { ip: 'x', id: 'a', old: 'y' })).to.contain(
      'INDEX sqlite_autoindex_audit_1 (id=?)',
    );
  });
});

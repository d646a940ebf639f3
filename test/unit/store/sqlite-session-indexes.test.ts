import { expect } from 'chai';
import { SqliteDb } from '../../../src/store/sqlite/db.js';
import { SCHEDULED_SESSIONS } from '../../../src/store/sqlite/attendance.js';

// The admins' list of sessions left without a teacher reads the organisation's scheduled
// sessions at each request; without migration 42 that scanned every session the organisation
// ever had (years of closed ones) through sessions_org_day.
describe('SQLite index of an organisation scheduled sessions', function () {
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
});

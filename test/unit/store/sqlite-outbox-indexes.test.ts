import { expect } from 'chai';
import { SqliteDb } from '../../../src/store/sqlite/db.js';
import { outboxListWhere } from '../../../src/store/sqlite/outbox.js';

// The outbox keeps every email for 30 days: a school's alerts and digests reach 100 000 rows.
// Searching them by recipient scanned them all (341 ms for one address, migration 34).
describe('SQLite index of the outbox search by recipient', function () {
  let db: SqliteDb;
  beforeEach(function () {
    db = new SqliteDb(':memory:');
  });
  afterEach(function () {
    db.close();
  });

  const plan = (recipient: string, status?: 'sent') => {
    const { where, args } = outboxListWhere('o1', { limit: 50, offset: 0, recipient, ...(status ? { status } : {}) });
    const sql = `EXPLAIN QUERY PLAN SELECT * FROM outbox WHERE ${where} ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?`;
    return (db.raw.prepare(sql).all(...args, 50, 0) as { detail: string }[]).map((r) => r.detail).join(' | ');
  };

  it('finds an address, or its start in any case, through its index, with or without a status', function () {
    for (const [recipient, status] of [['ann@school.test'], ['ANN_%\\'], ['ann', 'sent']] as const) {
      expect(plan(recipient, status), recipient).to.contain(
        'SEARCH outbox USING INDEX outbox_org_recipient (org_id=? AND recipient>? AND recipient<?)',
      );
    }
  });
});

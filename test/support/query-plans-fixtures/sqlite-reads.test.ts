import { expect } from 'chai';
import { SqliteDb } from '../../../src/store/sqlite/db.js';

// Run by test/unit/scripts/query-plans-command.test.ts under the documented query-plans
// command, never by the suite: one read of `records` and one of `audit` whose plans it records.
describe('reads of records and audit on a migrated SQLite store', () => {
  it('reads both tables', () => {
    const db = new SqliteDb(':memory:');
    try {
      expect(db.raw.prepare('SELECT count(*) AS n FROM records WHERE session_id = ?').get('s1')).to.deep.equal({ n: 0 });
      expect(db.raw.prepare('SELECT id FROM audit WHERE org_id = ? ORDER BY at DESC LIMIT 5').all('o1')).to.deep.equal([]);
    } finally {
      db.close();
    }
  });
});

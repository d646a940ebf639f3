import Database from 'better-sqlite3';
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isBusy, isDatabaseWide, toConflict } from '../../src/store/sqlite/db.js';
import { StoreConflictError } from '../../src/domain/ports/common.js';

describe('SQLite errors: one write or the whole database', () => {
  it('takes a real busy database as database-wide and a real unique violation as one write’s conflict', () => {
    // Two connections to one file: the second meets the first's write lock.
    const dir = mkdtempSync(path.join(tmpdir(), 'sqlite-errors-'));
    const file = path.join(dir, 'store.db');
    const a = new Database(file);
    const b = new Database(file);
    try {
      a.exec('CREATE TABLE t (k TEXT PRIMARY KEY)');
      a.exec('BEGIN IMMEDIATE');
      a.exec("INSERT INTO t VALUES ('x')");
      b.pragma('busy_timeout = 0');
      let busy: unknown;
      try {
        b.exec("INSERT INTO t VALUES ('y')");
      } catch (err) {
        busy = err;
      }
      expect(busy).to.be.instanceOf(Database.SqliteError);
      expect(isDatabaseWide(busy)).to.equal(true);
      expect(isBusy(busy)).to.equal(true);
      a.exec('COMMIT');

      let unique: unknown;
      try {
        a.exec("INSERT INTO t VALUES ('x')");
      } catch (err) {
        unique = err;
      }
      expect(isDatabaseWide(unique)).to.equal(false);
      expect(isBusy(unique)).to.equal(false);
      expect(toConflict(unique)).to.be.instanceOf(StoreConflictError);
    } finally {
      b.close();
      a.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves errors that are not SQLite’s to the write that threw them', () => {
    expect(isDatabaseWide(new Error('SQLITE_BUSY'))).to.equal(false);
    expect(isDatabaseWide(new StoreConflictError('key'))).to.equal(false);
  });
});

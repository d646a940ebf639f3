import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type Database from 'better-sqlite3';
import type { Ack } from '../../src/shared/errors.js';
import type { CheckinView } from '../../src/shared/events.js';
import { createSqliteStore, type SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { startTestServer, type TestServer } from '../support/http.js';
import { openLiveClass } from '../support/live-class.js';
import { command, ok, type ClientSocket } from '../support/sockets.js';

const STUDENTS = 30;

/**
 * Fills the database up to `pages` more pages through the store's own connection (its page
 * limit is per connection), so the next writes that need a page fail as on a full disk.
 */
function fillDisk(db: Database.Database): void {
  const pages = db.pragma('page_count', { simple: true }) as number;
  db.pragma(`max_page_count = ${pages + 8}`);
  db.exec('CREATE TABLE IF NOT EXISTS filler (x BLOB)');
  try {
    for (;;) db.prepare('INSERT INTO filler VALUES (zeroblob(1000))').run();
  } catch (err) {
    expect((err as { code?: string }).code).to.equal('SQLITE_FULL');
  }
}

// The store itself failing (a full disk, a read-only file) while students check in: each hears
// a coded, retryable UNAVAILABLE; nothing is acknowledged that was not stored; /readyz reports
// the store until a write commits again, with no restart.
describe('SQLite store: disk full and read-only', function () {
  this.timeout(30_000);
  let dir: string;
  let srv: TestServer | null = null;
  let store: SqliteStore;
  const sockets: ClientSocket[] = [];

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'store-faults-'));
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.disconnect();
    await srv?.cleanup();
    srv = null;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function liveSession(file: string) {
    srv = await startTestServer(
      {},
      {
        openStore: async () => {
          // The page limit and query_only below are per connection: the check-ins' batches commit
          // on this one (writerWorker false) for them to meet the fault. The record writer's own
          // connection hands the same SQLite errors back (test/integration/record-writer.test.ts).
          store = await createSqliteStore({ path: path.join(dir, file), checkpointWorker: false, writerWorker: false });
          return store;
        },
      },
    );
    const { org, sessionId, students, phones } = await openLiveClass(srv, sockets, STUDENTS);
    return { org, sessionId, students, phones };
  }

  it('refuses check-ins UNAVAILABLE while the disk is full, reports it on /readyz, and recovers when space returns', async () => {
    const { org, sessionId, students, phones } = await liveSession('full.db');
    expect((await srv!.request('GET', '/readyz')).status).to.equal(200);
    fillDisk(store.connection());

    const acks = await Promise.all(phones.map((p) => command(p, 'checkin:submit', { sessionId }) as Promise<Ack<CheckinView>>));
    const refused = acks.filter((a) => !a.ok);
    expect(refused.length, 'some check-ins meet the full disk').to.be.above(0);
    for (const a of refused) {
      expect(a.ok ? null : a.error.code).to.equal('UNAVAILABLE');
      expect(a.ok ? null : a.error.details?.['retryAfterMs'])
        .to.be.a('number')
        .above(0);
    }
    // Every acknowledged check-in is stored; none of the refused ones is.
    for (const [i, a] of acks.entries()) {
      const stored = await srv!.store.records.getForStudent(org.id, sessionId, students[i]!.id);
      expect(stored !== null, `student ${i}`).to.equal(a.ok);
    }
    const down = await srv!.request('GET', '/readyz');
    expect(down.status).to.equal(503);
    expect(down.body.store.ok).to.equal(false);

    // Space comes back: the probe's write commits, readiness returns, the refused retry.
    store.connection().pragma('max_page_count = 1073741823');
    expect((await srv!.request('GET', '/readyz')).status).to.equal(200);
    for (const [i, a] of acks.entries()) {
      if (a.ok) continue;
      expect(ok(await command(phones[i]!, 'checkin:submit', { sessionId })).status).to.equal('present');
    }
  });

  it('refuses check-ins UNAVAILABLE while the database is read-only, and recovers without a restart', async () => {
    const { sessionId, phones } = await liveSession('read-only.db');
    store.connection().pragma('query_only = 1');
    const refused = await command(phones[0]!, 'checkin:submit', { sessionId });
    expect(refused.ok ? null : refused.error.code).to.equal('UNAVAILABLE');
    expect((await srv!.request('GET', '/readyz')).status).to.equal(503);

    store.connection().pragma('query_only = 0');
    expect((await srv!.request('GET', '/readyz')).status).to.equal(200);
    expect(ok(await command(phones[0]!, 'checkin:submit', { sessionId })).status).to.equal('present');
  });
});

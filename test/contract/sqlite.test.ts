import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { applyMigrations, MIGRATIONS, SchemaTooNewError } from '../../src/store/sqlite/migrations.js';
import { toConflict } from '../../src/store/sqlite/db.js';
import { StoreConflictError } from '../../src/domain/ports/common.js';
import { auditQuery } from '../../src/store/sqlite/reports.js';
import { USERS_BY_STUDENT_NUMBERS } from '../../src/store/sqlite/directory.js';
import { AUDIT_ROLLOVERS } from '../../src/store/sqlite/reporting.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { DEFAULT_RETENTION } from '../../src/domain/ports/organisations.js';
import { pendingScopeKey } from '../../src/domain/ports/excuses.js';
import { storeContract, type OpenedStore } from './store-contract.js';
import { makeOrg, newUser } from './fixtures.js';
import { dumpSqliteFile } from '../support/store-dump.js';

/**
 * Counts the count queries a store's own connection runs from now on: each statement whose SQL
 * counts is wrapped as the store's statement cache prepares it.
 */
function countQueriesOf(raw: Database.Database): () => number {
  let n = 0;
  const prepare = raw.prepare.bind(raw);
  raw.prepare = ((sql: string) => {
    const stmt = prepare(sql);
    if (!/\bcount\(/i.test(sql)) return stmt;
    const get = stmt.get.bind(stmt);
    stmt.get = (...args: unknown[]) => {
      n += 1;
      return get(...args);
    };
    return stmt;
  }) as typeof raw.prepare;
  return () => n;
}

async function openFile(now?: () => Date, writerWorker = true): Promise<OpenedStore & { dir: string; file: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'attendance-sqlite-'));
  // A nested path also checks that the parent directory is created.
  const file = path.join(dir, 'nested', 'store.db');
  const store = await createSqliteStore({ path: file, writerWorker, ...(now ? { now } : {}) });
  return {
    store,
    dir,
    file,
    countQueries: countQueriesOf(store.connection()),
    dump: async () => dumpSqliteFile(file).text,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function openMemory(now?: () => Date): Promise<OpenedStore> {
  const store = await createSqliteStore({ path: ':memory:', ...(now ? { now } : {}) });
  return { store, countQueries: countQueriesOf(store.connection()), cleanup: () => store.close() };
}

// Batches committed by the record writer thread, and on the main connection (its fallback).
storeContract('sqlite (file)', openFile);
storeContract('sqlite (file, writes on the main connection)', (now) => openFile(now, false));
storeContract('sqlite (memory)', openMemory);

describe('sqlite store specifics', function () {
  let opened: Awaited<ReturnType<typeof openFile>>;
  beforeEach(async function () {
    opened = await openFile();
  });
  afterEach(async function () {
    await opened.cleanup();
  });

  const inspect = <T>(file: string, fn: (db: Database.Database) => T): T => {
    const db = new Database(file, { readonly: true });
    try {
      return fn(db);
    } finally {
      db.close();
    }
  };

  it('records each migration once and keeps data across a reopen', async function () {
    const org = await makeOrg(opened.store);
    const user = await opened.store.users.create(org.id, newUser());
    await opened.store.close();

    const rows = () =>
      inspect(opened.file, (db) => db.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all()) as {
        version: number;
        applied_at: number;
      }[];
    const before = rows();
    expect(before.map((r) => r.version)).to.deep.equal(MIGRATIONS.map((m) => m.version));

    const reopened = await createSqliteStore({ path: opened.file });
    try {
      expect(await reopened.users.get(org.id, user.id)).to.deep.equal(user);
      expect(await reopened.organisations.count()).to.equal(1);
    } finally {
      await reopened.close();
    }
    expect(rows()).to.deep.equal(before);
  });

  it('refuses to open a file a newer release has migrated (a rollback after an upgrade), naming both versions, and changes nothing', async function () {
    const org = await makeOrg(opened.store);
    await opened.store.close();
    const known = Math.max(...MIGRATIONS.map((m) => m.version));
    const db = new Database(opened.file);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(known + 1, 'from a newer release', 0);
    db.close();

    let refused: unknown = null;
    try {
      await (await createSqliteStore({ path: opened.file })).close();
    } catch (err) {
      refused = err;
    }
    expect(refused).to.be.instanceOf(SchemaTooNewError);
    expect((refused as Error).message)
      .to.contain(`schema version ${known + 1}`)
      .and.to.contain(`(${known})`);
    const reopened = inspect(opened.file, (d) => d.prepare('SELECT count(*) AS n FROM organisations WHERE id = ?').get(org.id)) as {
      n: number;
    };
    expect(reopened.n).to.equal(1);
    opened = { ...opened, cleanup: async () => rmSync(opened.dir, { recursive: true, force: true }) };
  });

  it('uses WAL journal mode and leaves no WAL content behind after close', async function () {
    await makeOrg(opened.store);
    await opened.store.close();
    expect(existsSync(`${opened.file}-wal`)).to.equal(false);
    const mode = inspect(opened.file, (db) => db.pragma('journal_mode', { simple: true }));
    expect(mode).to.equal('wal');
  });

  it('migration numbers are unique and increasing', function () {
    const versions = MIGRATIONS.map((m) => m.version);
    expect(versions).to.deep.equal([...new Set(versions)].sort((a, b) => a - b));
    expect(versions[0]).to.equal(1);
  });

  it('migration 3 keeps the organisations created before it, active and without settings', async function () {
    await opened.store.close();
    const file = path.join(opened.dir, 'v2.db');
    const db = new Database(file);
    applyMigrations(
      db,
      MIGRATIONS.filter((m) => m.version <= 2),
    );
    db.prepare("INSERT INTO organisations (id, name, slug, timezone, created_at) VALUES ('o1', 'Old', 'old', 'Europe/Rome', 1000)").run();
    db.close();
    const store = await createSqliteStore({ path: file });
    try {
      expect(await store.organisations.getBySlug('old')).to.deep.equal({
        id: 'o1',
        name: 'Old',
        slug: 'old',
        timezone: 'Europe/Rome',
        active: true,
        settings: {
          sessionMinutes: null,
          lateGraceMinutes: null,
          codePeriodS: null,
          defaultPolicy: {},
          sharedDevice: 'flag',
          retention: DEFAULT_RETENTION,
          riskThreshold: 75,
        },
        createdAt: new Date(1000),
      });
    } finally {
      await store.close();
    }
  });

  it("migration 30 counts each meeting's completed edits, from its subject's meeting.update entries, into its revision", async function () {
    await opened.store.close();
    const file = path.join(opened.dir, 'v29.db');
    const db = new Database(file);
    applyMigrations(
      db,
      MIGRATIONS.filter((m) => m.version <= 29),
    );
    const meeting = db.prepare(
      `INSERT INTO meetings (id, org_id, subject_id, term_id, weekday, start_time, end_time, teacher_id, preset, created_at)
       VALUES (?, 'o1', 'sub', 't', 2, ?, ?, NULL, NULL, 1000)`,
    );
    // At three hours: equal meetings would be one after migration 40.
    for (const [i, id] of ['m1', 'm2', 'm3'].entries()) meeting.run(id, `${9 + i}:00`.padStart(5, '0'), `${10 + i}:00`);
    const entry = db.prepare(
      `INSERT INTO audit (id, org_id, entity_type, entity_id, action, from_json, to_json, at) VALUES (?, ?, 'subject', 'sub', ?, ?, '{}', 1000)`,
    );
    entry.run('a1', 'o1', 'meeting.update', JSON.stringify({ id: 'm1', weekday: 2 }));
    entry.run('a2', 'o1', 'meeting.update', JSON.stringify({ id: 'm1', weekday: 3 }));
    entry.run('a3', 'o1', 'meeting.update', JSON.stringify({ id: 'm2', weekday: 2 }));
    // Not an edit of m3: its creation, and an edit of an m3 of another organisation.
    entry.run('a4', 'o1', 'meeting.create', JSON.stringify({ id: 'm3' }));
    entry.run('a5', 'o2', 'meeting.update', JSON.stringify({ id: 'm3' }));
    db.close();
    const store = await createSqliteStore({ path: file });
    try {
      const revisions = (await store.timetable.listMeetings('o1', 'sub')).map((m) => [m.id, m.revision]);
      expect(revisions.sort()).to.deep.equal([
        ['m1', 2],
        ['m2', 1],
        ['m3', 0],
      ]);
    } finally {
      await store.close();
    }
  });

  it('migration 31 leaves audit_actor the check-in entries of records removed before it, so the page by actor still has every entry', async function () {
    await opened.store.close();
    const file = path.join(opened.dir, 'v30.db');
    const db = new Database(file);
    applyMigrations(
      db,
      MIGRATIONS.filter((m) => m.version <= 30),
    );
    db.prepare(
      `INSERT INTO records (id, org_id, session_id, subject_id, student_id, status, flags, attempts, version, created_at, updated_at)
       VALUES ('r1', 'o1', 's1', 'sub', 'ada', 'present', '[]', 1, 1, 1000, 1000)`,
    ).run();
    const entry = db.prepare(
      `INSERT INTO audit (id, org_id, entity_type, entity_id, session_id, actor_id, action, at) VALUES (?, 'o1', 'record', ?, 's1', ?, ?, ?)`,
    );
    entry.run('a1', 'gone', 'ada', 'checkin.submit', 900); // its record removed before the upgrade
    entry.run('a2', 'r1', 'ada', 'checkin.submit', 1000);
    entry.run('a3', 'r1', 'ada', 'checkin.retry', 1100);
    entry.run('a4', 'r1', 'tea', 'checkin.submit', 1200); // an actor who is not the record's student
    entry.run('a5', 'r1', 'ada', 'checkin.submit', 1300);
    db.prepare("UPDATE audit SET entity_type = 'user', entity_id = 'ada' WHERE id = 'a5'").run(); // not about a record
    db.close();
    const store = await createSqliteStore({ path: file });
    try {
      const byActor = async (actorId: string) =>
        (await store.reports.audit('o1', { actorId, limit: 10, offset: 0 })).items.map((e) => e.id);
      expect(await byActor('ada')).to.deep.equal(['a1', 'a2', 'a3', 'a5']);
      expect(await byActor('tea')).to.deep.equal(['a4']);
      // The entry its record leads to is out of the index, as a new check-in's.
      const marked = store.connection().prepare('SELECT id FROM audit WHERE orphaned = 1 ORDER BY id').all() as { id: string }[];
      expect(marked.map((r) => r.id)).to.deep.equal(['a1', 'a4', 'a5']);
      expect(await store.records.remove('o1', 'r1', 1)).to.equal(true);
      expect(await byActor('ada')).to.deep.equal(['a1', 'a2', 'a3', 'a5']);
    } finally {
      await store.close();
    }
  });

  it("migration 32 marks each session a meeting's edit cancelled with its audit entry's mark, and one with no entry 'unaudited'", async function () {
    await opened.store.close();
    const file = path.join(opened.dir, 'v31.db');
    const db = new Database(file);
    applyMigrations(
      db,
      MIGRATIONS.filter((m) => m.version <= 31),
    );
    const session = db.prepare(
      `INSERT INTO sessions (id, org_id, subject_id, teacher_id, status, policy, starts_at, late_after, closes_at, code_secret, day,
         created_at, updated_at, meeting_id)
       VALUES (?, 'o1', 'sub', 't', ?, '{}', 1000, 1000, 2000, 'k', '2026-03-04', 1000, 1000, ?)`,
    );
    session.run('s-edit', 'cancelled', 'm1');
    session.run('s-stopped', 'cancelled', 'm1');
    session.run('s-hand', 'cancelled', 'm1');
    session.run('s-opened', 'cancelled', null);
    session.run('s-live', 'scheduled', 'm1');
    const entry = db.prepare(
      `INSERT INTO audit (id, org_id, entity_type, entity_id, session_id, action, from_json, to_json, at)
       VALUES (?, ?, 'session', ?, ?, 'session.cancel', '{"status":"scheduled"}', ?, ?)`,
    );
    // The last entry's mark is the one.
    entry.run('a1', 'o1', 's-edit', 's-edit', JSON.stringify({ status: 'cancelled', meetingEdit: '1.old' }), 1000);
    entry.run('a2', 'o1', 's-edit', 's-edit', JSON.stringify({ status: 'cancelled', meetingEdit: '2.0123' }), 2000);
    entry.run('a3', 'o1', 's-hand', 's-hand', JSON.stringify({ status: 'cancelled' }), 1000);
    // Another organisation's entry for a session of the same id names nothing here.
    entry.run('a4', 'o2', 's-stopped', 's-stopped', JSON.stringify({ status: 'cancelled', meetingEdit: '9.x' }), 1000);
    db.close();
    const store = await createSqliteStore({ path: file });
    try {
      const marks = await Promise.all(
        ['s-edit', 's-hand', 's-live', 's-opened', 's-stopped'].map(async (id) => [id, (await store.sessions.get('o1', id))?.meetingEdit]),
      );
      expect(marks).to.deep.equal([
        ['s-edit', '2.0123'],
        ['s-hand', null],
        ['s-live', null],
        ['s-opened', null],
        ['s-stopped', 'unaudited'],
      ]);
    } finally {
      await store.close();
    }
  });

  it('migration 37 gives each scope pending more than once its key on the oldest excuse, spelled as pendingScopeKey', async function () {
    await opened.store.close();
    const file = path.join(opened.dir, 'v36.db');
    const db = new Database(file);
    applyMigrations(
      db,
      MIGRATIONS.filter((m) => m.version <= 36),
    );
    const excuse = db.prepare(
      `INSERT INTO excuses (id, org_id, student_id, submitted_by, subject_id, session_id, from_day, to_day, category, text, status, created_at, updated_at)
       VALUES (?, 'o1', 'st', 'st', ?, ?, '2026-03-02', '2026-03-02', 'MEDICAL', '', ?, ?, ?)`,
    );
    excuse.run('e-later', 'sub', null, 'pending', 2000, 2000);
    excuse.run('e-oldest', 'sub', null, 'pending', 1000, 1000);
    excuse.run('e-decided', 'sub', null, 'approved', 500, 500);
    excuse.run('e-session', 'sub', 'sess', 'pending', 3000, 3000);
    excuse.run('e-all', null, null, 'pending', 4000, 4000);
    db.close();
    const store = await createSqliteStore({ path: file });
    try {
      const raw = new Database(file, { readonly: true });
      const keys = raw.prepare('SELECT id, pending_key AS k FROM excuses ORDER BY id').all();
      raw.close();
      const scope = { studentId: 'st', fromDay: '2026-03-02', toDay: '2026-03-02' };
      expect(keys).to.deep.equal([
        { id: 'e-all', k: pendingScopeKey({ ...scope, subjectId: null, sessionId: null }) },
        { id: 'e-decided', k: null },
        { id: 'e-later', k: null },
        { id: 'e-oldest', k: pendingScopeKey({ ...scope, subjectId: 'sub', sessionId: null }) },
        { id: 'e-session', k: pendingScopeKey({ ...scope, subjectId: 'sub', sessionId: 'sess' }) },
      ]);
      const again = await store.excuses.create('o1', {
        ...scope,
        submittedBy: 'st',
        subjectId: 'sub',
        sessionId: null,
        category: 'MEDICAL',
        text: '',
      });
      expect(again).to.deep.include({ created: false });
      expect(again.excuse.id).to.equal('e-oldest');
    } finally {
      await store.close();
    }
  });

  it("migration 40 keeps each meeting once (the oldest, with the days the others held, its sessions naming it), and drops deleted meetings' occurrences", async function () {
    await opened.store.close();
    const file = path.join(opened.dir, 'v39.db');
    const db = new Database(file);
    applyMigrations(
      db,
      MIGRATIONS.filter((m) => m.version <= 39),
    );
    // Two imports at once stored one week twice; the networks in either order.
    const meeting = db.prepare(
      `INSERT INTO meetings (id, org_id, subject_id, term_id, weekday, start_time, end_time, teacher_id, preset, location, allowed_ip_ranges, created_at)
       VALUES (?, ?, 'sub', 't', ?, '09:00', '10:00', NULL, NULL, '{"lat":48.85,"lon":2.35,"radiusM":60}', ?, ?)`,
    );
    meeting.run('m-dup', 'o1', 1, '["10.1.0.0/16","10.2.0.0/16"]', 2000);
    meeting.run('m-old', 'o1', 1, '["10.2.0.0/16","10.1.0.0/16"]', 1000);
    meeting.run('m-dup2', 'o1', 1, '["10.2.0.0/16","10.1.0.0/16"]', 3000);
    meeting.run('m-other', 'o1', 2, '["10.2.0.0/16","10.1.0.0/16"]', 1500);
    meeting.run('m-elsewhere', 'o2', 1, '["10.2.0.0/16","10.1.0.0/16"]', 2500);
    const occurrence = db.prepare(
      `INSERT INTO occurrences (org_id, meeting_id, day, subject_id, state, session_id, updated_at) VALUES (?, ?, ?, 'sub', ?, ?, 1000)`,
    );
    occurrence.run('o1', 'm-old', '2026-03-02', 'created', 's1');
    occurrence.run('o1', 'm-dup', '2026-03-02', 'created', 's2');
    occurrence.run('o1', 'm-dup', '2026-03-09', 'cancelled', null);
    occurrence.run('o1', 'm-dup2', '2026-03-16', 'created', 's3');
    occurrence.run('o2', 'm-elsewhere', '2026-03-02', 'created', 's4');
    occurrence.run('o1', 'm-deleted-before', '2026-03-02', 'created', 's5');
    // The sessions those days made, each naming its meeting (s-opened none).
    const session = db.prepare(
      `INSERT INTO sessions (id, org_id, subject_id, teacher_id, status, policy, starts_at, late_after, closes_at, code_secret, day,
         created_at, updated_at, meeting_id)
       VALUES (?, ?, 'sub', 't', 'scheduled', '{}', 1000, 1000, 2000, 'k', '2026-03-02', 1000, 1000, ?)`,
    );
    session.run('s1', 'o1', 'm-old');
    session.run('s2', 'o1', 'm-dup');
    session.run('s3', 'o1', 'm-dup2');
    session.run('s4', 'o2', 'm-elsewhere');
    session.run('s-other', 'o1', 'm-other');
    session.run('s-opened', 'o1', null);
    db.close();
    const store = await createSqliteStore({ path: file });
    try {
      const meetings = await store.timetable.listMeetings('o1');
      expect(meetings.map((m) => m.id)).to.deep.equal(['m-old', 'm-other']);
      expect(meetings[0]!.allowedIpRanges).to.deep.equal(['10.1.0.0/16', '10.2.0.0/16']);
      expect((await store.timetable.listMeetings('o2')).map((m) => m.id)).to.deep.equal(['m-elsewhere']);
      const raw = new Database(file, { readonly: true });
      const rows = raw.prepare('SELECT meeting_id AS m, day, state, session_id AS s FROM occurrences ORDER BY meeting_id, day').all();
      const sessions = raw.prepare('SELECT id, meeting_id AS m FROM sessions ORDER BY id').all();
      raw.close();
      // A dropped duplicate's sessions name the keeper: editing or deleting it follows them.
      expect(sessions).to.deep.equal([
        { id: 's-opened', m: null },
        { id: 's-other', m: 'm-other' },
        { id: 's1', m: 'm-old' },
        { id: 's2', m: 'm-old' },
        { id: 's3', m: 'm-old' },
        { id: 's4', m: 'm-elsewhere' },
      ]);
      expect(rows).to.deep.equal([
        { m: 'm-elsewhere', day: '2026-03-02', state: 'created', s: 's4' },
        { m: 'm-old', day: '2026-03-02', state: 'created', s: 's1' },
        { m: 'm-old', day: '2026-03-09', state: 'cancelled', s: null },
        { m: 'm-old', day: '2026-03-16', state: 'created', s: 's3' },
      ]);
      // The key now refuses an equal meeting, the networks in another order too.
      const { id: _id, orgId: _org, createdAt: _at, revision: _rev, ...fields } = meetings[0]!;
      const again = await store.timetable
        .createMeeting('o1', { ...fields, allowedIpRanges: ['10.2.0.0/16', '10.1.0.0/16'] })
        .catch((e: unknown) => e);
      expect(again).to.be.instanceOf(StoreConflictError).and.to.have.property('key', 'meeting');
    } finally {
      await store.close();
    }
  });

  it("migration 38 keeps every record and its rowid, the key's refusal and the triggers, with the key by student first, and marks the check-ins another session's record leads to", async function () {
    await opened.store.close();
    const file = path.join(opened.dir, 'v37.db');
    const db = new Database(file);
    applyMigrations(
      db,
      MIGRATIONS.filter((m) => m.version <= 37),
    );
    const record = db.prepare(
      `INSERT INTO records (rowid, id, org_id, session_id, subject_id, student_id, status, flags, location, ip, attempts, version,
         created_at, updated_at, roster_version, device_id, user_agent, absence_category)
       VALUES (?, ?, ?, ?, 'sub', ?, 'present', '[]', '{"lat":1,"lon":2}', '10.0.0.1', 1, 1, ?, ?, ?, 'dev', 'ua', NULL)`,
    );
    record.run(7, 'r1', 'o1', 's1', 'st1', 1000, 1000, 1);
    record.run(3, 'r2', 'o1', 's1', 'st2', 2000, 2500, 2);
    // The same session id in another organisation (a session id reused), another student.
    record.run(12, 'r3', 'o2', 's1', 'st3', 3000, 3000, 1);
    const entry = db.prepare(
      `INSERT INTO audit (id, org_id, entity_type, entity_id, session_id, actor_id, action, at)
       VALUES (?, ?, 'record', ?, ?, ?, 'checkin.submit', 1000)`,
    );
    entry.run('a1', 'o1', 'r1', 's1', 'st1');
    entry.run('a2', 'o1', 'r2', 's1', 'st2');
    // Its record is the student's but of another session: audit_session must hold it from now on.
    entry.run('a3', 'o1', 'r2', 's9', 'st2');
    entry.run('a4', 'o2', 'r3', 's1', 'st3');
    const dump = (d: Database.Database) => d.prepare('SELECT rowid AS rid, * FROM records ORDER BY rowid').all();
    const before = dump(db);
    db.close();
    const store = await createSqliteStore({ path: file });
    try {
      const raw = new Database(file);
      try {
        expect(dump(raw)).to.deep.equal(before);
        const unique = raw.prepare("SELECT name FROM pragma_index_list('records') WHERE origin = 'u'").get() as { name: string };
        const cols = raw.prepare('SELECT name FROM pragma_index_info(?) ORDER BY seqno').all(unique.name) as { name: string }[];
        expect(cols.map((c) => c.name)).to.deep.equal(['student_id', 'session_id']);
        // A second record of a (session, student) is refused as the record key, whatever the organisation.
        let refused: unknown;
        try {
          raw
            .prepare(
              `INSERT INTO records (id, org_id, session_id, subject_id, student_id, status, flags, attempts, version, created_at, updated_at)
               VALUES ('r4', 'o2', 's1', 'sub', 'st1', 'present', '[]', 1, 1, 1, 1)`,
            )
            .run();
        } catch (err) {
          refused = toConflict(err);
        }
        expect(refused).to.be.instanceOf(StoreConflictError);
        expect((refused as StoreConflictError).key).to.equal('record');
      } finally {
        raw.close();
      }
      expect(await store.records.getForStudent('o1', 's1', 'st2')).to.include({ id: 'r2', rosterVersion: 2 });
      expect((await store.records.listByStudent('o1', 'st1', { limit: 10, offset: 0 })).items.map((r) => r.id)).to.deep.equal(['r1']);
      const orphaned = () =>
        (inspect(file, (d) => d.prepare('SELECT id, orphaned FROM audit ORDER BY id').all()) as { id: string; orphaned: number }[]).map(
          (r) => `${r.id}:${r.orphaned}`,
        );
      expect(orphaned()).to.deep.equal(['a1:0', 'a2:0', 'a3:1', 'a4:0']);
      expect(
        (await store.audit.listForSession('o1', 's9')).map((e) => e.id),
        'the entry marked is in its own session trail',
      ).to.deep.equal(['a3']);
      // The delete trigger puts the removed record's check-in entry back in audit_actor and audit_session.
      expect(await store.records.remove('o1', 'r1', 1)).to.equal(true);
      expect(orphaned()).to.deep.equal(['a1:1', 'a2:0', 'a3:1', 'a4:0']);
      // The triggers made again watch the session too: a record moved to another session, and an
      // entry moved to another session than its record's (the audit trigger reads the new table).
      const rw = new Database(file);
      try {
        rw.prepare("UPDATE records SET session_id = 's2' WHERE id = 'r2'").run();
        expect(orphaned()).to.deep.equal(['a1:1', 'a2:1', 'a3:1', 'a4:0']);
        rw.prepare("UPDATE audit SET session_id = 's7' WHERE id = 'a4'").run();
      } finally {
        rw.close();
      }
      expect(orphaned()).to.deep.equal(['a1:1', 'a2:1', 'a3:1', 'a4:1']);
    } finally {
      await store.close();
    }
  });

  it('migration 41 keeps every audit entry with its seq, the indexes and triggers as they were, and numbers the next entry after the last without AUTOINCREMENT', async function () {
    await opened.store.close();
    const file = path.join(opened.dir, 'v40.db');
    const db = new Database(file);
    applyMigrations(
      db,
      MIGRATIONS.filter((m) => m.version < 41),
    );
    const record = db.prepare(
      `INSERT INTO records (id, org_id, session_id, subject_id, student_id, status, flags, attempts, version, created_at, updated_at, roster_version)
       VALUES (?, 'o1', 's1', 'sub', ?, 'present', '[]', 1, 1, 1000, 1000, ?)`,
    );
    record.run('r1', 'st1', 1);
    record.run('r2', 'st2', 2);
    const entry = db.prepare(
      `INSERT INTO audit (seq, id, org_id, entity_type, entity_id, session_id, actor_id, action, from_json, to_json, reason, ip, at, orphaned)
       VALUES (?, ?, 'o1', ?, ?, ?, ?, ?, ?, ?, ?, ?, 1000, ?)`,
    );
    // One instant, seqs with gaps (as rolled-back batches leave them): seq alone orders them.
    entry.run(5, 'a1', 'record', 'r1', 's1', 'st1', 'checkin.submit', null, '{"status":"present"}', null, '10.0.0.1', 0);
    entry.run(9, 'a2', 'subject', 'sub', null, 't1', 'subject.update', '{"name":"A"}', '{"name":"B"}', 'typo', '10.0.0.2', 0);
    entry.run(20, 'a3', 'record', 'r1', 's1', 't1', 'record.correct', '{"status":"present"}', '{"status":"late"}', 'late', null, 0);
    entry.run(21, 'a4', 'record', 'r2', 's1', 'st2', 'checkin.submit', null, '{"status":"present"}', null, null, 0);
    // A check-in entry whose record is gone, kept in audit_actor and audit_session.
    entry.run(22, 'a5', 'record', 'r9', 's1', 'st9', 'checkin.submit', null, '{"status":"present"}', null, null, 1);
    const dump = (d: Database.Database) => d.prepare('SELECT seq, * FROM audit ORDER BY seq').all();
    // Every index and trigger on audit or naming it, by name: migration 41 makes them again word for word.
    const schema = (d: Database.Database) =>
      d
        .prepare(
          `SELECT type, name, sql FROM sqlite_schema WHERE type IN ('index', 'trigger') AND (tbl_name = 'audit' OR sql LIKE '%audit%') ORDER BY name`,
        )
        .all();
    const before = dump(db);
    const schemaBefore = schema(db);
    expect(schemaBefore.map((o) => (o as { name: string }).name)).to.include.members([
      'audit_actor',
      'audit_session',
      'records_orphan_checkin_entries',
      'records_restudent_checkin_entries',
      'audit_orphan_checkin_entry',
    ]);
    expect(db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'audit'").get()).to.deep.equal({ seq: 22 });
    db.close();
    const store = await createSqliteStore({ path: file });
    try {
      inspect(file, (raw) => {
        expect(dump(raw)).to.deep.equal(before);
        expect(schema(raw)).to.deep.equal(schemaBefore);
        const table = raw.prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'audit'").get() as { sql: string };
        expect(table.sql).to.match(/\bseq INTEGER PRIMARY KEY,/);
        expect(table.sql).not.to.match(/AUTOINCREMENT/i);
        expect(raw.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'audit'").get()).to.equal(undefined);
      });
      // The next entry of the same instant takes the seq after the last one, so it reads after them.
      const appended = await store.audit.append({
        orgId: 'o1',
        entityType: 'record',
        entityId: 'r1',
        sessionId: 's1',
        actorId: 't1',
        action: 'record.correct',
        from: { status: 'late' },
        to: { status: 'present' },
        reason: 'back',
        ip: null,
        at: new Date(1000),
      });
      expect((await store.audit.listForEntity('o1', 'record', 'r1')).map((e) => e.id)).to.deep.equal(['a1', 'a3', appended.id]);
      const seqOf = (id: string) =>
        inspect(file, (raw) => (raw.prepare('SELECT seq FROM audit WHERE id = ?').get(id) as { seq: number }).seq);
      expect(seqOf(appended.id)).to.equal(23);
      const orphaned = () =>
        (inspect(file, (d) => d.prepare('SELECT id, orphaned FROM audit ORDER BY seq').all()) as { id: string; orphaned: number }[]).map(
          (r) => `${r.id}:${r.orphaned}`,
        );
      // The triggers made again still mark: a record removed, an entry's actor changed (by its seq).
      expect(await store.records.remove('o1', 'r1', 1)).to.equal(true);
      const rw = new Database(file);
      try {
        rw.prepare("UPDATE audit SET actor_id = 'st7' WHERE id = 'a4'").run();
      } finally {
        rw.close();
      }
      expect(orphaned()).to.deep.equal(['a1:1', 'a2:0', 'a3:0', 'a4:1', 'a5:1', `${appended.id}:0`]);
      expect(
        (await store.audit.listForSession('o1', 's1')).map((e) => e.id),
        "the session's trail: the marked check-ins from audit_session, with the rest",
      ).to.deep.equal(['a1', 'a3', 'a4', 'a5', appended.id]);
    } finally {
      await store.close();
    }
  });

  it("reads the organisation's audit trail in time order through an index, whole or by instants, without sorting it", async function () {
    await opened.store.close();
    const plan = (f: Parameters<typeof auditQuery>[1]) =>
      inspect(opened.file, (db) => {
        const q = auditQuery('o1', f);
        const details = (sql: string, params: object) =>
          (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as Array<{ detail: string }>).map((r) => r.detail);
        return [...details(q.page, { ...q.params, limit: 50, offset: 0 }), ...details(q.count, q.params)].join('\n');
      });
    for (const f of [{}, { from: new Date(0), before: new Date(1) }, { actions: ['record.correct' as const], from: new Date(0) }]) {
      const text = plan(f);
      expect(text, JSON.stringify(f)).to.contain('INDEX audit_org_at (org_id=?');
      expect(text, JSON.stringify(f)).not.to.contain('TEMP B-TREE');
    }
  });

  it('finds users by student number through the (organisation, number) index, not by every user of the organisation', async function () {
    await opened.store.close();
    const plan = inspect(opened.file, (db) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${USERS_BY_STUDENT_NUMBERS}`).all('o1', '["S1","S2"]') as Array<{ detail: string }>)
        .map((r) => r.detail)
        .join('\n'),
    );
    expect(plan).to.contain('INDEX users_org_student_number (org_id=? AND student_number=?)');
  });

  it("migration 44 indexes a populated file's active sessions, and the subjects' live list reads them as before", async function () {
    await opened.store.close();
    const file = path.join(opened.dir, 'v43.db');
    const db = new Database(file);
    applyMigrations(
      db,
      MIGRATIONS.filter((m) => m.version < 44),
    );
    const session = db.prepare(
      `INSERT INTO sessions (id, org_id, subject_id, teacher_id, status, policy, starts_at, late_after, closes_at, code_secret, day,
         created_at, updated_at) VALUES (?, ?, ?, 't', ?, '{}', ?, ?, ?, 'k', '2026-03-04', 1000, 1000)`,
    );
    const at = (id: string, org: string, subject: string, status: string, start: number) =>
      session.run(id, org, subject, status, start, start, start + 3_600_000);
    for (let i = 0; i < 30; i++) at(`old-${i}`, 'o1', i % 2 ? 'math' : 'art', 'closed', 1_000_000 + i * 86_400_000);
    at('art-next', 'o1', 'art', 'scheduled', 9_000_000_000);
    at('math-now', 'o1', 'math', 'open', 8_000_000_000);
    at('math-gone', 'o1', 'math', 'cancelled', 8_500_000_000);
    at('math-ending', 'o1', 'math', 'closing', 7_000_000_000);
    at('bio-next', 'o1', 'bio', 'scheduled', 8_000_000_000);
    at('other-org', 'o2', 'math', 'open', 8_000_000_000);
    db.close();
    const store = await createSqliteStore({ path: file });
    try {
      expect((await store.sessions.listActiveForSubjects('o1', ['math', 'art'])).map((s) => s.id)).to.deep.equal(['math-now', 'art-next']);
      inspect(file, (raw) => {
        const index = raw.prepare(`SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = 'sessions_org_subject_active'`).get() as
          { sql: string } | undefined;
        expect(index?.sql).to.match(/WHERE status IN \('scheduled', 'open'\)$/);
        // Every active session of the file is in it, and nothing else.
        const indexed = raw
          .prepare(`SELECT id FROM sessions INDEXED BY sessions_org_subject_active WHERE status IN ('scheduled', 'open') ORDER BY id`)
          .all();
        expect(indexed).to.deep.equal([{ id: 'art-next' }, { id: 'bio-next' }, { id: 'math-now' }, { id: 'other-org' }]);
      });
    } finally {
      await store.close();
    }
  });

  it("reads a subject's roll-over entries through audit_rollover, not its whole trail through audit_entity", async function () {
    await opened.store.close();
    const plan = inspect(opened.file, (db) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${AUDIT_ROLLOVERS}`).all('o1', '["s1","s2"]') as Array<{ detail: string }>)
        .map((r) => r.detail)
        .join('\n'),
    );
    expect(plan).to.contain('INDEX audit_rollover (org_id=? AND entity_id=?)');
  });

  it('declares the enrolments-to-subjects foreign key that subject delete cascades through', async function () {
    await opened.store.close();
    const fk = inspect(opened.file, (db) => db.prepare("SELECT count(*) AS n FROM pragma_foreign_key_list('enrolments')").get()) as {
      n: number;
    };
    expect(fk.n).to.equal(1);
  });

  it("read versions: a trigger for every change of the kept tables, a session's every column but the roster counter and the lease", async function () {
    await opened.store.close();
    const { triggers, sessionColumns } = inspect(opened.file, (db) => ({
      triggers: db.prepare("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name").all() as {
        name: string;
        tbl_name: string;
        sql: string;
      }[],
      sessionColumns: (db.prepare("SELECT name FROM pragma_table_info('sessions')").all() as { name: string }[]).map((c) => c.name),
    }));
    for (const table of ['users', 'subjects', 'enrolments', 'sessions']) {
      for (const event of ['insert', 'update', 'delete']) {
        expect(triggers.map((t) => `${t.tbl_name} ${t.name}`)).to.include(`${table} read_versions_${table}_${event}`);
      }
    }
    // A column added to sessions later is kept by the check-in reads too: its trigger must name it
    // (a new migration recreates the trigger), or a change of it would leave a kept read stale.
    const watched = /UPDATE OF ([\s\S]+?) ON sessions/
      .exec(triggers.find((t) => t.name === 'read_versions_sessions_update')!.sql)![1]!
      .split(',')
      .map((c) => c.trim());
    expect([...watched].sort()).to.deep.equal(
      sessionColumns.filter((c) => !['roster_version', 'lease_owner', 'lease_until'].includes(c)).sort(),
    );
  });

  it('read versions move on with a write of another connection (another process, the admin CLI)', async function () {
    const org = await makeOrg(opened.store);
    const user = await opened.store.users.create(org.id, newUser());
    const before = await opened.store.readVersions!.current(org.id);
    const other = new Database(opened.file);
    try {
      other.prepare('UPDATE users SET name = ? WHERE id = ?').run('Renamed elsewhere', user.id);
    } finally {
      other.close();
    }
    expect((await opened.store.readVersions!.current(org.id)).users).to.be.greaterThan(before.users);
  });
});

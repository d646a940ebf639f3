import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { repoRoot } from '../../scripts/lib/repo-root.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { type AttendanceRecord } from '../../src/domain/ports/records.js';
import { type Store } from '../../src/domain/ports/store.js';
import { COLLECTIONS, type CollectionName } from '../../src/domain/ports/transfer.js';
import { newRecord, newSession, newSubject, newUser } from '../contract/fixtures.js';
import { runNode } from '../support/run-node.js';

const ROOT = repoRoot(import.meta.url);

/** Runs the backup CLI against the store at `sqlitePath`; resolves with its exit code and output. */
function cli(sqlitePath: string, ...args: string[]): Promise<{ code: number | null; out: string }> {
  return runNode(['--import', 'tsx', path.join(ROOT, 'scripts', 'backup.ts'), ...args], {
    env: { ...process.env, SQLITE_PATH: sqlitePath, NODE_ENV: 'production', STORE: 'sqlite', MONGODB_URI: '' },
  });
}

async function dump(store: Store): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const c of COLLECTIONS) {
    const rows: unknown[] = [];
    for await (const batch of store.transfer.export(c as CollectionName, 500)) rows.push(...batch);
    out[c] = rows;
  }
  return out;
}

/** Each record write also counts once in its session's roster version, in one transaction. */
async function expectWholeTransactions(store: Store, orgId: string, sessionId: string): Promise<AttendanceRecord[]> {
  const session = (await store.sessions.get(orgId, sessionId))!;
  const records = await store.records.listBySession(orgId, sessionId);
  expect(session.rosterVersion, 'roster version = every record change stored').to.equal(records.reduce((n, r) => n + r.version, 0));
  return records;
}

// A backup taken by the CLI while check-ins are being written is one consistent state, and a
// restore puts exactly that state back.
describe('SQLite backup and restore (scripts/backup.ts, while the store is written)', function () {
  this.timeout(60_000);
  let dir: string;
  let store: Store;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'attendance-backup-'));
  });
  afterEach(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('copies a consistent snapshot mid-write, restores it exactly, and a quiet backup equals the source', async () => {
    const live = path.join(dir, 'live.db');
    store = await createSqliteStore({ path: live });
    const org = await store.organisations.create({ name: 'Backup school', slug: 'backup', timezone: 'UTC' });
    const [teacher, ...students] = await store.users.createMany(org.id, [
      newUser({ role: 'teacher', studentNumber: null }),
      ...Array.from({ length: 400 }, () => newUser()),
    ]);
    const subject = await store.subjects.create(org.id, newSubject({ teacherIds: [teacher!.id] }));
    const session = await store.sessions.create(org.id, newSession(subject.id, teacher!.id));

    // Check-ins, then corrections, as a lecture would write them, until told to stop.
    let writing = true;
    let writes = 0;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        const student = students[i % students.length]!;
        const { record, created } = await store.records.insertIfAbsent(
          org.id,
          newRecord(session.id, subject.id, student.id, { status: 'pending' }),
        );
        if (!created)
          await store.records.update(org.id, record.id, record.version, { status: record.status === 'present' ? 'late' : 'present' });
        writes++;
        if (i % 20 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    while (writes < 200) await new Promise((resolve) => setImmediate(resolve));

    const snapshot = path.join(dir, 'snapshot.db');
    const taken = await cli(live, 'backup', '--to', snapshot);
    const writesDuringBackup = writes;
    writing = false;
    await writer;
    expect(taken.code, taken.out).to.equal(0);
    expect(taken.out).to.match(/backed up .* pages, schema version \d+/);
    expect(writes, 'writes went on while the backup ran').to.be.above(200);

    const copy = await createSqliteStore({ path: snapshot });
    const copied = await expectWholeTransactions(copy, org.id, session.id);
    expect(copied.length).to.be.within(1, Math.min(400, writesDuringBackup));
    const copyDump = await dump(copy);
    await copy.close();

    // Restore the snapshot in place of another store, as an operator would after a loss.
    const restoredPath = path.join(dir, 'restored.db');
    const before = await createSqliteStore({ path: restoredPath });
    await before.organisations.create({ name: 'To be replaced', slug: 'old', timezone: 'UTC' });
    await before.close();
    const restored = await cli(restoredPath, 'restore', '--from', snapshot);
    expect(restored.code, restored.out).to.equal(0);
    expect(restored.out).to.contain('restored.db.before-restore');
    const back = await createSqliteStore({ path: restoredPath });
    expect(await dump(back), 'the restored store is the snapshot, collection by collection').to.deep.equal(copyDump);
    await back.close();

    // With the writes over, a backup is the live store exactly.
    const quiet = path.join(dir, 'quiet.db');
    expect((await cli(live, 'backup', '--to', quiet)).code).to.equal(0);
    const quietCopy = await createSqliteStore({ path: quiet });
    expect(await dump(quietCopy)).to.deep.equal(await dump(store));
    await expectWholeTransactions(quietCopy, org.id, session.id);
    await quietCopy.close();
  });

  it('leaves one self-contained file in the backups folder, and restoring from it adds nothing there', async () => {
    const live = path.join(dir, 'live.db');
    store = await createSqliteStore({ path: live });
    await store.organisations.create({ name: 'One file', slug: 'one', timezone: 'UTC' });
    const backups = path.join(dir, 'backups');
    mkdirSync(backups);
    const taken = await cli(live, 'backup', '--to', path.join(backups, 'nightly.db'));
    expect(taken.code, taken.out).to.equal(0);
    // Files left beside it (the partial copy's -wal and -shm) would be copied off the machine with it, or pile up.
    expect(readdirSync(backups)).to.deep.equal(['nightly.db']);
    await store.close();

    const restored = await cli(live, 'restore', '--from', path.join(backups, 'nightly.db'));
    expect(restored.code, restored.out).to.equal(0);
    expect(readdirSync(backups)).to.deep.equal(['nightly.db']);
    store = await createSqliteStore({ path: live });
    expect((await store.organisations.getBySlug('one'))?.name).to.equal('One file');
  });

  it('a backup into a folder that does not exist fails with exit 1 naming the folder, and makes nothing', async () => {
    const live = path.join(dir, 'live.db');
    store = await createSqliteStore({ path: live });
    const missing = path.join(dir, 'not-mounted');
    const taken = await cli(live, 'backup', '--to', path.join(missing, 'nightly.db'));
    expect(taken.code, taken.out).to.equal(1);
    // A cron job's mail is all the operator reads: it names the folder to make (SQLite's own message named none).
    expect(taken.out).to.include(`no folder ${missing} for the backup`);
    expect(readdirSync(dir)).to.not.include('not-mounted');
  });

  it('refuses to restore a file that is not a sound attendance store, and leaves the store alone', async () => {
    const live = path.join(dir, 'live.db');
    store = await createSqliteStore({ path: live });
    await store.organisations.create({ name: 'Keep me', slug: 'keep', timezone: 'UTC' });
    const notAStore = path.join(dir, 'other.db');
    const other = await import('better-sqlite3').then((m) => new m.default(notAStore));
    other.exec('CREATE TABLE t (x)');
    other.close();
    const refused = await cli(live, 'restore', '--from', notAStore);
    expect(refused.code).to.equal(1);
    expect(refused.out).to.contain('not an attendance store');
    expect((await store.organisations.getBySlug('keep'))?.name).to.equal('Keep me');
    expect((await cli(live, 'restore')).code, 'bad usage').to.equal(2);
  });

  it('refuses to restore under a store a node still has open, and changes nothing', async () => {
    const live = path.join(dir, 'live.db');
    store = await createSqliteStore({ path: live });
    await store.organisations.create({ name: 'Before', slug: 'before', timezone: 'UTC' });
    const backup = path.join(dir, 'backup.db');
    expect((await cli(live, 'backup', '--to', backup)).code).to.equal(0);
    await store.organisations.create({ name: 'Since the backup', slug: 'since', timezone: 'UTC' });

    const refused = await cli(live, 'restore', '--from', backup);
    expect(refused.code, refused.out).to.equal(1);
    expect(refused.out).to.contain('stop every node');
    expect(readdirSync(dir).filter((f) => f.includes('before-restore') || f.endsWith('.restoring'))).to.deep.equal([]);
    // The running store still serves, and writes, the file at its path.
    await store.organisations.create({ name: 'After the refusal', slug: 'after', timezone: 'UTC' });
    await store.close();
    store = await createSqliteStore({ path: live });
    for (const slug of ['before', 'since', 'after']) expect(await store.organisations.getBySlug(slug), slug).to.not.equal(null);
  });

  it('restores over a store that is no longer a database (what a restore is for), keeping it aside', async () => {
    const live = path.join(dir, 'live.db');
    store = await createSqliteStore({ path: live });
    await store.organisations.create({ name: 'Before', slug: 'before', timezone: 'UTC' });
    const backup = path.join(dir, 'backup.db');
    expect((await cli(live, 'backup', '--to', backup)).code).to.equal(0);
    await store.close();
    // A disk that overwrote the file: SQLite answers SQLITE_NOTADB to any open of it.
    writeFileSync(live, Buffer.alloc(8192, 0x5a));
    for (const suffix of ['-wal', '-shm']) rmSync(live + suffix, { force: true });

    const restored = await cli(live, 'restore', '--from', backup);
    expect(restored.code, restored.out).to.equal(0);
    expect(readFileSync(`${live}.before-restore`).subarray(0, 4).toString()).to.equal('ZZZZ');
    store = await createSqliteStore({ path: live });
    expect(await store.organisations.getBySlug('before')).to.not.equal(null);
  });
});

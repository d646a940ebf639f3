import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import type { RecordWrite } from '../../src/domain/ports/records.js';
import { storeCheck } from '../../src/http/readiness.js';
import { ActorGoneError, StoreBusyError, StoreConflictError } from '../../src/domain/ports/common.js';
import { isBusy, unavailableKind } from '../../src/store/sqlite/db.js';
import { fromWireError, toWireError } from '../../src/store/sqlite/record-writer.js';
import { createSqliteStore, type SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { CheckpointLogger } from '../../src/store/sqlite/wal-checkpointer.js';
import { makeOrg, newRecord, newSession, newSubject, newUser } from '../contract/fixtures.js';

// The record writer thread (docs/multi-node.md, "Record writer"): what the contract suite cannot
// see from outside the store, that the main thread is free while a batch commits, and what
// happens when the thread dies.

function recordingLog(): CheckpointLogger & { errors: string[] } {
  const errors: string[] = [];
  return { errors, warn: () => undefined, error: (_obj, msg) => errors.push(msg) };
}

describe('SQLite record writer thread', function () {
  this.timeout(20_000);
  let dir: string;
  let store: SqliteStore;
  let log: ReturnType<typeof recordingLog>;
  const at = new Date('2026-03-02T09:00:00.000Z');

  const open = async (writerWorker = true) => {
    store = await createSqliteStore({ path: path.join(dir, 'store.db'), now: () => at, writerWorker, log });
    const org = await makeOrg(store);
    const subject = await store.subjects.create(org.id, newSubject());
    const session = await store.sessions.create(org.id, newSession(subject.id, 't1'));
    // A batch's insert needs its student to exist: the students by label, and back.
    const labels = ['s1', 's2', 's3', 'warm-up', 'taken'];
    const users = await store.users.createMany(
      org.id,
      labels.map(() => newUser()),
    );
    const ids = new Map(labels.map((l, i) => [l, users[i]!.id]));
    const id = (label: string) => ids.get(label)!;
    const label = (studentId: string) => labels.find((l) => ids.get(l) === studentId) ?? studentId;
    const insert = (student: string): RecordWrite => ({
      kind: 'insert',
      orgId: org.id,
      input: newRecord(session.id, subject.id, id(student), { status: 'present', attempts: 1 }),
      audit: { actorId: id(student), action: 'checkin.submit', reason: null, ip: null },
    });
    return { org, session, insert, id, label };
  };

  beforeEach(function () {
    dir = mkdtempSync(path.join(tmpdir(), 'record-writer-'));
    log = recordingLog();
  });
  afterEach(async function () {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("commits batches on the thread, stamped with the store clock's time of the batch", async function () {
    const { org, session, insert, id } = await open();
    const [r] = await store.records.writeBatch([insert('s1')]);
    expect(r).to.deep.include({ written: true });
    expect(store.recordWriter()!.status()).to.deep.equal({ mode: 'worker', batches: 1 });
    const [stored] = await store.records.listBySession(org.id, session.id);
    expect(stored!.createdAt.getTime()).to.equal(at.getTime());
    const [entry] = await store.audit.listForSession(org.id, session.id);
    expect(entry).to.deep.include({ action: 'checkin.submit', actorId: id('s1'), entityId: stored!.id, at });
  });

  it("names its thread and the WAL checkpointer's in the kernel, so top -H and the load test tell them from V8's helpers", async function () {
    if (process.platform !== 'linux') this.skip();
    const { insert } = await open();
    await store.records.writeBatch([insert('s1')]);
    const names = () =>
      readdirSync('/proc/self/task').map((t) => {
        try {
          return readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim();
        } catch {
          // A thread that ended between the listing and the read.
          return '';
        }
      });
    // The checkpoint thread names itself as it starts, which the store does not wait for.
    const deadline = Date.now() + 10_000;
    while (!names().includes('wal-checkpoint') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(names()).to.include.members(['record-writer', 'wal-checkpoint']);
  });

  it('keeps the event loop free while a batch waits for the write lock held by another connection', async function () {
    const { org, session, insert } = await open();
    await store.records.writeBatch([insert('warm-up')]);
    const other = new Database(path.join(dir, 'store.db'));
    other.prepare('BEGIN IMMEDIATE').run();
    let committed = false;
    const batch = store.records.writeBatch([insert('s1'), insert('s2')]).then((results) => {
      committed = true;
      return results;
    });
    // On the main connection the batch would spin in SQLite's busy handler, timers included.
    const ticks = await new Promise<number>((resolve) => {
      let n = 0;
      const timer = setInterval(() => {
        n += 1;
        if (n === 5) {
          clearInterval(timer);
          resolve(n);
        }
      }, 10);
    });
    expect(ticks).to.equal(5);
    expect(committed, 'committed while the lock was held').to.equal(false);
    other.prepare('COMMIT').run();
    other.close();
    const results = await batch;
    expect(results.map((r) => ('written' in r ? r.written : null))).to.deep.equal([true, true]);
    expect(await store.records.listBySession(org.id, session.id)).to.have.length(3);
  });

  it('hands back a write refused alone as its own error, the others written', async function () {
    const { org, session, insert, id, label } = await open();
    const otherOrg = await makeOrg(store);
    // The key (session, student) taken in another organisation.
    await store.records.insertIfAbsent(otherOrg.id, newRecord(session.id, 'x', id('taken')));
    const results = await store.records.writeBatch([insert('s1'), insert('taken'), insert('s2')]);
    expect(results[1]).to.have.property('error').that.has.property('name', 'StoreConflictError');
    expect(results[0]).to.deep.include({ written: true });
    expect(results[2]).to.deep.include({ written: true });
    expect((await store.records.listBySession(org.id, session.id)).map((r) => label(r.studentId)).sort()).to.deep.equal(['s1', 's2']);
  });

  it('refuses on the thread a write made by a user who no longer exists (ActorGoneError), the others written', async function () {
    const { org, session, insert, label } = await open();
    const byGone = insert('s2');
    const gone: RecordWrite = { ...byGone, audit: { ...byGone.audit, actorId: 'erased-teacher' } };
    const results = await store.records.writeBatch([insert('s1'), gone]);
    expect(results[1]).to.have.property('error').that.is.instanceOf(ActorGoneError).with.property('actorId', 'erased-teacher');
    expect(results[0]).to.deep.include({ written: true });
    expect((await store.records.listBySession(org.id, session.id)).map((r) => label(r.studentId))).to.deep.equal(['s1']);
  });

  it('a dead thread: logged, its unanswered batch and the later ones committed on the main connection, each once', async function () {
    const { org, session, insert, label } = await open();
    const writer = store.recordWriter()!;
    const check = storeCheck(store, writer);
    expect(check.facts).to.deep.equal({ kind: 'sqlite', writer: 'worker' });
    await store.records.writeBatch([insert('s1')]);
    const dying = store.records.writeBatch([insert('s1'), insert('s2')]);
    await writer.thread.terminate();
    const answered = await dying;
    // s1 was stored by the first batch: read back, not written twice.
    expect(answered.map((r) => ('written' in r ? r.written : null))).to.deep.equal([false, true]);
    expect(writer.status().mode).to.equal('inline');
    expect(check.facts).to.deep.equal({ kind: 'sqlite', writer: 'inline' });
    expect(log.errors.join('\n')).to.match(/record writer worker died/);
    await store.records.writeBatch([insert('s3')]);
    const stored = await store.records.listBySession(org.id, session.id);
    expect(stored.map((r) => label(r.studentId)).sort()).to.deep.equal(['s1', 's2', 's3']);
  });

  it('a dead thread with two batches out: a batch handed over meanwhile is written after them, in order', async function () {
    const { org, session, insert, label } = await open();
    const writer = store.recordWriter()!;
    await store.records.writeBatch([insert('warm-up')]);
    // The group commit hands the next batch over while one commits (CHECKIN_BATCH_PIPELINE).
    const first = store.records.writeBatch([insert('s1')]);
    const second = store.records.writeBatch([insert('s2')]);
    let third: Promise<unknown> | null = null;
    writer.once('fallback', () => {
      third = store.records.writeBatch([insert('s3')]);
    });
    await writer.thread.terminate();
    await Promise.all([first, second]);
    await third;
    const stored = await store.records.listBySession(org.id, session.id);
    const byVersion = [...stored].sort((a, b) => a.rosterVersion - b.rosterVersion).map((r) => label(r.studentId));
    expect(byVersion).to.deep.equal(['warm-up', 's1', 's2', 's3']);
  });

  it("hands the store's failures back as the errors the main connection would raise (busy, disk full, read-only, a key)", function () {
    const across = (err: unknown) => fromWireError(toWireError(err));
    const full = across(new Database.SqliteError('database or disk is full', 'SQLITE_FULL'));
    expect(unavailableKind(full)).to.equal('disk-full');
    expect(unavailableKind(across(new Database.SqliteError('attempt to write a readonly database', 'SQLITE_READONLY')))).to.equal(
      'read-only',
    );
    expect(isBusy(across(new Database.SqliteError('database is locked', 'SQLITE_BUSY')))).to.equal(true);
    expect(across(new StoreBusyError())).to.be.instanceOf(StoreBusyError);
    expect(across(new StoreConflictError('record')))
      .to.be.instanceOf(StoreConflictError)
      .with.property('key', 'record');
  });

  it('none for writerWorker false', async function () {
    await open(false);
    expect(store.recordWriter()).to.equal(null);
  });

  it('writes a CPU profile of its own under node --cpu-prof, whatever other flags the process has', async function () {
    await open(false);
    const profiles = path.join(dir, 'profiles');
    // --input-type is one of the flags a worker thread refuses: the profiler's must still reach it.
    const script = `
      const { createSqliteStore } = await import(${JSON.stringify(pathToFileURL(path.resolve('src/store/sqlite/sqlite-store.ts')).href)});
      const store = await createSqliteStore({ path: ${JSON.stringify(path.join(dir, 'profiled.db'))} });
      await store.close();`;
    const child = spawnSync(
      process.execPath,
      // Sampled every 50 µs, not every 1 ms: the thread lives a few milliseconds from open to close, and on a
      // loaded machine fewer on a core, so at the default rate its profile could hold no sample of its own code.
      ['--cpu-prof', '--cpu-prof-dir', profiles, '--cpu-prof-interval', '50', '--import', 'tsx', '--input-type=module', '-e', script],
      {
        encoding: 'utf8',
      },
    );
    expect(child.status, child.stderr).to.equal(0);
    const urls = readdirSync(profiles).map((f) => {
      const profile = JSON.parse(readFileSync(path.join(profiles, f), 'utf8')) as { nodes: { callFrame: { url: string } }[] };
      return profile.nodes.map((n) => n.callFrame.url);
    });
    // The thread's own code, or its development entry (which registers tsx for a few milliseconds before
    // loading it): either is sampled only in a profile the writer thread wrote, so the flag reached it.
    expect(
      urls.some((u) => u.some((url) => /workers\/record-writer-worker\.(ts|dev\.mjs)$/.test(url))),
      `profiles: ${urls.map((u) => u.length).join(', ')} nodes`,
    ).to.equal(true);
  });
});

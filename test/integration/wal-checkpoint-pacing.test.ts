import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createSqliteStore, type SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { makeOrg, newRecord, newSession, newSubject, newUser } from '../contract/fixtures.js';

// The record writer thread wakes the checkpoint worker after each commit (a SharedArrayBuffer
// counter), so a pass follows a commit that left `paceBytes` uncopied instead of waiting for the
// next interval (docs/multi-node.md, "WAL checkpoints").
describe('SQLite WAL checkpoints paced by the record writer thread', function () {
  this.timeout(30_000);
  let dir: string;
  let store: SqliteStore | null = null;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'wal-pacing-'));
  });
  afterEach(async () => {
    await store?.close();
    store = null;
    rmSync(dir, { recursive: true, force: true });
  });

  it("a writer thread's commit is followed by a pass at once, not at the next interval", async () => {
    // An interval longer than the test: only the commit's wake-up can start a pass.
    store = await createSqliteStore({ path: path.join(dir, 'store.db'), checkpointTuning: { intervalMs: 600_000, paceBytes: 1 } });
    const cp = store.checkpointer()!;
    if (cp.status().mode === 'starting') await once(cp, 'running');
    const org = await makeOrg(store);
    const subject = await store.subjects.create(org.id, newSubject());
    const session = await store.sessions.create(org.id, newSession(subject.id, 't1'));
    const [student] = await store.users.createMany(org.id, [newUser()]);
    expect(cp.status().checkpoints, 'the main connection writes wake no pass').to.equal(0);

    const checkpointed = once(cp, 'checkpoint');
    await store.records.writeBatch([
      {
        kind: 'insert',
        orgId: org.id,
        input: newRecord(session.id, subject.id, student!.id, { status: 'present', attempts: 1 }),
        audit: { actorId: student!.id, action: 'checkin.submit', reason: null, ip: null },
      },
    ]);
    const [report] = (await checkpointed) as [{ mode: string; busy: number; log: number; checkpointed: number }];
    expect(report).to.include({ mode: 'PASSIVE', busy: 0 });
    expect(report.checkpointed, 'every frame of the WAL copied').to.equal(report.log);
  });
});

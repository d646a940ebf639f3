import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { RecordWrite } from '../../src/domain/ports/records.js';
import type { CommittedBatch } from '../../src/store/sqlite/record-writer.js';
import { createSqliteStore, type SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { schedstatOfThread } from '../../src/store/sqlite/thread-schedstat.js';
import type { CheckpointPassTimes } from '../../src/store/sqlite/wal-checkpointer.js';
import { makeOrg, newRecord, newSession, newSubject, newUser } from '../contract/fixtures.js';

// The worker threads' own times for the stage table (`loadtest --stages`, docs/multi-node.md
// "Load"): with threadTimes each record writer transaction comes back with its CPU, run-queue
// and WAL figures and each checkpointing pass is reported; without it, nothing of the kind.

/** Until the thread's kernel state is S (asleep, waiting for its next message), at most 5 s. */
async function asleep(tid: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    // "tid (name) state …": the name may hold spaces and parentheses, the state follows the last ')'.
    if (stat.charAt(stat.lastIndexOf(')') + 2) === 'S') return;
    if (Date.now() > deadline) throw new Error(`the writer thread ${tid} stayed ${stat.charAt(stat.lastIndexOf(')') + 2)} for 5 s`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

describe('SQLite worker thread times (stage tables)', function () {
  this.timeout(20_000);
  let dir: string;
  let store: SqliteStore;

  const open = async (threadTimes: boolean) => {
    store = await createSqliteStore({ path: path.join(dir, 'store.db'), threadTimes, checkpointTuning: { intervalMs: 20 } });
    const org = await makeOrg(store);
    const subject = await store.subjects.create(org.id, newSubject());
    const session = await store.sessions.create(org.id, newSession(subject.id, 't1'));
    const users = await store.users.createMany(
      org.id,
      Array.from({ length: 40 }, () => newUser()),
    );
    const batch = (from: number, n: number): RecordWrite[] =>
      users.slice(from, from + n).map((u) => ({
        kind: 'insert',
        orgId: org.id,
        input: newRecord(session.id, subject.id, u.id, { status: 'present', attempts: 1 }),
        audit: { actorId: u.id, action: 'checkin.submit', reason: null, ip: null },
      }));
    await once(store.checkpointer()!, 'running');
    return batch;
  };

  /** The `committed` event of the next batch written. */
  const commit = async (writes: RecordWrite[]): Promise<CommittedBatch> => {
    const committed = once(store.recordWriter()!, 'committed') as Promise<[CommittedBatch]>;
    await store.records.writeBatch(writes);
    return (await committed)[0];
  };

  beforeEach(function () {
    dir = mkdtempSync(path.join(tmpdir(), 'thread-times-'));
  });
  afterEach(async function () {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("returns each transaction's batch size, WAL frames and, on Linux, its CPU and run-queue times", async function () {
    const batch = await open(true);
    const first = await commit(batch(0, 20));
    expect(first.size).to.equal(20);
    expect(first.thread, 'thread times').to.not.equal(undefined);
    expect(first.thread!.frames).to.be.greaterThan(0);
    expect(first.thread!.walFrames).to.be.at.least(first.thread!.frames);
    if (existsSync('/proc/thread-self/schedstat')) {
      // The kernel adds to a thread's run time at its ticks and switches, not at each read: a
      // transaction of a millisecond that met neither reads 0 (seen on a quiet machine), and one
      // may carry up to a tick run before it. So: figures present, and the transaction's own,
      // not the thread's life since it started (its start-up alone is tens of milliseconds).
      const sched = first.thread!.sched!;
      expect(sched.runNs).to.be.a('number').and.at.least(0);
      expect(sched.waitNs).to.be.a('number').and.at.least(0);
      expect(sched.slices).to.be.a('number').and.at.least(0);
      expect(sched.runNs / 1e6).to.be.at.most(first.committed - first.received + 20);
    } else {
      expect(first.thread!.sched).to.equal(null);
    }
    expect(first.committed).to.be.at.least(first.received);
  });

  it('names the writer thread to the kernel, so its time on a core can be read from outside while it sleeps', async function () {
    if (!existsSync('/proc/thread-self/schedstat')) this.skip();
    const batch = await open(true);
    // 'ready' comes before the first answer on the thread's port.
    await commit(batch(0, 1));
    const tid = store.recordWriter()!.kernelThreadId;
    expect(tid, 'the thread id').to.be.a('number');
    expect(tid).to.not.equal(process.pid);
    const before = schedstatOfThread(tid!);
    for (let i = 1; i < 21; i += 1) {
      // Sent while the thread sleeps, each message wakes it: one slice at least. Sent sooner, the
      // thread may still be running after its last answer and take it in the same slice (15 of
      // 20 on a CI run), which says nothing of what is measured here.
      await asleep(tid!);
      await commit(batch(i, 1));
    }
    // Twenty transactions, each woken by its message and put to sleep after its answer: the
    // switches bring its time on a core up to date, and only the writer thread ran them.
    const after = schedstatOfThread(tid!);
    expect(after.slices - before.slices).to.be.at.least(20);
    expect(after.runNs).to.be.greaterThan(before.runNs);
  });

  it('names no thread without threadTimes', async function () {
    const batch = await open(false);
    await commit(batch(0, 1));
    expect(store.recordWriter()!.kernelThreadId).to.equal(null);
  });

  it('reports each checkpoint pass that copied frames, with its times and modes', async function () {
    const batch = await open(true);
    const passed = once(store.checkpointer()!, 'pass') as Promise<[CheckpointPassTimes]>;
    await commit(batch(0, 20));
    const [p] = await passed;
    expect(p.modes).to.match(/^PASSIVE/);
    expect(p.checkpointed).to.be.greaterThan(0);
    expect(p.end).to.be.at.least(p.start);
  });

  it('times nothing without threadTimes', async function () {
    const batch = await open(false);
    const passes: CheckpointPassTimes[] = [];
    store.checkpointer()!.on('pass', (p) => passes.push(p));
    // A pass reports itself right after its last checkpoint: one that copied every frame ends
    // its pass, so any later checkpoint belongs to a later pass, after that report.
    const cp = store.checkpointer()!;
    const allCopied = new Promise<void>((resolve) => {
      const seen = (c: { busy: number; log: number; checkpointed: number }) => {
        if (c.busy !== 0 || c.checkpointed < c.log || c.log <= 0) return;
        cp.off('checkpoint', seen);
        resolve();
      };
      cp.on('checkpoint', seen);
    });
    const committed = await commit(batch(0, 20));
    await allCopied;
    const later = once(cp, 'checkpoint');
    await commit(batch(20, 20));
    await later;
    expect(committed).to.not.have.property('thread');
    expect(passes).to.deep.equal([]);
  });
});

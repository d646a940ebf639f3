import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import Database from 'better-sqlite3';
import { repoRoot } from '../../scripts/lib/repo-root.js';
import { createSqliteStore, type SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { CheckpointLogger, WalCheckpointer } from '../../src/store/sqlite/wal-checkpointer.js';
import { walIndexReader } from '../../src/store/sqlite/wal-frames.js';
import { startTestServer } from '../support/http.js';
import { waitFor } from '../support/sockets.js';
import { mostReferencesTo } from '../support/heap-snapshot.js';

const ROOT = repoRoot(import.meta.url);
const TOKEN = 'metrics-token-for-the-wal-test';
const MiB = 1024 * 1024;

function walSize(file: string): number {
  return statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0;
}

function recordingLog(): CheckpointLogger & { lines: { level: string; msg: string; obj: object }[] } {
  const lines: { level: string; msg: string; obj: object }[] = [];
  return {
    lines,
    warn: (obj, msg) => lines.push({ level: 'warn', msg, obj }),
    error: (obj, msg) => lines.push({ level: 'error', msg, obj }),
  };
}

async function running(cp: WalCheckpointer): Promise<void> {
  if (cp.status().mode !== 'starting') return;
  await once(cp, 'running');
}

/** About 350 KB of WAL (rows and index pages): one transaction of 100 users with long names. */
async function writeRound(store: SqliteStore, orgId: string, round: number): Promise<void> {
  await store.users.createMany(
    orgId,
    Array.from({ length: 100 }, (_, i) => ({
      email: `u${round}-${i}@wal`,
      name: `${round}-${i}-${'n'.repeat(600)}`,
      role: 'student' as const,
      studentNumber: null,
      passwordHash: null,
      active: true,
    })),
  );
}

// The WAL of a file store is copied back into the database by a worker thread with its own
// connection (src/store/sqlite/wal-checkpointer.ts), not inside the commits of the event loop.
describe('SQLite WAL checkpoints on a worker thread', function () {
  this.timeout(60_000);
  let dir: string;
  let file: string;
  let store: SqliteStore | null = null;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'wal-checkpoint-'));
    file = path.join(dir, 'store.db');
  });
  afterEach(async () => {
    await store?.close();
    store = null;
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the WAL under its bound through sustained writes, and every row is there after close and reopen', async () => {
    const hardBoundBytes = 4 * MiB;
    const log = recordingLog();
    store = await createSqliteStore({ path: file, log, checkpointTuning: { intervalMs: 10, hardBoundBytes } });
    const cp = store.checkpointer()!;
    await running(cp);
    const org = await store.organisations.create({ name: 'Wal', slug: 'wal', timezone: 'UTC' });
    const wal = walIndexReader(file);
    const rounds = 240; // about 80 MB of WAL without a checkpoint
    let largest = 0;
    const modes = new Set<string>();
    cp.on('checkpoint', (c) => modes.add(c.mode));
    for (let round = 0; round < rounds; round += 1) {
      await writeRound(store, org.id, round);
      largest = Math.max(largest, walSize(file));
      // Sustained, not a burst no checkpointer could follow on a shared core: every third round
      // (about 1 MB of WAL) waits until the worker has copied every frame written so far, or the
      // WAL started over or was emptied, as a node's batches spread over time would leave it
      // room. Not "a report came after the round": a pass that ran during the round's
      // transaction reports after it without having copied it, and on a starved worker thread
      // such reports ended every wait while the WAL grew to the main connection's safety net.
      if (round % 3 === 2) {
        const written = wal.read();
        await waitFor(
          () => {
            const now = wal.read();
            return now.generation !== written.generation || now.backfilled >= written.frames || walSize(file) === 0;
          },
          20_000,
          5,
        );
      }
    }
    wal.close();
    expect(cp.status().mode).to.equal('worker');
    // Whether it also had to RESTART depends on how far the writes got ahead of it (on a quiet
    // machine the WAL wraps by itself after each pass and never reaches the bound): not asserted.
    expect([...modes], 'the worker copied the WAL').to.include('PASSIVE');
    // The bound, plus what the writes between two passes add; below twice the bound, where the
    // main connection's own checkpoint (the net for a worker that falls behind) would step in.
    expect(largest, `largest WAL ${largest} bytes`).to.be.at.most(hardBoundBytes + 3 * MiB);
    expect(log.lines.filter((l) => l.level === 'error')).to.deep.equal([]);
    const cpOf = store.checkpointer()!;
    await store.close();
    store = null;
    expect(cpOf.thread.threadId, 'the worker thread has ended').to.equal(-1);
    expect(walSize(file), 'the closing checkpoint empties the WAL').to.equal(0);

    store = await createSqliteStore({ path: file, checkpointWorker: false });
    const reopenedOrg = await store.organisations.getBySlug('wal');
    const users = await store.users.list(reopenedOrg!.id, { limit: 100_000, offset: 0 });
    expect(users.total).to.equal(rounds * 100);
  });

  it('writes spaced wider than a pass are not taken for an idle store: no TRUNCATE until the writes stop for idleMs', async () => {
    // Under load a batch can take longer than a pass (a starved writer thread, a collection), so
    // a pass sees no commit since the one before. A TRUNCATE then took the write lock, fsynced and
    // cut the WAL to nothing, and the next batches waited for it (40 to 350 ms in the open loop).
    // Well above the gaps between the writes below, even on a machine that starves this process.
    const idleMs = 3_000;
    store = await createSqliteStore({ path: file, checkpointTuning: { intervalMs: 10, idleMs } });
    const cp = store.checkpointer()!;
    await running(cp);
    const org = await store.organisations.create({ name: 'Wal', slug: 'wal', timezone: 'UTC' });
    const modes: string[] = [];
    cp.on('checkpoint', (c) => modes.push(c.mode));
    // A write every 60 ms, six passes apart, for about a second.
    const started = Date.now();
    for (let round = 0; Date.now() - started < 1_000; round += 1) {
      await writeRound(store, org.id, round);
      await new Promise((resolve) => setTimeout(resolve, 60));
    }
    const whileWriting = [...modes];
    expect(whileWriting, 'the worker copied the writes').to.include('PASSIVE');
    expect(whileWriting, 'no TRUNCATE between writes').to.not.include('TRUNCATE');
    // Idle for idleMs: the WAL is emptied.
    await waitFor(() => modes.slice(whileWriting.length).includes('TRUNCATE'), 20_000);
    expect(walSize(file)).to.equal(0);
  });

  it('a TRUNCATE held back by a reader does not hold back the RESTART that keeps the bound once writes go on', async () => {
    const hardBoundBytes = 1 * MiB;
    store = await createSqliteStore({ path: file, checkpointTuning: { intervalMs: 10, hardBoundBytes } });
    const cp = store.checkpointer()!;
    await running(cp);
    const reports: { mode: string; busy: number; log: number; at: number }[] = [];
    cp.on('checkpoint', (c) => reports.push({ ...c, at: Date.now() }));
    const org = await store.organisations.create({ name: 'Wal', slug: 'wal', timezone: 'UTC' });
    // From an empty WAL: the migrations' frames alone reach the bound, and a RESTART held back
    // by the reader below would rightly pause for its second too, which is not the case here.
    await waitFor(() => reports.some((r) => r.mode === 'TRUNCATE' && r.busy === 0 && r.log === 0), 20_000);
    // What the migrations' WAL made the checkpointer do is not under test: only what follows.
    const before = reports.length;

    // A long reader (a report, a backup) keeps its snapshot while a write lands behind it: the
    // idle store's TRUNCATE cannot start the WAL over and waits for it in vain.
    const reader = new Database(file, { readonly: true });
    try {
      reader.exec('BEGIN');
      reader.prepare('SELECT count(*) FROM users').get();
      await writeRound(store, org.id, 0);
      await waitFor(() => reports.slice(before).some((r) => r.mode === 'TRUNCATE' && r.busy !== 0), 20_000);
      expect(
        reports.slice(before).filter((r) => r.mode === 'RESTART'),
        'the WAL stayed under its bound behind the reader',
      ).to.deep.equal([]);
    } finally {
      reader.exec('COMMIT');
      reader.close();
    }

    // The reader gone, one commit takes the WAL past the bound: the pass that sees it copies
    // and starts the WAL over at once, not a second later when the TRUNCATE's pause is over.
    const from = reports.length;
    await store.users.createMany(
      org.id,
      Array.from({ length: 1_000 }, (_, i) => ({
        email: `big-${i}@wal`,
        name: `big-${i}-${'n'.repeat(600)}`,
        role: 'student' as const,
        studentNumber: null,
        passwordHash: null,
        active: true,
      })),
    );
    expect(walSize(file), 'the commit took the WAL past the bound').to.be.at.least(hardBoundBytes);
    const committedAt = Date.now();
    await waitFor(() => reports.slice(from).some((r) => r.mode !== 'PASSIVE'), 20_000);
    const blocking = reports.slice(from).find((r) => r.mode !== 'PASSIVE')!;
    const heldBackAt = reports.findLast((r) => r.mode === 'TRUNCATE' && r.busy !== 0)!.at;
    if (committedAt - heldBackAt < 1_000) {
      expect(blocking, JSON.stringify(reports.slice(from))).to.include({ mode: 'RESTART', busy: 0 });
    } else {
      // A loaded machine took longer than the TRUNCATE's pause to write the commit: the pause is
      // over whatever the code, and the idle tidy-up may come first; the bound is kept all the same.
      expect(blocking, JSON.stringify(reports.slice(from))).to.include({ busy: 0 });
      expect(walSize(file), 'the WAL started over').to.be.below(hardBoundBytes);
    }
  });

  it('keeps nothing of each checkpoint unless asked to time its passes: no list of their modes grows in its heap', async () => {
    // Production runs without threadTimes (CHECKIN_STAGES_FILE unset); a list growing by a mode
    // per checkpoint, at up to 30 a second under load, filled the thread's 32 MB heap within days.
    store = await createSqliteStore({ path: file, checkpointTuning: { intervalMs: 1 } });
    const cp = store.checkpointer()!;
    await running(cp);
    let passive = 0;
    cp.on('checkpoint', (c) => {
      if (c.mode === 'PASSIVE') passive += 1;
    });
    const org = await store.organisations.create({ name: 'Wal', slug: 'wal', timezone: 'UTC' });
    // Each commit gives the next pass something to copy: one at a time, each followed by its
    // checkpoint, until 300 ran.
    for (let i = 0; passive < 300; i += 1) {
      const checkpointed = once(cp, 'checkpoint');
      await store.users.createMany(org.id, [
        { email: `h${i}@wal`, name: `h${i}`, role: 'student', studentNumber: null, passwordHash: null, active: true },
      ]);
      await checkpointed;
    }
    expect(await mostReferencesTo(cp.thread, 'PASSIVE')).to.be.below(10);
  });

  it('falls back to SQLite automatic checkpoints, logged, when the worker is killed', async () => {
    const log = recordingLog();
    store = await createSqliteStore({ path: file, log, checkpointTuning: { intervalMs: 10 } });
    const cp = store.checkpointer()!;
    await running(cp);
    const fellBack = once(cp, 'fallback');
    await cp.thread.terminate();
    await fellBack;
    expect(cp.status().mode).to.equal('automatic');
    const errors = log.lines.filter((l) => l.level === 'error');
    expect(errors).to.have.length(1);
    expect(errors[0]!.msg).to.match(/checkpoint worker died.*automatic checkpoint .* back on/);
    expect(errors[0]!.obj).to.include({ walAutocheckpoint: 1_000 });

    // About 80 MB of WAL written with no worker: SQLite's checkpoint every 1,000 pages (4 MB)
    // keeps the WAL near that, where nothing checkpointing would leave all of it in the WAL.
    const org = await store.organisations.create({ name: 'Wal', slug: 'wal', timezone: 'UTC' });
    let largest = 0;
    for (let round = 0; round < 240; round += 1) {
      await writeRound(store, org.id, round);
      largest = Math.max(largest, walSize(file));
    }
    expect(largest, `largest WAL ${largest} bytes`).to.be.at.most(6 * MiB);
  });

  it('says on /metrics whether the worker runs: attendance_sqlite_checkpoint_worker_up 1, then 0 once it died (logged at error level)', async () => {
    const log = recordingLog();
    const fileStore = await createSqliteStore({ path: file, log, checkpointTuning: { intervalMs: 10 } });
    const srv = await startTestServer({ METRICS_TOKEN: TOKEN }, { openStore: async () => fileStore });
    try {
      const up = async () => {
        const res = await fetch(`${srv.baseUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
        const line = (await res.text()).split('\n').find((l) => l.startsWith('attendance_sqlite_checkpoint_worker_up '));
        return line === undefined ? null : Number(line.split(' ')[1]);
      };
      const cp = fileStore.checkpointer()!;
      await running(cp);
      expect(await up()).to.equal(1);
      const fellBack = once(cp, 'fallback');
      await cp.thread.terminate();
      await fellBack;
      expect(await up()).to.equal(0);
      expect(log.lines.filter((l) => l.level === 'error').map((l) => l.msg)).to.have.length(1);
    } finally {
      // The application closes the store.
      await srv.cleanup();
    }
  });

  it('has no checkpoint worker gauge for a store without a worker', async () => {
    const srv = await startTestServer({ METRICS_TOKEN: TOKEN });
    try {
      const res = await fetch(`${srv.baseUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(await res.text())
        .to.include('attendance_http_request_duration_seconds')
        .and.not.include('attendance_sqlite_checkpoint_worker_up');
    } finally {
      await srv.cleanup();
    }
  });

  it('with the worker turned off, the store has no checkpointer and SQLite checkpoints as before', async () => {
    store = await createSqliteStore({ path: file, checkpointWorker: false });
    expect(store.checkpointer()).to.equal(null);
    const memory = await createSqliteStore({ path: ':memory:' });
    expect(memory.checkpointer()).to.equal(null);
    await memory.close();
  });

  it('a process that closes its store exits by itself, with the WAL checkpointed', async () => {
    const script = `
      import { createSqliteStore } from ${JSON.stringify(path.join(ROOT, 'src/store/sqlite/sqlite-store.ts'))};
      import { once } from 'node:events';
      const store = await createSqliteStore({ path: ${JSON.stringify(file)} });
      const cp = store.checkpointer();
      // Held by a ref: without close() this worker would keep the process alive.
      cp.thread.ref();
      if (cp.status().mode === 'starting') await once(cp, 'running');
      await store.organisations.create({ name: 'Exit', slug: 'exit', timezone: 'UTC' });
      await store.close();
      process.stdout.write('closed ' + cp.status().mode);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code, out).to.equal(0);
    expect(out).to.contain('closed worker');
    expect(walSize(file)).to.equal(0);
  });
});

/**
 * WAL checkpoint benchmark (not a test): the record writer thread and the checkpoint worker of a
 * file store under an open-loop flow of check-in records, without sockets or a load generator, so
 * that on a shared machine what the commits wait on is the checkpoint rather than the run queue
 * (docs/multi-node.md, "WAL checkpoints" and "Load", round 21). Writes check-ins at R per second
 * for D seconds as the group commit does: a batch is posted when the one before it is answered,
 * with every check-in due by then (at most 200). Prints the writer's transaction table of
 * `loadtest --stages` (blocked time, checkpoint overlap) and the checkpoint passes by mode, and
 * the writer thread's time on a core over the whole flow read from outside while it sleeps,
 * against what its own reads inside the transactions found (writerCpuLine).
 *
 *   node --import tsx scripts/bench-wal-checkpoint.ts [--rate 5000] [--duration 20] [--sessions 20]
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { NewRecord, RecordWrite } from '../src/domain/ports/records.js';
import type { CommittedBatch } from '../src/store/sqlite/record-writer.js';
import { createSqliteStore, type SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { schedstatDelta, schedstatOfThread, type ThreadSchedstat } from '../src/store/sqlite/thread-schedstat.js';
import type { CheckpointPassTimes } from '../src/store/sqlite/wal-checkpointer.js';
import { type CheckinSeed, seedCheckinSessions } from './lib/bench-checkin-seed.js';
import { transactionFigures, writerThreadTableText } from './lib/writer-thread-table.js';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '5000' },
    duration: { type: 'string', default: '20' },
    sessions: { type: 'string', default: '20' },
  },
});
const RATE = Number(args.rate);
const DURATION_S = Number(args.duration);
const SESSIONS = Number(args.sessions);
/** The group commit's cap (CHECKIN_BATCH_MAX). */
const BATCH_MAX = 200;

function seed(store: SqliteStore, students: number): Promise<CheckinSeed> {
  return seedCheckinSessions(store, { sessions: SESSIONS, students });
}

/** A check-in as the group commit writes it (geofence and code passed, no selfie), a student of its own. */
function checkin(seeded: Awaited<ReturnType<typeof seed>>, n: number, at: Date): RecordWrite {
  const studentId = seeded.students[n]!;
  const input: NewRecord = {
    sessionId: seeded.sessions[n % seeded.sessions.length]!,
    subjectId: seeded.subjectId,
    studentId,
    status: 'present',
    reason: null,
    flags: [],
    distanceM: 12.4,
    location: { lat: 52.52, lon: 13.405, accuracyM: 8, timestamp: at },
    ip: `10.0.${n % 255}.${(n >> 8) % 255}`,
    attempts: 1,
    submittedAt: at,
    decidedAt: at,
    decidedBy: null,
    note: null,
    verification: null,
    deviceId: randomUUID(),
    userAgent: 'bench-wal-checkpoint',
  };
  return {
    kind: 'insert',
    orgId: seeded.orgId,
    input,
    audit: { actorId: studentId, action: 'checkin.submit', reason: null, ip: input.ip },
  };
}

/**
 * The writer's blocked time split by what ran beside each transaction: a pass with a RESTART or
 * TRUNCATE (the write lock), a PASSIVE-only pass, or none: which of them the blocked time is.
 */
function blockedByOverlap(
  figures: readonly { blocked: number | null }[],
  batches: readonly CommittedBatch[],
  passes: readonly CheckpointPassTimes[],
): string {
  const sums = { lock: [0, 0], passive: [0, 0], none: [0, 0] };
  figures.forEach((f, i) => {
    const b = batches[i]!;
    const during = passes.filter((p) => p.start <= b.committed && p.end >= b.received);
    const kind = during.some((p) => /RESTART|TRUNCATE/.test(p.modes)) ? 'lock' : during.length > 0 ? 'passive' : 'none';
    sums[kind][0]! += f.blocked ?? 0;
    sums[kind][1]! += 1;
  });
  const part = (k: keyof typeof sums, what: string) => `${what} ${sums[k][0]!.toFixed(0)} ms over ${sums[k][1]} transactions`;
  return `writer blocked beside ${part('lock', 'a RESTART or TRUNCATE:')}; ${part('passive', 'a PASSIVE only:')}; ${part('none', 'no pass:')}`;
}

/** The writer thread's schedstat, read once it sleeps (state S): only then is its time on a core up to date. */
async function sleepingSchedstat(tid: number): Promise<ThreadSchedstat> {
  for (;;) {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'latin1');
    // The state follows the command name in parentheses, which may itself hold a space.
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('S')) return schedstatOfThread(tid);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * A thread's own schedstat misses what it ran since its last tick or switch, so a short
 * transaction's CPU shows as "blocked" in the table. Over the flow, read while the thread sleeps,
 * its time on a core is exact: what exceeds the transactions' own reads is CPU credited after
 * them (their unseen tail, and the little it runs between transactions), so the blocked time
 * inside the transactions lies between the table's figure less that excess and the figure itself.
 */
function writerCpuLine(flow: ThreadSchedstat, batches: readonly CommittedBatch[]): string {
  let wall = 0;
  let cpu = 0;
  let queue = 0;
  for (const b of batches) {
    wall += b.committed - b.received;
    cpu += (b.thread?.sched?.runNs ?? 0) / 1e6;
    queue += (b.thread?.sched?.waitNs ?? 0) / 1e6;
  }
  const blocked = wall - cpu - queue;
  const late = flow.runNs / 1e6 - cpu;
  return (
    `writer thread over the flow (read while it slept): on a core ${(flow.runNs / 1e6).toFixed(0)} ms, ` +
    `run queue ${(flow.waitNs / 1e6).toFixed(0)} ms; its ${batches.length} transactions read on the thread: ` +
    `wall ${wall.toFixed(0)} ms, on a core ${cpu.toFixed(0)}, run queue ${queue.toFixed(0)}, "blocked" ${blocked.toFixed(0)}; ` +
    `CPU credited after the transactions' reads ${late.toFixed(0)} ms, so blocked ${Math.max(0, blocked - late).toFixed(0)} to ${blocked.toFixed(0)} ms`
  );
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-wal-checkpoint-'));
  const store = await createSqliteStore({ path: path.join(dir, 'store.db'), threadTimes: true });
  try {
    const total = RATE * DURATION_S;
    const seeded = await seed(store, total);
    const writer = store.recordWriter();
    const checkpointer = store.checkpointer();
    if (!writer || !checkpointer) throw new Error('a file store starts a record writer and a checkpoint worker');
    const batches: CommittedBatch[] = [];
    const passes: CheckpointPassTimes[] = [];
    const modes = new Map<string, number>();
    writer.on('committed', (b) => batches.push(b));
    checkpointer.on('pass', (p) => passes.push(p));
    checkpointer.on('checkpoint', (c) => modes.set(c.mode, (modes.get(c.mode) ?? 0) + 1));
    // Let the seeding's WAL be emptied first: the idle TRUNCATE is not the flow's.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    batches.length = 0;
    passes.length = 0;
    modes.clear();
    const tid = writer.kernelThreadId;
    const flowStart = tid === null ? null : await sleepingSchedstat(tid);
    const load = loadavg()[0]!;
    const started = performance.now();
    let written = 0;
    while (written < total) {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1_000) * RATE));
      if (due <= written) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        continue;
      }
      const n = Math.min(BATCH_MAX, due - written);
      const at = new Date();
      await store.records.writeBatch(Array.from({ length: n }, (_, i) => checkin(seeded, written + i, at)));
      written += n;
    }
    const tookS = (performance.now() - started) / 1_000;
    const cpuLine = tid !== null && flowStart ? `${writerCpuLine(schedstatDelta(flowStart, await sleepingSchedstat(tid)), batches)}\n` : '';
    const table = writerThreadTableText(transactionFigures(batches, passes), passes);
    const byMode = [...modes].map(([m, c]) => `${m} ${c}`).join(', ');
    // A pass's sequence tells a RESTART after a held PASSIVE (the writer not held in time) from one without.
    const sequences = new Map<string, number>();
    for (const p of passes) sequences.set(p.modes, (sequences.get(p.modes) ?? 0) + 1);
    const bySequence = [...sequences].map(([m, c]) => `${m} ${c}`).join(', ');
    const blocked = blockedByOverlap(transactionFigures(batches, []), batches, passes);
    process.stdout.write(
      `${total} check-ins in ${tookS.toFixed(1)} s (${(total / tookS).toFixed(0)}/s offered ${RATE}/s), ` +
        `${batches.length} transactions, load average ${load.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}\n` +
        `checkpoints by mode: ${byMode}\npasses by their checkpoints: ${bySequence}\n${blocked}\n${cpuLine}\n${table ?? 'no writer transactions'}\n`,
    );
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();

/**
 * What the kill -9 tests of group commit share: a class on a node in a child process (no Redis),
 * a live session with every student's phone connected, and the store read back once the node
 * was killed.
 */
import { expect } from 'chai';
import { seedBenchClass, startBenchNode, type BenchClass, type BenchNode } from '../../scripts/lib/bench-node.js';
import { repoRoot } from '../../scripts/lib/repo-root.js';
import type { AttendanceRecord } from '../../src/domain/ports/records.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { command, connectClient, ok, type ClientSocket } from './sockets.js';

const root = repoRoot(import.meta.url);

/** The class's size: enough students for several batches still in flight when the node dies. */
export const KILLED_CLASS_STUDENTS = 120;
/** Between two steps of submissions (about 360 ms for a class): sent at once, a fast node stored every one before the kill reached it. */
export const SUBMIT_PACE_MS = 3;
/** Small batches with a long window, so check-ins are waiting in a batch when the node dies; the rate limit above a class's burst. */
const BATCHED = { CHECKIN_RATE_PER_MINUTE: '600', CHECKIN_BATCH_WINDOW_MS: '20', CHECKIN_BATCH_MAX: '10' };

export interface KilledClass {
  bench: BenchClass;
  live: BenchNode;
  sessionId: string;
  /** Each student's phone, in the order of bench.students. */
  phones: ClientSocket[];
}

/**
 * Registers the describe's `after` (sockets closed, the node killed if a failed test left it
 * running, the database removed) and answers a function that starts the class of
 * KILLED_CLASS_STUDENTS, batched as BATCHED with `env` on top.
 */
export function useKilledClass(): (name: string, env?: Record<string, string>) => Promise<KilledClass> {
  let bench: BenchClass | null = null;
  let node: BenchNode | null = null;
  const sockets: ClientSocket[] = [];
  after(() => {
    for (const s of sockets) s.disconnect();
    const child = node?.child;
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    bench?.remove();
  });
  return async (name, env = {}) => {
    const seeded = await seedBenchClass(name, KILLED_CLASS_STUDENTS, { ...BATCHED, ...env });
    bench = seeded;
    delete seeded.env['REDIS_URL'];
    const { teacher, subject, tokens } = seeded;
    const live = await startBenchNode(root, seeded.env);
    node = live;
    const staff = await connectClient(live.url, tokens.signAccess(teacher).token);
    sockets.push(staff);
    const sessionId = ok(
      await command(staff, 'session:open', { subjectId: subject.id, policy: { geofence: true, rotatingCode: false } }),
    ).id;
    const phones = await Promise.all(seeded.students.map((s) => connectClient(live.url, tokens.signAccess(s).token)));
    sockets.push(...phones);
    return { bench: seeded, live, sessionId, phones };
  };
}

/**
 * Ends a run: kills the node if the run never reached the kill (it then fails here instead of
 * waiting for a node still alive), waits for every submission's answer or loss, and stops it.
 */
export async function endKilledRun(live: BenchNode, killed: boolean, answers: readonly Promise<void>[]): Promise<void> {
  if (!killed) live.child.kill('SIGKILL');
  await Promise.all(answers);
  await live.stop();
  expect(killed, 'the node was killed mid-run').to.equal(true);
}

/** The session's records and the ids of the entities its audit entries name, read from the node's file; one record per student. */
export async function readAfterKill(bench: BenchClass, sessionId: string): Promise<{ stored: AttendanceRecord[]; audited: Set<string> }> {
  const store = await createSqliteStore({ path: bench.dbPath });
  try {
    const stored = await store.records.listBySession(bench.org.id, sessionId);
    const byStudent = new Map<string, number>();
    for (const r of stored) byStudent.set(r.studentId, (byStudent.get(r.studentId) ?? 0) + 1);
    expect(
      [...byStudent.values()].every((n) => n === 1),
      'one record per student',
    ).to.equal(true);
    const audited = new Set((await store.audit.listForSession(bench.org.id, sessionId)).map((e) => e.entityId));
    return { stored, audited };
  } finally {
    await store.close();
  }
}

/**
 * CPU of the group commit's peer reads per check-in (src/domain/checkins/session-peers.ts) on a
 * SQLite file, not a test: students check in to several sessions at once in batches, each batch
 * first brings its sessions' peer indexes up to date, then is written. Measured twice, rounds
 * alternated: `own` hands each stored batch to the index (SessionPeers.wrote, as the group commit
 * does), so a batch reads nothing while no one else wrote; `read` does not, so every batch counts
 * each session's records and reads its own writes back (as before round 25, plus the check of the
 * session's version that now comes first).
 *
 *   node --import tsx scripts/bench-peer-reads.ts [--students 2000] [--sessions 8] [--batch 80] [--rounds 3]
 *
 * Only the main thread's reads and merges are timed (process.cpuUsage around them), not the writes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SessionPeers } from '../src/domain/checkins/session-peers.js';
import type { AttendanceRecord } from '../src/domain/ports/records.js';
import { createSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { makeOrg, newRecord, newSession, newSubject, newUser } from '../test/contract/fixtures.js';

const { values: args } = parseArgs({
  options: {
    students: { type: 'string', default: '2000' },
    sessions: { type: 'string', default: '8' },
    batch: { type: 'string', default: '80' },
    rounds: { type: 'string', default: '3' },
  },
});
const STUDENTS = Number(args.students);
const SESSIONS = Number(args.sessions);
const BATCH = Number(args.batch);
const ROUNDS = Number(args.rounds);

const cpuMicros = (since: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(since);
  return d.user + d.system;
};

/** One class checking in to every session, in a random order of (session, student); µs of CPU per check-in. */
async function run(own: boolean): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-peer-reads-'));
  const store = await createSqliteStore({ path: path.join(dir, 'bench.db') });
  try {
    const org = await makeOrg(store);
    const subject = await store.subjects.create(org.id, newSubject());
    const sessions: string[] = [];
    for (let i = 0; i < SESSIONS; i += 1) {
      sessions.push((await store.sessions.create(org.id, newSession(subject.id, 't1', { status: 'open' }))).id);
    }
    const users = await store.users.createMany(
      org.id,
      Array.from({ length: STUDENTS }, () => newUser()),
    );
    const checkins = sessions.flatMap((sessionId) => users.map((u) => ({ sessionId, studentId: u.id })));
    for (let i = checkins.length - 1; i > 0; i -= 1) {
      const j = Math.floor(Math.random() * (i + 1));
      [checkins[i], checkins[j]] = [checkins[j]!, checkins[i]!];
    }
    const peers = new SessionPeers(store.records, () => Date.now());
    let cpu = 0;
    for (let i = 0; i < checkins.length; i += BATCH) {
      const batch = checkins.slice(i, i + BATCH);
      let since = process.cpuUsage();
      await peers.currentAll(org.id, [...new Set(batch.map((c) => c.sessionId))]);
      cpu += cpuMicros(since);
      const results = await store.records.writeBatch(
        batch.map((c, k) => ({
          kind: 'insert' as const,
          orgId: org.id,
          input: newRecord(c.sessionId, subject.id, c.studentId, { deviceId: `device-${i + k}`, ip: '10.0.0.1', status: 'present' }),
          audit: { actorId: c.studentId, action: 'checkin.submit' as const, reason: null, ip: null },
        })),
      );
      if (!own) continue;
      since = process.cpuUsage();
      const stored = new Map<string, AttendanceRecord[]>();
      results.forEach((r, k) => {
        if (!r.written) return;
        const sessionId = batch[k]!.sessionId;
        stored.set(sessionId, [...(stored.get(sessionId) ?? []), r.record]);
      });
      for (const [sessionId, records] of stored) peers.wrote(org.id, sessionId, records);
      cpu += cpuMicros(since);
    }
    return cpu / checkins.length;
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

process.stdout.write(`${STUDENTS} students, ${SESSIONS} sessions, batches of ${BATCH}: CPU µs per check-in of the peer reads\n`);
for (let round = 1; round <= ROUNDS; round += 1) {
  const read = await run(false);
  const own = await run(true);
  process.stdout.write(`round ${round}: read back ${read.toFixed(2)}, own writes kept ${own.toFixed(2)}\n`);
}

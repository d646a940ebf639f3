/**
 * What the check-in reads kept across turns (src/domain/checkins/checkin-reads.ts, "Read
 * versions" in docs/multi-node.md) cost a node per entry: one organisation on a SQLite file, S
 * open sessions of one subject and N enrolled students, each student reading each session once.
 * Not a test.
 *
 *   node --import tsx scripts/bench-kept-reads-memory.ts [--sessions 1000] [--students 2000]
 *
 * Prints the heap the reads hold after a full collection (the heap with them, less the heap once
 * they are let go), per session kept (with its subject) and per student (name and enrolment).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import vm from 'node:vm';
import { CheckinReads } from '../src/domain/checkins/checkin-reads.js';
import type { AttendanceSession } from '../src/domain/ports/sessions.js';
import { createSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { seedClass } from './lib/bench-node.js';

const { values: args } = parseArgs({
  options: { sessions: { type: 'string', default: '1000' }, students: { type: 'string', default: '2000' } },
});
const sessionCount = Number(args.sessions);
const studentCount = Number(args.students);

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const heap = () => {
  gc();
  return process.memoryUsage().heapUsed;
};

const dir = mkdtempSync(path.join(tmpdir(), 'kept-reads-'));
const store = await createSqliteStore({ path: path.join(dir, 'bench.db') });
try {
  const { org, subject, students } = await seedClass(store, studentCount);
  const startsAt = new Date();
  const sessions: AttendanceSession[] = [];
  for (let i = 0; i < sessionCount; i += 1) {
    sessions.push(
      await store.sessions.create(org.id, {
        subjectId: subject.id,
        teacherId: subject.teacherIds[0]!,
        status: 'open',
        policy: { geofence: true, network: false, rotatingCode: false, selfie: false, codePeriodS: 15, maxAttempts: 2 },
        startsAt,
        lateAfter: new Date(startsAt.getTime() + 600_000),
        closesAt: new Date(startsAt.getTime() + 3_600_000),
        codeSecret: 'c2VjcmV0',
        day: startsAt.toISOString().slice(0, 10),
      }),
    );
  }
  // Session ids and student ids as a socket's payload and token give them: strings of their own.
  const own = (s: string) => Buffer.from(s).toString();
  const measure = async (fill: (reads: CheckinReads) => Promise<void>) => {
    // Held by a property, so letting it go is one assignment the collector sees.
    const holder: { reads: CheckinReads | null } = { reads: new CheckinReads(store) };
    await fill(holder.reads!);
    const kept = heap();
    holder.reads = null;
    return kept - heap();
  };
  // Names and enrolments: every student once, in one session (one session kept).
  const perStudent = await measure(async (reads) => {
    await Promise.all(students.map((s) => reads.read(org.id, own(sessions[0]!.id), own(s.id))));
  });
  // Sessions: one student in every session (that student's name and enrolment kept once).
  const perSession = await measure(async (reads) => {
    for (const s of sessions) await reads.read(org.id, own(s.id), own(students[0]!.id));
  });
  process.stdout.write(
    `${studentCount} students in one session: ${(perStudent / 1024 / 1024).toFixed(1)} MB, ${Math.round(perStudent / studentCount)} bytes per student\n` +
      `${sessionCount} sessions, one student each: ${(perSession / 1024 / 1024).toFixed(1)} MB, ${Math.round(perSession / sessionCount)} bytes per session\n`,
  );
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}

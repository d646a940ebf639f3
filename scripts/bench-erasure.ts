/**
 * Erasure benchmark (not a test): what erasing a student with many attendance records costs.
 * Seeds one organisation with a student who has one record in each of --sessions sessions
 * (each with --classmates other students' records too), in bulk,
 * then erases the student and prints the wall time, this process's CPU, the database commands
 * sent (mongo: one per driver call, counted with mongoose's debug hook) and, with --server-pid,
 * the database server's CPU time (Linux, from /proc), which the machine's load inflates less
 * than the wall time.
 *
 *   node --import tsx scripts/bench-erasure.ts [--store sqlite|mongo] [--sessions 2000] [--classmates 5]
 *     [--runs 1] [--server-pid PID] [--audit]
 *
 * --audit: an audit entry about each record (a check-in's), which the erasure scrubs.
 *
 * mongo: MONGODB_URI (a FerretDB or MongoDB server; a database of its own is made and dropped).
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import mongoose from 'mongoose';
import type { AttendanceRecord } from '../src/domain/ports/records.js';
import type { AttendanceSession } from '../src/domain/ports/sessions.js';
import type { Store } from '../src/domain/ports/store.js';
import { fromRecord, fromSession } from '../src/store/mongo/mapping.js';
import { openBenchStore, processCpuMs } from './lib/bench-store.js';

const { values: args } = parseArgs({
  options: {
    store: { type: 'string', default: 'sqlite' },
    sessions: { type: 'string', default: '2000' },
    classmates: { type: 'string', default: '5' },
    runs: { type: 'string', default: '1' },
    'server-pid': { type: 'string' },
    audit: { type: 'boolean', default: false },
  },
});
/** Seed an audit entry per record too, as check-ins write them. */
const AUDIT = args.audit;
const SESSIONS = Number(args.sessions);
const CLASSMATES = Number(args.classmates);
const RUNS = Number(args.runs);
/** Rows per transfer import call while seeding. */
const SEED_BATCH = 1_000;

let commands = 0;

interface Opened {
  store: Store;
  /** Seeds sessions and records: plain inserts on MongoDB (the transfer import's upserts are a scan each on FerretDB). */
  put(sessions: AttendanceSession[], records: AttendanceRecord[]): Promise<void>;
  cleanup(): Promise<void>;
}

async function openStore(): Promise<Opened> {
  const opened = await openBenchStore(args.store, 'bench-erasure', {
    serverSelectionTimeoutMs: 60_000,
    socketTimeoutMs: 3_600_000,
    // FerretDB's test relay runs one command at a time: a long one holds the driver's heartbeat,
    // which must not time out and fail the operations in flight.
    params: { connectTimeoutMS: '600000' },
  });
  const { store, mongoUri } = opened;
  if (mongoUri === null) {
    return {
      store,
      async put(sessions, records) {
        await importAll(sessions, (b) => store.transfer.import('sessions', b));
        await importAll(records, (b) => store.transfer.import('records', b));
      },
      cleanup: opened.cleanup,
    };
  }
  let last = performance.now();
  mongoose.set('debug', (collection: string, method: string) => {
    commands++;
    // BENCH_TRACE=1: each command with the time since the one before (which it waited on).
    if (process.env['BENCH_TRACE']) console.log(`+${Math.round(performance.now() - last)} ms ${collection}.${method}`);
    last = performance.now();
  });
  const conn = await mongoose.createConnection(mongoUri, { serverSelectionTimeoutMS: 60_000 }).asPromise();
  return {
    store,
    async put(sessions, records) {
      await importAll(sessions, (b) =>
        conn
          .collection('sessions')
          .insertMany(b.map(fromSession) as never[])
          .then(() => undefined),
      );
      await importAll(records, (b) =>
        conn
          .collection('records')
          .insertMany(b.map(fromRecord) as never[])
          .then(() => undefined),
      );
    },
    async cleanup() {
      await conn.close();
      await opened.cleanup();
    },
  };
}

const serverCpuMs = () => processCpuMs(args['server-pid']);

async function importAll<T>(items: T[], put: (batch: T[]) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += SEED_BATCH) await put(items.slice(i, i + SEED_BATCH));
}

/** The organisation, the student to erase and their classmates, and every session with its records. */
async function seed({ store, put }: Opened): Promise<{ orgId: string; student: { id: string; email: string; name: string } }> {
  const org = await store.organisations.create({ name: 'Bench', slug: `bench-${randomBytes(3).toString('hex')}`, timezone: 'UTC' });
  const users = await store.users.createMany(
    org.id,
    Array.from({ length: CLASSMATES + 2 }, (_, i) => ({
      email: `u${i}@bench.test`,
      name: i === 0 ? 'Teacher' : `Student ${i}`,
      role: i === 0 ? ('teacher' as const) : ('student' as const),
      studentNumber: i === 0 ? null : `N${i}`,
      passwordHash: null,
      active: true,
    })),
  );
  const [teacher, student, ...classmates] = users as [(typeof users)[0], (typeof users)[0], ...typeof users];
  const subject = await store.subjects.create(org.id, {
    code: 'B1',
    name: 'Bench subject',
    teacherIds: [teacher.id],
    location: null,
    allowedIpRanges: [],
  });
  const at = new Date(Date.UTC(2025, 0, 1, 8));
  const sessions: AttendanceSession[] = [];
  const records: AttendanceRecord[] = [];
  for (let k = 0; k < SESSIONS; k++) {
    const startsAt = new Date(at.getTime() + k * 3_600_000);
    const id = `bench-s-${k}`;
    const attendees = [student, ...classmates];
    sessions.push({
      id,
      orgId: org.id,
      subjectId: subject.id,
      teacherId: teacher.id,
      status: 'closed',
      policy: { geofence: false, network: false, rotatingCode: false, selfie: false, codePeriodS: 15, maxAttempts: 3 },
      startsAt,
      lateAfter: new Date(startsAt.getTime() + 600_000),
      closesAt: new Date(startsAt.getTime() + 3_600_000),
      codeSecret: `secret-${k}`,
      room: null,
      meetingId: null,
      meetingEdit: null,
      day: startsAt.toISOString().slice(0, 10),
      createdAt: startsAt,
      updatedAt: startsAt,
      closedAt: new Date(startsAt.getTime() + 3_600_000),
      closedBy: teacher.id,
      leaseOwner: null,
      leaseUntil: null,
      rosterVersion: attendees.length,
    });
    attendees.forEach((u, n) =>
      records.push({
        id: `bench-r-${k}-${n}`,
        orgId: org.id,
        sessionId: id,
        subjectId: subject.id,
        studentId: u.id,
        status: 'present',
        reason: null,
        flags: [],
        distanceM: 12,
        location: { lat: 52.2, lon: 21.0, accuracyM: 10, timestamp: startsAt },
        ip: '203.0.113.9',
        attempts: 1,
        submittedAt: startsAt,
        decidedAt: startsAt,
        decidedBy: null,
        note: null,
        verification: null,
        version: 1,
        rosterVersion: n + 1,
        createdAt: startsAt,
        updatedAt: startsAt,
      }),
    );
  }
  await put(sessions, records);
  if (AUDIT) {
    // As check-ins leave them: an entry about each record, by its student (the student's are the
    // erasure's to scrub, found by the record ids).
    for (let i = 0; i < records.length; i += SEED_BATCH) {
      await store.audit.appendMany(
        records.slice(i, i + SEED_BATCH).map((r) => ({
          orgId: org.id,
          entityType: 'record' as const,
          entityId: r.id,
          sessionId: r.sessionId,
          actorId: r.studentId,
          action: 'checkin.submit' as const,
          from: null,
          to: { status: r.status },
          reason: null,
          ip: r.ip,
          at: r.createdAt,
        })),
      );
    }
  }
  return { orgId: org.id, student };
}

async function main(): Promise<void> {
  for (let run = 1; run <= RUNS; run++) {
    const opened = await openStore();
    const { store, cleanup } = opened;
    try {
      const { orgId, student } = await seed(opened);
      commands = 0;
      const server0 = serverCpuMs();
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const counts = await store.privacy.erase(
        { orgId, userId: student.id, identifiers: [student.email, student.name] },
        `erased-bench-${run}`,
      );
      const wallMs = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      const server1 = serverCpuMs();
      const serverMs = server0 === null || server1 === null ? 'n/a' : `${server1 - server0} ms`;
      console.log(
        `run ${run} (${args.store}, ${SESSIONS} sessions, ${CLASSMATES} classmates): records ${counts.records}, ` +
          `wall ${Math.round(wallMs)} ms, cpu ${Math.round((cpu.user + cpu.system) / 1_000)} ms, server cpu ${serverMs}, ` +
          `audit ${counts.audit}, commands ${args.store === 'mongo' ? commands : 'n/a'}, load ${loadavg()
            .map((l) => l.toFixed(1))
            .join(' ')}`,
      );
    } catch (err) {
      console.error(err);
      process.exitCode = 1;
    } finally {
      await cleanup().catch((err: unknown) => console.error('cleanup:', err));
    }
  }
}

await main();

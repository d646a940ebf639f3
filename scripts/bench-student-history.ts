/**
 * A student's history benchmark (not a test): what a page of `records.listByStudent` (GET
 * /me/attendance) costs in session order (SQLite: a join on the sessions' primary key, sorted;
 * MongoDB: one range of the records' org_student_session_start index, each record carrying its
 * session's start, and a count when the page is full). One student with a record in each of
 * `--sessions` sessions, and `--classmates` others in each.
 *
 *   node --import tsx scripts/bench-student-history.ts [--store sqlite|mongo] [--sessions 300] [--classmates 20] [--calls 200]
 *
 * sqlite: a new file store. mongo: MONGODB_URI (a FerretDB or MongoDB server; a database of its
 * own is made and dropped).
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import mongoose from 'mongoose';
import type { NewRecord } from '../src/domain/ports/records.js';
import { newTimeOrderedId } from '../src/shared/ids.js';
import { newRecordDoc } from '../src/store/mongo/queries.js';
import type { RecordDoc } from '../src/store/mongo/record-schemas.js';
import { type BenchStore, openBenchStore } from './lib/bench-store.js';
import { microsPerCall } from './lib/per-call.js';

const { values: args } = parseArgs({
  options: {
    store: { type: 'string', default: 'sqlite' },
    sessions: { type: 'string', default: '300' },
    classmates: { type: 'string', default: '20' },
    calls: { type: 'string', default: '200' },
  },
});
const SESSIONS = Number(args.sessions);
const CLASSMATES = Number(args.classmates);
const CALLS = Number(args.calls);
const LIMIT = 20;
const DAY = 24 * 60 * 60_000;

const perCall = (fn: () => Promise<unknown>) => microsPerCall(CALLS, fn);

interface Seed {
  startsAt: Date;
  input: NewRecord;
}

/**
 * The records, through the store on SQLite; on MongoDB as the store writes them but in one insert
 * (one write per record costs a scan of the collection on FerretDB: seeding took over 20 minutes).
 */
async function putRecords(opened: BenchStore, orgId: string, seed: readonly Seed[]): Promise<void> {
  if (opened.mongoUri === null) {
    for (const r of seed) await opened.store.records.insertIfAbsent(orgId, r.input);
    return;
  }
  const conn = await mongoose.createConnection(opened.mongoUri, { serverSelectionTimeoutMS: 5_000 }).asPromise();
  try {
    const now = new Date();
    const docs = seed.map((r) => newRecordDoc(orgId, newTimeOrderedId(), r.input, now, 0, r.startsAt));
    await conn.db!.collection<RecordDoc>('records').insertMany(docs);
  } finally {
    await conn.close();
  }
}

async function main(): Promise<void> {
  const opened = await openBenchStore(String(args.store), 'bench-history', { serverSelectionTimeoutMs: 5_000, socketTimeoutMs: 120_000 });
  const s = opened.store;
  try {
    const org = await s.organisations.create({ name: 'Bench', slug: `bench-${randomBytes(3).toString('hex')}`, timezone: 'UTC' });
    const subject = await s.subjects.create(org.id, { code: 'B1', name: 'Bench', teacherIds: ['t'], location: null, allowedIpRanges: [] });
    const students = ['me', ...Array.from({ length: CLASSMATES }, (_, i) => `c${i}`)];
    const start = Date.now() - SESSIONS * DAY;
    const seed: Seed[] = [];
    for (let i = 0; i < SESSIONS; i += 1) {
      const startsAt = new Date(start + i * DAY);
      const sess = await s.sessions.create(org.id, {
        subjectId: subject.id,
        teacherId: 't',
        status: 'closed',
        policy: { geofence: false, network: false, rotatingCode: false, selfie: false, codePeriodS: 15, maxAttempts: 3 },
        startsAt,
        lateAfter: new Date(startsAt.getTime() + 10 * 60_000),
        closesAt: new Date(startsAt.getTime() + 60 * 60_000),
        codeSecret: `secret-${i}`,
        day: startsAt.toISOString().slice(0, 10),
      });
      for (const studentId of students) {
        seed.push({
          startsAt,
          input: {
            sessionId: sess.id,
            subjectId: subject.id,
            studentId,
            status: 'present',
            reason: null,
            flags: [],
            distanceM: null,
            location: null,
            ip: null,
            attempts: 1,
            submittedAt: startsAt,
            decidedAt: startsAt,
            decidedBy: null,
            note: null,
            verification: null,
          },
        });
      }
    }
    await putRecords(opened, org.id, seed);
    const row = {
      store: String(args.store),
      sessions: SESSIONS,
      classmates: CLASSMATES,
      'first page µs': (await perCall(() => s.records.listByStudent(org.id, 'me', { limit: LIMIT, offset: 0 }))).toFixed(0),
      'last page µs': (await perCall(() => s.records.listByStudent(org.id, 'me', { limit: LIMIT, offset: SESSIONS - LIMIT }))).toFixed(0),
      load: loadavg()
        .map((l) => l.toFixed(1))
        .join(' '),
    };
    console.log(JSON.stringify(row));
  } finally {
    await opened.cleanup();
  }
}

await main();

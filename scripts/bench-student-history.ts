/**
 * A student's history benchmark (not a test): what a page of `records.listByStudent` (GET
 * /me/attendance) costs now that it is in session order, which every page works out from all of
 * the student's records (SQLite: a join on the sessions' primary key, sorted; MongoDB: the
 * student's record keys, their sessions' starts, then the page's records by id). One student with
 * a record in each of `--sessions` sessions, and `--classmates` others in each.
 *
 *   node --import tsx scripts/bench-student-history.ts [--store sqlite|mongo] [--sessions 300] [--classmates 20] [--calls 200]
 *
 * sqlite: a new file store. mongo: MONGODB_URI (a FerretDB or MongoDB server; a database of its
 * own is made and dropped).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import mongoose from 'mongoose';
import type { Store } from '../src/domain/ports/store.js';
import { createMongoStore } from '../src/store/mongo/mongo-store.js';
import { createSqliteStore } from '../src/store/sqlite/sqlite-store.js';

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

async function openStore(): Promise<{ store: Store; cleanup(): Promise<void> }> {
  if (args.store === 'mongo') {
    const base = process.env['MONGODB_URI'];
    if (!base) throw new Error('--store mongo needs MONGODB_URI (a FerretDB or MongoDB server)');
    const u = new URL(base);
    u.pathname = `/bench_history_${randomBytes(4).toString('hex')}`;
    const uri = u.toString();
    const store = await createMongoStore({ kind: 'mongo', uri, poolSize: 5, serverSelectionTimeoutMs: 5_000, socketTimeoutMs: 120_000 });
    return {
      store,
      async cleanup() {
        await store.close();
        const conn = await mongoose.createConnection(uri, { serverSelectionTimeoutMS: 5_000 }).asPromise();
        await conn.dropDatabase();
        await conn.close();
      },
    };
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-history-'));
  const store = await createSqliteStore({ path: path.join(dir, 'bench.db') });
  return {
    store,
    async cleanup() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Microseconds per call, the calls one after another. */
async function perCall(fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i += 1) await fn();
  return Number(process.hrtime.bigint() - start) / 1_000 / CALLS;
}

async function main(): Promise<void> {
  const { store: s, cleanup } = await openStore();
  try {
    const org = await s.organisations.create({ name: 'Bench', slug: `bench-${randomBytes(3).toString('hex')}`, timezone: 'UTC' });
    const subject = await s.subjects.create(org.id, { code: 'B1', name: 'Bench', teacherIds: ['t'], location: null, allowedIpRanges: [] });
    const students = ['me', ...Array.from({ length: CLASSMATES }, (_, i) => `c${i}`)];
    const start = Date.now() - SESSIONS * DAY;
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
        await s.records.insertIfAbsent(org.id, {
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
        });
      }
    }
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
    await cleanup();
  }
}

await main();

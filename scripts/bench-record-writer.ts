/**
 * Record writer benchmark (not a test): what the group commit's SQLite transaction costs per
 * check-in, and where in it the time goes. Writes B batches of N new check-in records (each with
 * its audit entry) over S sessions into a new file store, through `records.writeBatch` on the
 * main connection (SQLITE_WRITER_WORKER=false's path: the same repository code the writer thread
 * runs), after P records already stored. Prints the CPU per check-in (this process: the thread
 * is the only busy one) and, with --by-statement, the time per check-in of each SQL statement,
 * the rest being the commit, the row building and the bindings.
 *
 *   node --import tsx scripts/bench-record-writer.ts [--batches 200] [--batch 20] [--sessions 4]
 *     [--preload 20000] [--runs 3] [--by-statement] [--drop INDEX,...] [--pragma 'cache_size=-65536,...']
 *     [--page-size 8192] [--skip-audit-insert] [--history-sessions 0] [--by-btree]
 *
 * --drop removes indexes from the benchmark's own file before it writes, to price each one (what
 * an index costs is the figure with it minus the figure without). --pragma sets each pragma on the
 * timed connection before it writes (a connection setting priced the same way). --page-size
 * rebuilds the file at that page size first (VACUUM, out of WAL mode and back).
 * --skip-audit-insert builds each check-in's audit row but does not insert it: what a check-in
 * would save if its record carried its own audit fact (docs/multi-node.md, "Load"), at most.
 * --history-sessions N puts the preloaded records in N sessions of their own (a term's history),
 * so the timed writes' sessions hold only their own, as a lecture's do. --by-btree counts the
 * WAL's frames after the timed writes by the table or index that owns each page.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import type { NewRecord, RecordWrite } from '../src/domain/ports/records.js';
import { SqliteDb } from '../src/store/sqlite/db.js';
import { recordRepository } from '../src/store/sqlite/attendance.js';
import { createSqliteStore, type SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { seedCheckinSessions } from './lib/bench-checkin-seed.js';
import { walFramesByBtree } from './lib/wal-pages-by-btree.js';

const { values: args } = parseArgs({
  options: {
    batches: { type: 'string', default: '200' },
    batch: { type: 'string', default: '20' },
    sessions: { type: 'string', default: '4' },
    preload: { type: 'string', default: '20000' },
    runs: { type: 'string', default: '3' },
    'by-statement': { type: 'boolean', default: false },
    drop: { type: 'string', default: '' },
    pragma: { type: 'string', default: '' },
    'page-size': { type: 'string', default: '' },
    'skip-audit-insert': { type: 'boolean', default: false },
    'by-btree': { type: 'boolean', default: false },
    'history-sessions': { type: 'string', default: '0' },
  },
});
const BATCHES = Number(args.batches);
const BATCH = Number(args.batch);
const SESSIONS = Number(args.sessions);
/** --history-sessions 400: the preloaded records go to that many other sessions, the timed writes' start empty. */
const HISTORY_SESSIONS = Number(args['history-sessions']);
const PRELOAD = Number(args.preload);
const RUNS = Number(args.runs);
const DROP = args.drop ? args.drop.split(',') : [];
/** --pragma 'cache_size=-65536,mmap_size=0': set on the timed connection before it writes. */
const PRAGMAS = args.pragma ? args.pragma.split(',') : [];
/** --page-size 2048: the stored file rebuilt at that page size before the timed writes. */
const PAGE_SIZE = args['page-size'] ? Number(args['page-size']) : 0;

/** SQL text (its first words) to the time its statements spent executing, in ns. */
const statementNs = new Map<string, bigint>();
if (args['by-statement']) timeStatements();
const SKIP_AUDIT_INSERT = args['skip-audit-insert'];
/** Set over the timed writes only: the preloaded file has its audit rows, as a real one has. */
let skippingAuditInserts = false;
if (SKIP_AUDIT_INSERT) skipAuditInsert();

/** While skipping, the audit insert's statement answers as if it had written its row, and writes nothing. */
function skipAuditInsert(): void {
  const stmt = SqliteDb.prototype.stmt;
  SqliteDb.prototype.stmt = function (this: SqliteDb, sql: string) {
    const s = stmt.call(this, sql);
    if (!/^\s*INSERT INTO audit\b/.test(sql)) return s;
    const run = s.run.bind(s);
    return Object.assign(Object.create(s) as typeof s, {
      run: (...a: Parameters<typeof run>) => (skippingAuditInserts ? { changes: 1, lastInsertRowid: 0 } : run(...a)),
    });
  } as typeof stmt;
}

/** Wraps every prepared statement's run/get/all with a clock, keyed by the statement's start. */
function timeStatements(): void {
  const stmt = SqliteDb.prototype.stmt;
  const wrapped = new WeakSet<object>();
  SqliteDb.prototype.stmt = function (this: SqliteDb, sql: string) {
    const s = stmt.call(this, sql);
    if (wrapped.has(s)) return s;
    wrapped.add(s);
    const key = sql.replace(/\s+/g, ' ').slice(0, 70);
    for (const method of ['run', 'get', 'all'] as const) {
      const original = s[method].bind(s) as (...a: unknown[]) => unknown;
      (s as unknown as Record<string, unknown>)[method] = (...a: unknown[]) => {
        const t0 = process.hrtime.bigint();
        try {
          return original(...a);
        } finally {
          statementNs.set(key, (statementNs.get(key) ?? 0n) + process.hrtime.bigint() - t0);
        }
      };
    }
    return s;
  } as typeof stmt;
}

const USER_AGENT =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';

/** A check-in as the group commit writes it: geofence and code passed, no selfie. */
function checkin(orgId: string, sessionId: string, subjectId: string, studentId: string, at: Date): RecordWrite {
  const input: NewRecord = {
    sessionId,
    subjectId,
    studentId,
    status: 'present',
    reason: null,
    flags: [],
    distanceM: 12.4,
    location: { lat: 52.52 + Math.random() * 1e-4, lon: 13.405 + Math.random() * 1e-4, accuracyM: 8, timestamp: at },
    ip: `10.0.${Math.floor(Math.random() * 255)}.${Math.floor(Math.random() * 255)}`,
    attempts: 1,
    submittedAt: at,
    decidedAt: at,
    decidedBy: null,
    note: null,
    verification: null,
    deviceId: randomUUID(),
    userAgent: USER_AGENT,
  };
  return { kind: 'insert', orgId, input, audit: { actorId: studentId, action: 'checkin.submit', reason: null, ip: input.ip } };
}

async function seed(store: SqliteStore) {
  const seeded = await seedCheckinSessions(store, { sessions: SESSIONS + HISTORY_SESSIONS, students: PRELOAD + BATCHES * BATCH });
  const history = seeded.sessions.slice(SESSIONS);
  return { ...seeded, sessions: seeded.sessions.slice(0, SESSIONS), history: history.length > 0 ? history : seeded.sessions, next: 0 };
}

async function run(): Promise<{
  cpuMs: number;
  wallMs: number;
  walPages: number;
  byStatement: Map<string, bigint>;
  byBtree: Map<string, number> | null;
}> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-record-writer-'));
  const file = path.join(dir, 'store.db');
  const store = await createSqliteStore({ path: file, writerWorker: false });
  let seeded: Awaited<ReturnType<typeof seed>>;
  try {
    seeded = await seed(store);
    for (let done = 0; done < PRELOAD; done += 500)
      await store.records.writeBatch(batchOf(seeded, Math.min(500, PRELOAD - done), seeded.history));
  } finally {
    await store.close();
  }
  // The timed writes on a connection of their own, as the writer thread's (migrate: false), with
  // no checkpoint at all: the process's CPU is this thread's, and the WAL's growth counts the
  // pages the commits wrote.
  const db = new SqliteDb(file, { migrate: false });
  try {
    for (const index of DROP) db.raw.exec(`DROP INDEX ${index}`);
    if (PAGE_SIZE) {
      // A WAL file keeps its page size: rebuilt in rollback mode at the new size, then back to WAL.
      db.raw.pragma('journal_mode = DELETE');
      db.raw.pragma(`page_size = ${PAGE_SIZE}`);
      db.raw.exec('VACUUM');
      db.raw.pragma('journal_mode = WAL');
    }
    db.raw.pragma('wal_autocheckpoint = 0');
    for (const p of PRAGMAS) db.raw.pragma(p);
    db.raw.pragma('wal_checkpoint(TRUNCATE)');
    const pageSize = db.raw.pragma('page_size', { simple: true }) as number;
    let at = new Date();
    const records = recordRepository(db, () => at);
    // Built before the clock starts: the rows' JSON and the binding are the writer's, the inputs are not.
    const batches = Array.from({ length: BATCHES }, () => batchOf(seeded, BATCH));
    statementNs.clear();
    skippingAuditInserts = SKIP_AUDIT_INSERT;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (const b of batches) {
      at = new Date();
      await records.writeBatch(b);
    }
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    skippingAuditInserts = false;
    const walPages = statSync(`${file}-wal`).size / (pageSize + 24);
    const byBtree = args['by-btree'] ? walFramesByBtree(file, db.raw) : null;
    return { cpuMs: (cpu.user + cpu.system) / 1000, wallMs, walPages, byStatement: new Map(statementNs), byBtree };
  } finally {
    db.raw.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function batchOf(seeded: Awaited<ReturnType<typeof seed>>, n: number, sessions = seeded.sessions): RecordWrite[] {
  const { orgId, subjectId, students } = seeded;
  const at = new Date();
  return Array.from({ length: n }, (_, i) => checkin(orgId, sessions[i % sessions.length]!, subjectId, students[seeded.next++]!, at));
}

const checkins = BATCHES * BATCH;
console.log(
  `batches ${BATCHES} of ${BATCH}, sessions ${SESSIONS}, preload ${PRELOAD}${DROP.length ? `, dropped ${DROP.join(', ')}` : ''}${PRAGMAS.length ? `, ${PRAGMAS.join(', ')}` : ''}${PAGE_SIZE ? `, page size ${PAGE_SIZE}` : ''}${SKIP_AUDIT_INSERT ? ', audit insert skipped' : ''}, load average ${loadavg()[0]!.toFixed(1)}`,
);
for (let r = 0; r < RUNS; r += 1) {
  const { cpuMs, wallMs, walPages, byStatement, byBtree } = await run();
  console.log(
    `run ${r + 1}: CPU per check-in ${((cpuMs * 1000) / checkins).toFixed(1)} µs, wall ${((wallMs * 1000) / checkins).toFixed(1)} µs, WAL pages ${(walPages / checkins).toFixed(2)} per check-in`,
  );
  if (byStatement.size > 0) {
    const total = [...byStatement.values()].reduce((a, b) => a + b, 0n);
    for (const [sql, ns] of [...byStatement].sort((a, b) => Number(b[1] - a[1]))) {
      console.log(`  ${(Number(ns) / 1000 / checkins).toFixed(2).padStart(7)} µs  ${sql}`);
    }
    console.log(
      `  ${(Number(total) / 1000 / checkins).toFixed(2).padStart(7)} µs  all statements (the rest of the wall time: the commit, rows, bindings)`,
    );
  }
  if (byBtree) {
    for (const [name, frames] of [...byBtree].sort((a, b) => b[1] - a[1])) {
      console.log(`  ${(frames / checkins).toFixed(3).padStart(7)} pages  ${name}`);
    }
  }
}

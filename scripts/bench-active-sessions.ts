/**
 * Benchmark of a student's live list on SQLite (not a test): sessions.listActiveForSubjects, which
 * every student's session list and every reconnect runs, late in the year, when each of the
 * student's subjects has a year of closed sessions and one or two open or scheduled ones. With
 * --without-index the file drops sessions_org_subject_active (migration 44) first, so the query
 * takes the plan it had before (sessions_org_subject); run both, alternated (docs/multi-node.md, "Load").
 *
 *   node --import tsx scripts/bench-active-sessions.ts [--without-index] [--subjects 8] [--closed 150] [--calls 5000]
 *
 * Prints one JSON line: the plan, the CPU microseconds per call (the process's user + system)
 * through the store and of the statement alone, the sessions each call returns, and the one-minute load beside it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { SUBJECT_ACTIVE_SESSIONS } from '../src/store/sqlite/attendance.js';

const { values: args } = parseArgs({
  options: {
    'without-index': { type: 'boolean', default: false },
    subjects: { type: 'string', default: '8' },
    closed: { type: 'string', default: '150' },
    calls: { type: 'string', default: '5000' },
  },
});
const subjects = Number(args.subjects);
const closed = Number(args.closed);
const calls = Number(args.calls);

const dir = mkdtempSync(path.join(tmpdir(), 'bench-active-sessions-'));
const store = await createSqliteStore({ path: path.join(dir, 'store.db') });
try {
  const raw = store.connection();
  if (args['without-index']) raw.exec('DROP INDEX sessions_org_subject_active');
  const insert = raw.prepare(
    `INSERT INTO sessions (id, org_id, subject_id, teacher_id, status, policy, starts_at, late_after, closes_at, code_secret, day,
       created_at, updated_at) VALUES (?, 'o1', ?, 't1', ?, '{}', ?, ?, ?, 'k', '2026-03-04', 0, 0)`,
  );
  const day = 86_400_000;
  const subjectIds = Array.from({ length: subjects }, (_, i) => `sub-${i}`);
  raw.transaction(() => {
    for (const [i, subject] of subjectIds.entries()) {
      for (let n = 0; n < closed; n++) insert.run(`${subject}-c${n}`, subject, 'closed', n * day, n * day, n * day + 3_600_000);
      // One scheduled for each, and an open one for every other subject.
      insert.run(`${subject}-next`, subject, 'scheduled', (closed + 1) * day, (closed + 1) * day, (closed + 1) * day + 3_600_000);
      if (i % 2 === 0) insert.run(`${subject}-now`, subject, 'open', closed * day, closed * day, closed * day + 3_600_000);
    }
  })();
  const plan = (raw.prepare(`EXPLAIN QUERY PLAN ${SUBJECT_ACTIVE_SESSIONS}`).all('o1', '[]') as { detail: string }[])
    .map((r) => r.detail)
    .join(' | ');
  // Warm the statement cache and the pages before measuring.
  let returned = 0;
  for (let i = 0; i < 200; i++) returned = (await store.sessions.listActiveForSubjects('o1', subjectIds)).length;
  const cpu = process.cpuUsage();
  const wall = performance.now();
  for (let i = 0; i < calls; i++) await store.sessions.listActiveForSubjects('o1', subjectIds);
  const used = process.cpuUsage(cpu);
  const wallUs = (performance.now() - wall) * 1000;
  // The statement alone, without the store's mapping of rows: what the index changes.
  const stmt = raw.prepare(SUBJECT_ACTIVE_SESSIONS);
  const ids = JSON.stringify(subjectIds);
  const sqlCpu = process.cpuUsage();
  for (let i = 0; i < calls; i++) stmt.all('o1', ids);
  const sqlUsed = process.cpuUsage(sqlCpu);
  console.log(
    JSON.stringify({
      index: args['without-index'] ? 'without' : 'sessions_org_subject_active',
      plan,
      sessions: subjects * (closed + 1) + Math.ceil(subjects / 2),
      returned,
      calls,
      cpuUsPerCall: Math.round(((used.user + used.system) / calls) * 10) / 10,
      wallUsPerCall: Math.round(wallUs / calls),
      statementCpuUsPerCall: Math.round(((sqlUsed.user + sqlUsed.system) / calls) * 10) / 10,
      load1: Math.round(loadavg()[0]! * 100) / 100,
    }),
  );
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}

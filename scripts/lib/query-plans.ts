/**
 * Query plan census (a tool, not a test): preloaded into a process that uses the SQLite store,
 * it records the plan SQLite chose for every distinct statement run on the tables named in
 * QUERY_PLANS_TABLES (default `records,audit`), with the arguments of its first run, and writes
 * them as JSON to QUERY_PLANS_OUT at exit. `scripts/query-plan-census.ts` turns one or more such
 * files into the list of each index with the queries that search it: which indexes a write pays
 * for that no read uses (docs/multi-node.md, "Load").
 *
 *   QUERY_PLANS_OUT=/tmp/plans.json npx mocha --node-option import=tsx --node-option import=./scripts/lib/query-plans.ts test/contract/sqlite.test.ts
 *
 * Preloaded through mocha's --node-option, it reaches the process that runs the tests (and its
 * worker threads, which inherit its flags) and nothing else. Through NODE_OPTIONS it reached every
 * node process on the way, npx, npm and mocha's launcher too, and the test process got tsx
 * registered twice (NODE_OPTIONS and .mocharc's node-option): that process hung at start, its main
 * thread waiting on the module hooks' thread, without a line printed
 * (test/unit/scripts/query-plans-command.test.ts runs this line).
 */
import { writeFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import Database from 'better-sqlite3';

const out = process.env['QUERY_PLANS_OUT'];
const tables = (process.env['QUERY_PLANS_TABLES'] ?? 'records,audit').split(',');
const mentions = new RegExp(`\\b(${tables.join('|')})\\b`, 'i');

/** SQL text (whitespace folded) to the plan's lines, in the order SQLite printed them. */
const plans = new Map<string, string[]>();

if (out) {
  const probe = new Database(':memory:');
  const statementProto = Object.getPrototypeOf(probe.prepare('SELECT 1')) as Record<string, unknown>;
  probe.close();
  for (const method of ['run', 'get', 'all', 'iterate'] as const) {
    const original = statementProto[method] as (this: Database.Statement, ...a: unknown[]) => unknown;
    statementProto[method] = function (this: Database.Statement, ...args: unknown[]) {
      note(this, args);
      return original.apply(this, args);
    };
  }
  // A process that ran none (mocha's launcher, whose child runs the tests) leaves the file to it.
  process.on('exit', () => {
    if (plans.size === 0) return;
    const file = threadId === 0 ? out : out.replace(/(\.json)?$/, `-thread${threadId}.json`);
    writeFileSync(file, JSON.stringify(Object.fromEntries(plans), null, 1));
  });
}

function note(stmt: Database.Statement, args: unknown[]): void {
  const sql = stmt.source.replace(/\s+/g, ' ').trim();
  if (plans.has(sql) || /^(EXPLAIN|PRAGMA|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b/i.test(sql) || !mentions.test(sql)) return;
  try {
    const rows = stmt.database.prepare(`EXPLAIN QUERY PLAN ${stmt.source}`).all(...args) as { detail: string }[];
    plans.set(
      sql,
      rows.map((r) => r.detail),
    );
  } catch (err) {
    // A statement whose plan cannot be read with these arguments is listed with why, not dropped.
    plans.set(sql, [`(no plan: ${(err as Error).message})`]);
  }
}

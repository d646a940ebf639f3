/**
 * The demo seed with history benchmark (not a test): how long `seedDemo(..., { history: true })`
 * takes on a new in-memory SQLite store (a term of closed sessions, their records and summaries).
 * It was a 5 s bound inside test/unit/seed-history.test.ts, which a loaded machine could break.
 *
 *   node --import tsx scripts/bench-seed-history.ts [--runs 5]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { BcryptPasswordHasher } from '../src/adapters/bcrypt-password-hasher.js';
import { seedDemo } from '../src/domain/seed.js';
import { createSqliteStore } from '../src/store/sqlite/sqlite-store.js';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const NOW = new Date('2026-12-03T12:00:00Z');
const TARGET_MS = 5_000;

const times: number[] = [];
for (let i = 0; i < Number(args.runs); i++) {
  const store = await createSqliteStore({ path: ':memory:' });
  const t0 = performance.now();
  // bcrypt at its lowest cost: the benchmark is the seed's writes, not its password hashes.
  await seedDemo(store, { passwords: new BcryptPasswordHasher(4), history: true, now: NOW });
  times.push(performance.now() - t0);
  await store.close();
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)]!;
console.log(
  `seed with history: median ${median.toFixed(0)} ms, min ${times[0]!.toFixed(0)}, max ${times.at(-1)!.toFixed(0)} (target < ${TARGET_MS} ms); load ${loadavg()[0]!.toFixed(1)}`,
);

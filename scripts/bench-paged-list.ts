/**
 * Paged-list benchmark (not a test): what a page of a listing costs when it is shorter than its
 * limit (its total told by the page, no count) and when it is full (read, then counted), through
 * the store (the audit trail: 500 entries, 5 of them about one user). On MongoDB it also times the
 * two ways a full page could be read and counted with the driver: one after the other, as the
 * store does, and both at once (FerretDB 1.24 has no `$facet` to do it in one aggregation).
 *
 *   node --import tsx scripts/bench-paged-list.ts [--store sqlite|mongo] [--calls 300] [--runs 2]
 *
 * sqlite: a new file store. mongo: MONGODB_URI (a FerretDB or MongoDB server; a database of its
 * own is made and dropped).
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import mongoose from 'mongoose';
import type { AuditFilter } from '../src/domain/ports/audit.js';
import { openBenchStore } from './lib/bench-store.js';
import { microsPerCall } from './lib/per-call.js';

const { values: args } = parseArgs({
  options: {
    store: { type: 'string', default: 'sqlite' },
    calls: { type: 'string', default: '300' },
    runs: { type: 'string', default: '2' },
  },
});
const CALLS = Number(args.calls);
const RUNS = Number(args.runs);
const ENTRIES = 500;
const LIMIT = 50;

const perCall = (fn: () => Promise<unknown>) => microsPerCall(CALLS, fn);

async function main(): Promise<void> {
  const opened = await openBenchStore(String(args.store), 'bench-paged', { serverSelectionTimeoutMs: 5_000, socketTimeoutMs: 120_000 });
  try {
    const s = opened.store;
    const org = await s.organisations.create({ name: 'Bench', slug: `bench-${randomBytes(3).toString('hex')}`, timezone: 'UTC' });
    const at = Date.now();
    await s.audit.appendMany(
      Array.from({ length: ENTRIES }, (_, i) => ({
        orgId: org.id,
        entityType: 'user' as const,
        entityId: i < 5 ? 'u-short' : `u-${i}`,
        sessionId: null,
        actorId: 'admin',
        action: 'user.update' as const,
        from: null,
        to: { name: `User ${i}` },
        reason: null,
        ip: null,
        at: new Date(at + i),
      })),
    );
    const short: AuditFilter = { limit: LIMIT, offset: 0, entityType: 'user', entityId: 'u-short' };
    const full: AuditFilter = { limit: LIMIT, offset: 0 };
    const conn = opened.mongoUri ? await mongoose.createConnection(opened.mongoUri, { serverSelectionTimeoutMS: 5_000 }).asPromise() : null;
    try {
      const name = conn ? (await conn.db!.listCollections().toArray()).map((c) => c.name).find((n) => /audit/i.test(n)) : undefined;
      const audit = conn && name ? conn.db!.collection(name) : null;
      const find = () => audit!.find({ orgId: org.id }).sort({ at: 1, seq: 1 }).limit(LIMIT).toArray();
      const count = () => audit!.countDocuments({ orgId: org.id });
      for (let run = 1; run <= RUNS; run += 1) {
        const row: Record<string, string> = {
          store: String(args.store),
          run: String(run),
          'short page µs': (await perCall(() => s.reports.audit(org.id, short))).toFixed(0),
          'full page µs': (await perCall(() => s.reports.audit(org.id, full))).toFixed(0),
        };
        if (audit) {
          row['driver: read then count µs'] = (await perCall(async () => [await find(), await count()])).toFixed(0);
          row['driver: both at once µs'] = (await perCall(() => Promise.all([find(), count()]))).toFixed(0);
          row['driver: read alone µs'] = (await perCall(find)).toFixed(0);
        }
        row['load'] = loadavg()
          .map((l) => l.toFixed(1))
          .join(' ');
        console.log(JSON.stringify(row));
      }
    } finally {
      await conn?.close();
    }
  } finally {
    await opened.cleanup();
  }
}

await main();

/**
 * The store of one benchmark run (scripts/bench-bulk.ts, bench-erasure.ts, bench-paged-list.ts,
 * bench-student-history.ts),
 * and the database server's CPU time, which the machine's load inflates less than the wall time.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mongoose from 'mongoose';
import type { Store } from '../../src/domain/ports/store.js';
import { createMongoStore } from '../../src/store/mongo/mongo-store.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';

export interface BenchStore {
  store: Store;
  /** mongo: the run's database. */
  mongoUri: string | null;
  /** Closes the store and removes its file or drops its database. */
  cleanup(): Promise<void>;
}

/**
 * A store of the run's own: `kind` sqlite, a new file in a temporary folder (the record writer
 * thread as deployed); mongo, a new database `<name>_<random>` on MONGODB_URI's server (a
 * FerretDB or MongoDB), with `mongo`'s timeouts and extra URI parameters.
 */
export async function openBenchStore(
  kind: string,
  name: string,
  mongo: { serverSelectionTimeoutMs: number; socketTimeoutMs: number; params?: Record<string, string> },
): Promise<BenchStore> {
  if (kind === 'mongo') {
    const base = process.env['MONGODB_URI'];
    if (!base) throw new Error('--store mongo needs MONGODB_URI (a FerretDB or MongoDB server)');
    const u = new URL(base);
    u.pathname = `/${name.replace(/-/g, '_')}_${randomBytes(4).toString('hex')}`;
    for (const [k, v] of Object.entries(mongo.params ?? {})) u.searchParams.set(k, v);
    const uri = u.toString();
    const { serverSelectionTimeoutMs, socketTimeoutMs } = mongo;
    const store = await createMongoStore({ kind: 'mongo', uri, poolSize: 5, serverSelectionTimeoutMs, socketTimeoutMs });
    return {
      store,
      mongoUri: uri,
      async cleanup() {
        await store.close();
        const conn = await mongoose.createConnection(uri, { serverSelectionTimeoutMS: serverSelectionTimeoutMs }).asPromise();
        await conn.dropDatabase();
        await conn.close();
      },
    };
  }
  const dir = mkdtempSync(path.join(tmpdir(), `${name}-`));
  const store = await createSqliteStore({ path: path.join(dir, 'bench.db') });
  return {
    store,
    mongoUri: null,
    async cleanup() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The CPU time (user + system, ms) of process `pid` (Linux, from /proc), or null without one. */
export function processCpuMs(pid: string | undefined): number | null {
  if (pid === undefined) return null;
  // Fields after the command name: utime and stime are the 12th and 13th, in clock ticks (100/s).
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

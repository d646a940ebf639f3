import { expect } from 'chai';
import { binaryEmbeddings } from '../../src/store/mongo/migrations.js';
import { fromVector, toVector } from '../../src/store/mongo/mapping.js';
import {
  runMigrations,
  type MigrationLedger,
  type MigrationLock,
  type VersionedMigration,
} from '../../src/store/mongo/migration-runner.js';

// The ordering, recording and locking logic of the MongoDB migrations, over an in-memory
// ledger and lock (the same logic runs over MongoDB in test/integration/mongo-migrations.test.ts).

function memoryLedger(): MigrationLedger & { rows: Array<{ version: number; name: string }> } {
  const rows: Array<{ version: number; name: string }> = [];
  return {
    rows,
    async appliedVersions() {
      return new Set(rows.map((r) => r.version));
    },
    async record(version, name) {
      rows.push({ version, name });
    },
  };
}

function memoryLock(): MigrationLock & { holder: { owner: string; until: Date } | null } {
  const lock: MigrationLock & { holder: { owner: string; until: Date } | null } = {
    holder: null,
    async acquire(owner, until, now) {
      if (lock.holder && lock.holder.until >= now && lock.holder.owner !== owner) return false;
      lock.holder = { owner, until };
      return true;
    },
    async release(owner) {
      if (lock.holder?.owner === owner) lock.holder = null;
    },
  };
  return lock;
}

const opts = (owner: string) => ({ owner, lockMs: 60_000, pollMs: 1, waitMs: 5_000 });

function logging(versions: number[], log: string[]): VersionedMigration<null>[] {
  return versions.map((v) => ({ version: v, name: `m${v}`, up: async () => void log.push(`m${v}`) }));
}

describe('mongo migrations: ordering and recording (offline)', () => {
  it('applies the missing migrations in version order and records each', async () => {
    const log: string[] = [];
    const ledger = memoryLedger();
    const lock = memoryLock();
    const applied = await runMigrations(null, logging([3, 1, 2], log), ledger, lock, opts('a'));
    expect(applied).to.deep.equal([1, 2, 3]);
    expect(log).to.deep.equal(['m1', 'm2', 'm3']);
    expect(ledger.rows).to.deep.equal([
      { version: 1, name: 'm1' },
      { version: 2, name: 'm2' },
      { version: 3, name: 'm3' },
    ]);
    expect(lock.holder, 'lock released').to.equal(null);
  });

  it('applies only the versions the ledger lacks, and none the second time', async () => {
    const log: string[] = [];
    const ledger = memoryLedger();
    await ledger.record(1, 'm1', new Date());
    expect(await runMigrations(null, logging([1, 2], log), ledger, memoryLock(), opts('a'))).to.deep.equal([2]);
    expect(await runMigrations(null, logging([1, 2], log), ledger, memoryLock(), opts('a'))).to.deep.equal([]);
    expect(log).to.deep.equal(['m2']);
  });

  it('stops at a failing migration without recording it, and releases the lock', async () => {
    const ledger = memoryLedger();
    const lock = memoryLock();
    const migrations: VersionedMigration<null>[] = [
      { version: 1, name: 'ok', up: async () => {} },
      { version: 2, name: 'boom', up: async () => Promise.reject(new Error('boom')) },
      { version: 3, name: 'later', up: async () => {} },
    ];
    let error: unknown = null;
    await runMigrations(null, migrations, ledger, lock, opts('a')).catch((err: unknown) => (error = err));
    expect((error as Error).message).to.equal('boom');
    expect(ledger.rows.map((r) => r.version)).to.deep.equal([1]);
    expect(lock.holder).to.equal(null);
  });

  it('refuses a version declared twice', async () => {
    let error: unknown = null;
    await runMigrations(null, logging([1, 1], []), memoryLedger(), memoryLock(), opts('a')).catch((err: unknown) => (error = err));
    expect((error as Error).message).to.match(/declared twice/);
  });

  it('a node that finds the lock held waits, then sees the versions applied by the holder', async () => {
    const ledger = memoryLedger();
    const lock = memoryLock();
    await lock.acquire('other', new Date(Date.now() + 60_000), new Date());
    const log: string[] = [];
    const waiting = runMigrations(null, logging([1], log), ledger, lock, opts('a'));
    // The holder finishes while the other polls.
    await ledger.record(1, 'm1', new Date());
    await lock.release('other');
    expect(await waiting).to.deep.equal([]);
    expect(log).to.deep.equal([]);
  });

  it('tells from which version to which this run migrated, and nothing when it applied none', async () => {
    const ledger = memoryLedger();
    await ledger.record(1, 'm1', new Date());
    const heard: unknown[] = [];
    const migrated = (m: { from: number; to: number; versions: number[] }) =>
      void heard.push({ from: m.from, to: m.to, versions: m.versions });
    await runMigrations(null, logging([1, 2, 3], []), ledger, memoryLock(), { ...opts('a'), migrated });
    expect(heard).to.deep.equal([{ from: 1, to: 3, versions: [2, 3] }]);
    await runMigrations(null, logging([1, 2, 3], []), ledger, memoryLock(), { ...opts('a'), migrated });
    expect(heard).to.have.length(1);
  });

  it('takes over the expired lock of a crashed holder', async () => {
    const ledger = memoryLedger();
    const lock = memoryLock();
    await lock.acquire('crashed', new Date(Date.now() - 1), new Date(Date.now() - 60_000));
    expect(await runMigrations(null, logging([1], []), ledger, lock, opts('a'))).to.deep.equal([1]);
  });

  it('gives up after waitMs while another node holds the lock', async () => {
    const lock = memoryLock();
    await lock.acquire('other', new Date(Date.now() + 60_000), new Date());
    let error: unknown = null;
    await runMigrations(null, logging([1], []), memoryLedger(), lock, { ...opts('a'), waitMs: 5 }).catch((err: unknown) => (error = err));
    expect((error as Error).message).to.match(/gave up waiting/);
  });

  it('converts number[] embeddings to float64 bytes and leaves binary ones alone', () => {
    const current = fromVector([0.5, -1]);
    expect(binaryEmbeddings([current])).to.equal(null);
    const converted = binaryEmbeddings([[0.1, 0.2, 0.30000000000000004], current]);
    expect(converted!.map((b) => toVector(b))).to.deep.equal([
      [0.1, 0.2, 0.30000000000000004],
      [0.5, -1],
    ]);
  });
});

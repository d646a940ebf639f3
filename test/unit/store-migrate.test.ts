import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { formatReport, migrateStore, type MigrationProgress } from '../../src/store/migrate.js';
import { seedSchool } from '../support/transfer-seed.js';
import { type Store } from '../../src/domain/ports/store.js';
import { COLLECTIONS, type CollectionEntity, type CollectionName } from '../../src/domain/ports/transfer.js';

// The migration logic of scripts/migrate-to-mongo.ts, run SQLite to SQLite (no MongoDB here):
// both ends speak the same TransferApi, so counts, id preservation and idempotence are the
// adapter-independent part of the migration.

async function dump(store: Store, collection: CollectionName): Promise<unknown[]> {
  const out: CollectionEntity[CollectionName][] = [];
  for await (const batch of store.transfer.export(collection, 3)) out.push(...batch);
  return out;
}

describe('store migration (migrateStore, SQLite to SQLite)', () => {
  let dir: string;
  let source: Store;
  let target: Store;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'attendance-migrate-'));
    source = await createSqliteStore({ path: path.join(dir, 'source.db') });
    target = await createSqliteStore({ path: path.join(dir, 'target.db') });
    await seedSchool(source);
  });

  afterEach(async () => {
    await source.close();
    await target.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('copies every collection with ids and contents kept, in batches', async () => {
    const progress: MigrationProgress[] = [];
    const report = await migrateStore(source, target, { batchSize: 3, onProgress: (p) => progress.push(p) });

    expect(report.ok).to.equal(true);
    expect(report.counts.map((c) => c.collection)).to.deep.equal([...COLLECTIONS]);
    const users = report.counts.find((c) => c.collection === 'users')!;
    expect(users).to.deep.equal({ collection: 'users', source: 9, target: 9 });
    for (const c of report.counts) expect(c.source, c.collection).to.be.greaterThan(0);
    for (const collection of COLLECTIONS) {
      expect(await dump(target, collection), collection).to.deep.equal(await dump(source, collection));
    }
    // 9 users in batches of 3: a start event and three batch events.
    expect(progress.filter((p) => p.collection === 'users').map((p) => p.copied)).to.deep.equal([0, 3, 6, 9]);

    const org = await target.organisations.getBySlug('uni');
    const subjects = await target.subjects.list(org!.id, { limit: 10, offset: 0 });
    expect(await target.subjects.listEnrolled(org!.id, subjects.items[0]!.id)).to.have.length(7);
  });

  it('is idempotent: a second run changes nothing', async () => {
    await migrateStore(source, target, { batchSize: 4 });
    const before = await Promise.all(COLLECTIONS.map((c) => dump(target, c)));
    const again = await migrateStore(source, target, { batchSize: 2 });
    expect(again.ok).to.equal(true);
    expect(await Promise.all(COLLECTIONS.map((c) => dump(target, c)))).to.deep.equal(before);
  });

  it('reports a mismatch when the target holds data the source does not', async () => {
    await target.organisations.create({ name: 'Stray', slug: 'stray', timezone: 'UTC' });
    const report = await migrateStore(source, target);
    expect(report.ok).to.equal(false);
    expect(report.counts.find((c) => c.collection === 'organisations')).to.deep.equal({
      collection: 'organisations',
      source: 2,
      target: 3,
    });
    expect(formatReport(report)).to.match(/^organisations\s+2\s+3\s+MISMATCH$/m);
    expect(formatReport(report)).to.match(/^users\s+9\s+9$/m);
  });

  it('rejects a batch size that is not a positive integer', async () => {
    for (const batchSize of [0, -1, 1.5]) {
      let caught: unknown;
      try {
        await migrateStore(source, target, { batchSize });
      } catch (err) {
        caught = err;
      }
      expect(caught, String(batchSize)).to.be.instanceOf(RangeError);
    }
  });
});

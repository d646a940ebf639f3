import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createMongoStore } from '../../src/store/mongo/mongo-store.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { type Store } from '../../src/domain/ports/store.js';
import { COLLECTIONS } from '../../src/domain/ports/transfer.js';
import { migrateStore } from '../../src/store/migrate.js';
import { testMongoStoreConfig, useMongo } from '../support/ferretdb.js';
import { seedSchool } from '../support/transfer-seed.js';

// scripts/migrate-to-mongo.ts as an operator runs it: a SQLite file into a MongoDB database
// (MONGODB_URI's, else FerretDB), counts printed and checked, then run again without change.

/** Field order of a document is the store's; compare values only. */
function canonical(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return `bytes:${v.toString('hex')}`;
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  return v;
}

/** Every collection's entities, in an order that does not depend on the store. */
async function exportEach(store: Store): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const c of COLLECTIONS) {
    const rows: unknown[] = [];
    for await (const batch of store.transfer.export(c, 100)) rows.push(...batch);
    out[c] = rows.map((r) => JSON.stringify(canonical(r))).sort();
  }
  return out;
}

describe('scripts/migrate-to-mongo.ts against a MongoDB server', function () {
  this.timeout(60_000);
  const server = useMongo();
  let dir = '';
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'attendance-migrate-'));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('copies every collection with equal counts, and a second run changes nothing', async function () {
    const file = path.join(dir, 'attendance.db');
    const source = await createSqliteStore({ path: file });
    await seedSchool(source);
    const expected = new Map<string, number>();
    for (const c of COLLECTIONS) expected.set(c, await source.transfer.count(c));
    const exported = await exportEach(source);
    await source.close();
    for (const [c, n] of expected) expect(n, `seeded ${c}`).to.be.greaterThan(0);
    const dbUri = server.mongo.databaseUri('attendance_migrate');

    const run = () =>
      spawnSync(process.execPath, ['--import', 'tsx', 'scripts/migrate-to-mongo.ts', '--from', file, '--to', dbUri, '--batch-size', '2'], {
        encoding: 'utf8',
        env: { ...process.env, LOG_LEVEL: 'silent' },
      });
    for (const attempt of [1, 2]) {
      const res = run();
      expect(res.status, `run ${attempt}: ${res.stderr}`).to.equal(0);
      expect(res.stdout).not.to.include('MISMATCH');
      for (const [c, n] of expected) expect(res.stdout, c).to.match(new RegExp(`^${c}\\s+${n}\\s+${n}$`, 'm'));
    }

    const target = await createMongoStore(testMongoStoreConfig(dbUri));
    try {
      for (const [c, n] of expected) expect(await target.transfer.count(c as (typeof COLLECTIONS)[number]), c).to.equal(n);
      const org = (await target.organisations.getBySlug('uni'))!;
      const users = await target.users.list(org.id, { limit: 10, offset: 0 });
      expect(users.items.map((u) => u.name)).to.deep.equal([
        'Student 0',
        'Student 1',
        'Student 2',
        'Student 3',
        'Student 4',
        'Student 5',
        'Student 6',
        'Teacher',
      ]);
      const face = (
        await target.faces.getMany(
          org.id,
          users.items.map((u) => u.id),
        )
      )[0]!;
      expect(face.embeddings).to.deep.equal([[0.1, -0.2, 0.3]]);
      expect(face.photos).to.deep.equal([Buffer.from([1, 2, 3])]);
      // Each collection arrives as it left, field by field (documents' bytes included).
      const arrived = await exportEach(target);
      for (const c of COLLECTIONS) expect(arrived[c], c).to.deep.equal(exported[c]);
      const excuses = (await target.excuses.list(org.id, { limit: 1, offset: 0 })).items;
      expect((await target.excuses.getDocument(org.id, excuses[0]!.id))!.bytes).to.deep.equal(Buffer.from('%PDF'));

      // And back: the transfer reads MongoDB as well, into a new SQLite file.
      const back = await createSqliteStore({ path: path.join(dir, 'back.db') });
      try {
        expect((await migrateStore(target, back, { batchSize: 2 })).ok).to.equal(true);
        const returned = await exportEach(back);
        for (const c of COLLECTIONS) expect(returned[c], `back: ${c}`).to.deep.equal(exported[c]);
      } finally {
        await back.close();
      }
    } finally {
      await target.close();
    }
  });
});

import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import mongoose from 'mongoose';
import { createMongoStore, type MongoStoreConfig } from '../../src/store/mongo/mongo-store.js';
import { storeContract, type OpenedStore } from './store-contract.js';

// The shared store contract over a real MongoDB, when MONGODB_URI names one:
//   MONGODB_URI=mongodb://localhost:27017 npx mocha test/contract/mongo.test.ts
// Each opened store gets its own database, dropped in cleanup. Without MONGODB_URI the suite
// is registered as skipped (no MongoDB can run on the CI machine); test/unit/mongo-*.test.ts
// cover the adapter offline.

const uri = process.env.MONGODB_URI;
const runId = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
let opened = 0;

/** The same server, a database of its own: `attendance_contract_<run>_<n>`. */
function databaseUri(base: string, dbName: string): string {
  const u = new URL(base);
  u.pathname = `/${dbName}`;
  return u.toString();
}

function configFor(dbUri: string): MongoStoreConfig {
  return { kind: 'mongo', uri: dbUri, poolSize: 5, serverSelectionTimeoutMs: 5_000, socketTimeoutMs: 30_000 };
}

async function open(): Promise<OpenedStore & { dbUri: string }> {
  const dbUri = databaseUri(uri!, `attendance_contract_${runId}_${++opened}`);
  const store = await createMongoStore(configFor(dbUri));
  return {
    store,
    dbUri,
    cleanup: async () => {
      // The contract may have closed the store already: drop through a connection of our own.
      const admin = mongoose.createConnection(dbUri, { serverSelectionTimeoutMS: 5_000 });
      try {
        await admin.asPromise();
        await admin.dropDatabase();
      } finally {
        await admin.close();
        await store.close();
      }
    },
  };
}

if (uri) {
  storeContract('mongo', open);

  describe('mongo store specifics', function () {
    it('builds every declared index at start', async function () {
      const o = await open();
      try {
        const conn = mongoose.createConnection(o.dbUri);
        try {
          await conn.asPromise();
          const indexes = await conn.db!.collection('records').indexes();
          const record = indexes.find((i) => i.name === 'record');
          expect(record?.unique).to.equal(true);
          expect(indexes.map((i) => i.name)).to.include.members(['org_session', 'org_student_created']);
        } finally {
          await conn.close();
        }
      } finally {
        await o.cleanup();
      }
    });
  });
} else {
  describe('store contract: mongo', function () {
    it('needs a MongoDB server: set MONGODB_URI (e.g. mongodb://localhost:27017) to run it', function () {
      this.skip();
    });
  });
}

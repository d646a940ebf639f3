import { expect } from 'chai';
import mongoose from 'mongoose';
import { createMongoStore, type MongoStoreConfig } from '../../src/store/mongo/mongo-store.js';
import { PEER_MARK_VERSION_OVERLAP } from '../../src/store/mongo/attendance.js';
import { makeOrg, newRecord, newSession, newSubject } from './fixtures.js';
import { useMongo } from '../support/ferretdb.js';
import { storeContract, type OpenedStore } from './store-contract.js';
import { dumpMongoDatabase } from '../support/store-dump.js';

// The shared store contract over a MongoDB wire-protocol server: MONGODB_URI when set (a real
// MongoDB), else FerretDB on SQLite, which scripts/test-setup.sh builds when Go is installed
// (docs/mongodb.md). Without either, the suite is reported as skipped, saying why.
// Each opened store gets its own database, dropped in cleanup.

function configFor(dbUri: string): MongoStoreConfig {
  return { kind: 'mongo', uri: dbUri, poolSize: 5, serverSelectionTimeoutMs: 5_000, socketTimeoutMs: 30_000 };
}

describe('mongo store (MONGODB_URI, else FerretDB)', function () {
  this.timeout(30_000);
  const server = useMongo();

  async function open(now?: () => Date): Promise<OpenedStore & { dbUri: string }> {
    const { mongo } = server;
    const dbUri = mongo.databaseUri('attendance_contract');
    const store = await createMongoStore(configFor(dbUri), {}, now);
    return {
      store,
      dbUri,
      dump: async () => (await dumpMongoDatabase(dbUri)).text,
      cleanup: async () => {
        // The contract may have closed the store already: drop through a connection of our own.
        try {
          await mongo.dropDatabase(dbUri);
        } finally {
          await store.close();
        }
      },
    };
  }

  storeContract('mongo', open);

  describe('mongo store specifics', function () {
    it('listPeerMarksSince reads changes whose roster version is not stamped yet: still 0, or an old one within the overlap', async function () {
      const o = await open();
      try {
        const s = o.store;
        const org = await makeOrg(s);
        const subject = await s.subjects.create(org.id, newSubject());
        const sess = await s.sessions.create(org.id, newSession(subject.id, 't1'));
        const a = (await s.records.insertIfAbsent(org.id, newRecord(sess.id, subject.id, 'a', { deviceId: 'dev-a' }))).record;
        const b = (await s.records.insertIfAbsent(org.id, newRecord(sess.id, subject.id, 'b'))).record;
        const conn = mongoose.createConnection(o.dbUri);
        try {
          await conn.asPromise();
          const records = conn.db!.collection<{ _id: string }>('records');
          // As between a write and its stamp: b just inserted (0), a just updated (its old version).
          await records.updateOne({ _id: b.id }, { $set: { rosterVersion: 0, deviceId: 'dev-b' } });
          await records.updateOne({ _id: a.id }, { $set: { deviceId: 'dev-a2' } });
          const seen = a.rosterVersion + PEER_MARK_VERSION_OVERLAP - 1;
          const read = await s.records.listPeerMarksSince(org.id, sess.id, seen);
          const byId = new Map(read.marks.map((m) => [m.id, m]));
          expect(byId.get(b.id)).to.include({ deviceId: 'dev-b' });
          expect(byId.get(a.id)).to.include({ deviceId: 'dev-a2' });
          expect(read.count).to.equal(2);
          // Beyond the overlap an old version is not read again (the index's age bounds that case).
          const later = await s.records.listPeerMarksSince(org.id, sess.id, a.rosterVersion + PEER_MARK_VERSION_OVERLAP);
          expect(later.marks.map((m) => m.id)).to.deep.equal([b.id]);
        } finally {
          await conn.close();
        }
      } finally {
        await o.cleanup();
      }
    });

    it('builds every declared index at start', async function () {
      const o = await open();
      try {
        const conn = mongoose.createConnection(o.dbUri);
        try {
          await conn.asPromise();
          const indexes = await conn.db!.collection('records').indexes();
          const record = indexes.find((i) => i.name === 'record');
          expect(record?.unique).to.equal(true);
          expect(indexes.map((i) => i.name)).to.include.members(['org_student_created', 'org_session_roster']);
          // A prefix of org_session_roster: dropped by migration 14.
          expect(indexes.map((i) => i.name)).not.to.include('org_session');
          // The organisation's audit trail by time (an admin's audit page without a selector).
          const audit = await conn.db!.collection('audit').indexes();
          expect(audit.find((i) => i.name === 'org_at')?.key).to.deep.equal({ orgId: 1, at: 1, seq: 1 });
          // users.getByStudentNumbers (imports resolving their rows by number).
          const users = await conn.db!.collection('users').indexes();
          expect(users.find((i) => i.name === 'org_student_number')?.key).to.deep.equal({ orgId: 1, studentNumber: 1 });
        } finally {
          await conn.close();
        }
      } finally {
        await o.cleanup();
      }
    });
  });
});

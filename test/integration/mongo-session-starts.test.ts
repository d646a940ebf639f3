import { expect } from 'chai';
import mongoose from 'mongoose';
import type { Store } from '../../src/domain/ports/store.js';
import { createMongoStore, mongoStoreOn } from '../../src/store/mongo/mongo-store.js';
import { makeOrg, newRecord, newSession, newSubject } from '../contract/fixtures.js';
import { testMongoStoreConfig, useMongo } from '../support/ferretdb.js';

// A session's move writes the session, then its records' copy of the start
// (src/store/mongo/session-starts.ts), against a real server (MONGODB_URI, else FerretDB). A
// crash in between is stood for by a failure of the records' update, thrown as the driver is
// called; the next start of the store must finish the move.

describe('mongo session move stopped before its records (MONGODB_URI, else FerretDB)', function () {
  this.timeout(60_000);
  const server = useMongo();
  const day = 24 * 60 * 60_000;
  const at = (ms: number) => new Date(Date.UTC(2025, 2, 10, 8) + ms);

  const stores: Store[] = [];
  let conn: mongoose.Connection | null = null;
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    await conn?.close();
    conn = null;
  });

  /**
   * A store started on the test's database, and `n` scheduled sessions a day apart written through
   * a connection of the test's own (`s`), each with a record of student st1. `order` lists that
   * student's history, latest start first; `restart` starts the store again on the same database;
   * `crashBeforeRecords` throws at the records' `method` until the returned function disarms it.
   */
  const sessionsOfOneStudent = async (n: number) => {
    const dbUri = server.mongo.databaseUri('attendance_moves');
    const restart = async () => {
      const store = await createMongoStore(testMongoStoreConfig(dbUri));
      stores.push(store);
      return store;
    };
    await restart();
    const c = await mongoose.createConnection(dbUri).asPromise();
    conn = c;
    const s = mongoStoreOn(c);
    const org = await makeOrg(s);
    const subject = await s.subjects.create(org.id, newSubject());
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      ids.push((await s.sessions.create(org.id, newSession(subject.id, 't1', { status: 'scheduled', startsAt: at(i * day) }))).id);
    }
    for (const id of ids) await s.records.insertIfAbsent(org.id, newRecord(id, subject.id, 'st1'));
    const order = async (store: Store) =>
      (await store.records.listByStudent(org.id, 'st1', { limit: 10, offset: 0 })).items.map((r) => r.sessionId);
    const crashBeforeRecords = (method: string) => {
      let armed = true;
      c.on('operation-start', (e: { collectionName: string; method: string }) => {
        if (armed && e.collectionName === 'records' && e.method === method) throw new Error('crash before the records');
      });
      return () => (armed = false);
    };
    const marked = () => c.db!.collection('sessions').countDocuments({ startMovePending: { $exists: true } });
    return { s, org, ids, order, restart, crashBeforeRecords, marked };
  };

  it("is finished at the store's next start: the student's history follows the session's new start", async () => {
    const { s, org, ids, order, restart, crashBeforeRecords, marked } = await sessionsOfOneStudent(3);
    const [s0, s1, s2] = ids as [string, string, string];
    expect(await order(s)).to.deep.equal([s2, s1, s0]);

    const disarm = crashBeforeRecords('updateMany');
    let failure: unknown = null;
    await s.sessions.transition(org.id, s0, ['scheduled'], { startsAt: at(10 * day) }).catch((err: unknown) => (failure = err));
    disarm();
    expect(String(failure)).to.include('crash before the records');
    // The session moved, its record did not: the history is out of order until repaired.
    expect((await s.sessions.get(org.id, s0))!.startsAt.getTime()).to.equal(at(10 * day).getTime());
    expect(await order(s)).to.deep.equal([s2, s1, s0]);

    const next = await restart();
    expect(await order(next)).to.deep.equal([s0, s2, s1]);
    // The mark is gone once its records carry the start; a later move is finished at once again.
    expect(await marked()).to.equal(0);
    await next.sessions.transition(org.id, s2, ['scheduled'], { startsAt: at(-day) });
    expect(await order(next)).to.deep.equal([s0, s1, s2]);
  });
  it("finishes at the store's next start an import of a session over one already there, stopped before its records", async () => {
    const { s, org, ids, order, restart, crashBeforeRecords, marked } = await sessionsOfOneStudent(2);
    const [s0, s1] = ids as [string, string];
    expect(await order(s)).to.deep.equal([s1, s0]);

    // A restore writes the first session over the stored one with a later start, and stops
    // before its records' copy of the start.
    const disarm = crashBeforeRecords('bulkWrite');
    const moved = { ...(await s.sessions.get(org.id, s0))!, startsAt: at(5 * day) };
    let failure: unknown = null;
    await s.transfer.import('sessions', [moved]).catch((err: unknown) => (failure = err));
    disarm();
    expect(String(failure)).to.include('crash before the records');
    expect((await s.sessions.get(org.id, s0))!.startsAt.getTime()).to.equal(at(5 * day).getTime());
    expect(await order(s)).to.deep.equal([s1, s0]);

    const next = await restart();
    expect(await order(next)).to.deep.equal([s0, s1]);
    // An import that is not stopped leaves no mark on its sessions.
    await next.transfer.import('sessions', [{ ...moved, startsAt: at(-day) }, (await next.sessions.get(org.id, s1))!]);
    expect(await order(next)).to.deep.equal([s1, s0]);
    expect(await marked()).to.equal(0);
  });
});

import { expect } from 'chai';
import mongoose, { type Connection } from 'mongoose';
import { ActorGoneError } from '../../src/domain/ports/common.js';
import type { Store } from '../../src/domain/ports/store.js';
import {
  AUDIT_SCRUBS_COLLECTION,
  AUDIT_TAKEN_BACK_COLLECTION,
  replaceAuditEntries,
  takeBackAuditEntries,
} from '../../src/store/mongo/audit-scrubs.js';
import type { AuditDoc } from '../../src/store/mongo/audit-schemas.js';
import { createModels, type Models } from '../../src/store/mongo/models.js';
import { createMongoStore, mongoStoreOn } from '../../src/store/mongo/mongo-store.js';
import { makeOrg, newRecord, newSession, newSubject, newUser } from '../contract/fixtures.js';
import { testMongoStoreConfig, useMongo } from '../support/ferretdb.js';

// The MongoDB erasure's record step in bulk (src/store/mongo/erase-records.ts), against a real
// server (MONGODB_URI, else FerretDB): its commands do not grow with the person's records, and a
// session whose roster version moves between the claim's read and its write still hands out each
// version once. What every store does on erasure is the contract's (contract-privacy.ts).

describe('mongo erasure of many records (MONGODB_URI, else FerretDB)', function () {
  this.timeout(60_000);
  const server = useMongo();
  let migrated: Store;
  let conn: Connection;
  let models: Models;
  let commands: string[];

  beforeEach(async () => {
    const dbUri = server.mongo.databaseUri('attendance_erasure');
    // Migrations (indexes) by a store of its own; the tests' store counts its commands.
    migrated = await createMongoStore(testMongoStoreConfig(dbUri));
    conn = mongoose.createConnection(dbUri, { monitorCommands: true });
    await conn.asPromise();
    commands = [];
    conn.getClient().on('commandStarted', (e) => commands.push(e.commandName));
    models = createModels(conn);
  });

  afterEach(async () => {
    await migrated.close();
    await conn.close();
  });

  /** A student with one record in each of `n` sessions, beside a classmate's; the sessions' roster versions differ. */
  async function studentWithRecords(s: Store, n: number) {
    const org = await makeOrg(s);
    const subject = await s.subjects.create(org.id, newSubject());
    const [ada, bo] = await s.users.createMany(org.id, [newUser({ name: 'Ada' }), newUser({ name: 'Bo' })]);
    const sessions = [];
    for (let k = 0; k < n; k++) {
      const session = await s.sessions.create(org.id, newSession(subject.id, 't1'));
      // Bo's record in every other session first: two distinct roster versions before Ada's.
      if (k % 2 === 0) await s.records.insertIfAbsent(org.id, newRecord(session.id, subject.id, bo!.id, { status: 'present' }));
      await s.records.insertIfAbsent(org.id, newRecord(session.id, subject.id, ada!.id, { status: 'present', ip: '203.0.113.7' }));
      sessions.push(session);
    }
    return { org, ada: ada!, sessions };
  }

  /** The audit entry of a check-in on record `entityId` by `actorId`: present, from Ada's address unless told. */
  function checkinEntry(orgId: string, entityId: string, actorId: string, opts: { ip?: string; to?: unknown } = {}) {
    return {
      orgId,
      entityType: 'record' as const,
      entityId,
      sessionId: null,
      actorId,
      action: 'checkin.submit' as const,
      from: null,
      to: opts.to ?? { status: 'present' },
      reason: null,
      ip: opts.ip ?? '203.0.113.7',
      at: new Date(),
    };
  }

  it("sends as many commands for a student's 12 records as for 3", async () => {
    const s = mongoStoreOn(conn, models);
    const sent = async (n: number): Promise<number> => {
      const { org, ada } = await studentWithRecords(s, n);
      commands = [];
      await s.privacy.erase({ orgId: org.id, userId: ada.id, identifiers: [ada.email, ada.name] }, `erased-${n}`);
      return commands.length;
    };
    const few = await sent(3);
    expect(await sent(12)).to.equal(few);
  });

  it("gives a session whose roster version moved between the claim's read and its write the next version once", async () => {
    const plain = mongoStoreOn(conn, models);
    const { org, ada, sessions } = await studentWithRecords(plain, 3);
    const contended = sessions[1]!.id;
    const before = new Map(
      await Promise.all(sessions.map(async (x) => [x.id, (await plain.sessions.get(org.id, x.id))!.rosterVersion] as const)),
    );
    // Another writer's $inc (a check-in's group commit) lands just before the claim's write.
    const sessionsModel = models.sessions;
    const racing = new Proxy(sessionsModel, {
      get(target, prop, receiver) {
        if (prop !== 'bulkWrite') return Reflect.get(target, prop, receiver) as unknown;
        return async (...args: Parameters<typeof sessionsModel.bulkWrite>) => {
          await target.updateOne({ _id: contended }, { $inc: { rosterVersion: 1 } });
          return target.bulkWrite(...args);
        };
      },
    });
    const s = mongoStoreOn(conn, { ...models, sessions: racing });
    await s.privacy.erase({ orgId: org.id, userId: ada.id, identifiers: [ada.email, ada.name] }, 'erased-ada');

    for (const x of sessions) {
      const after = (await s.sessions.get(org.id, x.id))!.rosterVersion;
      // The other writer's version, then the erasure's: one each.
      expect(after, x.id).to.equal(before.get(x.id)! + (x.id === contended ? 2 : 1));
      const erased = (await s.records.listBySession(org.id, x.id)).find((r) => r.studentId === 'erased-ada');
      expect(erased, x.id).to.include({ rosterVersion: after, ip: null });
    }
    // The claims that held were read back by their token; no per-erasure key is left.
    expect(await claimKeysLeft()).to.equal(0);
  });

  /** The roster claim keys left on the sessions (erase-records.ts claimRosterVersions). */
  async function claimKeysLeft(): Promise<number> {
    const docs = await models.sessions.find({}, { rosterClaims: 1 }).lean<Array<{ rosterClaims?: Record<string, number> }>>();
    return docs.reduce((n, d) => n + Object.keys(d.rosterClaims ?? {}).length, 0);
  }

  it('leaves no roster claim on the sessions once erasures of several of their students are done', async () => {
    const s = mongoStoreOn(conn, models);
    const org = await makeOrg(s);
    const subject = await s.subjects.create(org.id, newSubject());
    const students = await s.users.createMany(org.id, [newUser(), newUser(), newUser()]);
    const sessions = [];
    for (let k = 0; k < 3; k++) {
      const session = await s.sessions.create(org.id, newSession(subject.id, 't1'));
      for (const u of students) await s.records.insertIfAbsent(org.id, newRecord(session.id, subject.id, u.id, { status: 'present' }));
      sessions.push(session);
    }
    for (const [n, u] of students.entries()) {
      await s.privacy.erase({ orgId: org.id, userId: u.id, identifiers: [u.email, u.name] }, `erased-${n}`);
    }
    expect(await claimKeysLeft()).to.equal(0);
    // Each erasure still took one version of each session.
    for (const x of sessions) expect((await s.sessions.get(org.id, x.id))!.rosterVersion, x.id).to.equal(2 * students.length);
  });

  it('claims roster versions with one field it leaves for the next claim to overwrite, with no second write of the sessions', async () => {
    const s = mongoStoreOn(conn, models);
    const { org, ada, sessions } = await studentWithRecords(s, 3);
    const updates: unknown[] = [];
    conn.getClient().on('commandStarted', (e) => {
      if (e.commandName === 'update' && (e.command as Record<string, unknown>)['update'] === 'sessions') updates.push(e.command['updates']);
    });
    await s.privacy.erase({ orgId: org.id, userId: ada.id, identifiers: [ada.email, ada.name] }, 'erased-ada');
    // The claim bulk writes rosterClaim; nothing removes it afterwards (a rewrite of each session).
    const sent = JSON.stringify(updates);
    expect(sent).to.include('rosterClaim');
    expect(sent).not.to.match(/\$unset[^}]*rosterClaim/);
    const docs = await models.sessions
      .find({ _id: { $in: sessions.map((x) => x.id) } }, { rosterClaim: 1, rosterVersion: 1 })
      .lean<Array<{ rosterClaim?: { token: string; version: number }; rosterVersion: number }>>();
    for (const d of docs) expect(d.rosterClaim?.version).to.equal(d.rosterVersion);
    expect(new Set(docs.map((d) => d.rosterClaim?.token)).size).to.equal(1);
  });

  it('an erasure stopped between deleting audit entries and inserting their scrubbed copies loses none, and run again ends as one not stopped', async () => {
    const s = mongoStoreOn(conn, models);
    const { org, ada, sessions } = await studentWithRecords(s, 3);
    const theirs = await Promise.all(sessions.map(async (x) => (await s.records.getForStudent(org.id, x.id, ada.id))!));
    const entry = (entityId: string, actorId: string, ip: string, by: string) =>
      checkinEntry(org.id, entityId, actorId, { ip, to: { status: 'present', by } });
    // Her check-ins' entries, and one of another person's record that is not about her.
    await s.audit.appendMany([
      ...theirs.map((r) => entry(r.id, ada.id, '203.0.113.7', ada.name)),
      entry('other-record', 't1', '198.51.100.1', 'Bo'),
    ]);
    // The same database copied before the erasure, erased without a stop: what the result must be.
    const twinUri = server.mongo.databaseUri('attendance_erasure');
    const twin = await createMongoStore(testMongoStoreConfig(twinUri));
    const twinConn = await mongoose.createConnection(twinUri).asPromise();
    try {
      for (const name of ['users', 'records', 'sessions', 'audit', 'organisations', 'subjects', 'enrolments']) {
        const docs = await conn.db!.collection(name).find({}).toArray();
        await twinConn.db!.collection(name).deleteMany({});
        if (docs.length > 0) await twinConn.db!.collection(name).insertMany(docs);
      }
      await twin.privacy.erase({ orgId: org.id, userId: ada.id, identifiers: [ada.email, ada.name] }, 'erased-ada');
      const expected = await twinConn.db!.collection('audit').find({}).sort({ _id: 1 }).toArray();

      // A crash just after the originals are deleted, before the scrubbed copies are inserted.
      let armed = true;
      conn.on('operation-start', (e: { collectionName: string; method: string }) => {
        if (armed && e.collectionName === 'audit' && e.method === 'insertMany') throw new Error('crash before the copies are in');
      });
      const person = { orgId: org.id, userId: ada.id, identifiers: [ada.email, ada.name] };
      let failure: unknown = null;
      await s.privacy.erase(person, 'erased-ada').catch((err: unknown) => (failure = err));
      expect(String(failure)).to.include('crash before the copies are in');
      // Out of the trail for now, and kept in the stage.
      expect(await conn.db!.collection('audit').countDocuments()).to.equal(1);
      expect(await conn.db!.collection(AUDIT_SCRUBS_COLLECTION).countDocuments()).to.equal(3);
      armed = false;

      await s.privacy.erase(person, 'erased-ada');
      expect(await conn.db!.collection('audit').find({}).sort({ _id: 1 }).toArray()).to.deep.equal(expected);
      expect(await conn.db!.collection(AUDIT_SCRUBS_COLLECTION).countDocuments()).to.equal(0);
      expect(expected.map((d) => [d['actorId'], d['ip']])).to.have.deep.members([
        ['erased-ada', null],
        ['erased-ada', null],
        ['erased-ada', null],
        ['t1', '198.51.100.1'],
      ]);
    } finally {
      await twinConn.close();
      await twin.close();
    }
  });

  it("leaves on the stage an entry whose original is still in the trail (another erasure's, before its delete)", async () => {
    const s = mongoStoreOn(conn, models);
    const { org, ada } = await studentWithRecords(s, 1);
    const [kept] = await s.audit.appendMany([
      {
        orgId: org.id,
        entityType: 'subject',
        entityId: 'sub-x',
        sessionId: null,
        actorId: 't1',
        action: 'subject.update',
        from: null,
        to: { name: 'Bo' },
        reason: null,
        ip: null,
        at: new Date(),
      },
    ]);
    const original = await conn.db!.collection('audit').findOne({ _id: kept!.id as never });
    // Another erasure's copy, staged; its delete of the original has not happened yet.
    const staged = { ...original!, to: { name: '[erased]' } };
    await conn.db!.collection(AUDIT_SCRUBS_COLLECTION).insertOne(staged);
    await s.privacy.erase({ orgId: org.id, userId: ada.id, identifiers: [ada.email, ada.name] }, 'erased-ada');
    expect(await conn.db!.collection(AUDIT_SCRUBS_COLLECTION).find({}).toArray()).to.deep.equal([staged]);
    expect(await conn.db!.collection('audit').findOne({ _id: kept!.id as never })).to.deep.equal(original);
  });

  it('does not put back, as its scrubbed copy, an entry taken out of the trail after the erasure read it (a check-in taken back)', async () => {
    const s = mongoStoreOn(conn, models);
    const { org, ada } = await studentWithRecords(s, 1);
    const [gone, kept] = await adaEntries(s, org.id, ada.id, ['taken-back', 'stays']);
    const audit = conn.db!.collection<AuditDoc>('audit');
    // A group commit takes its check-in back (its student found erased after writing) once the
    // erasure has read the trail: its entry goes before the swap.
    await audit.deleteOne({ _id: gone!.id });
    const swapped = await replaceAuditEntries(models, [gone!.id, kept!.id], (d) => ({ ...d, actorId: 'erased-ada', ip: null }));
    expect(swapped).to.equal(1);
    expect(await audit.findOne({ _id: gone!.id }), 'the taken-back entry stays out').to.equal(null);
    expect(await audit.findOne({ _id: kept!.id })).to.include({ actorId: 'erased-ada', ip: null });
    expect(await conn.db!.collection(AUDIT_SCRUBS_COLLECTION).countDocuments()).to.equal(0);
  });

  it("scrubs an entry as it stands at its swap, keeping what another erasure scrubbed of it after this one's read", async () => {
    const plain = mongoStoreOn(conn, models);
    const { org, ada, sessions } = await studentWithRecords(plain, 1);
    const [tom] = await plain.users.createMany(org.id, [newUser({ role: 'teacher', name: 'Tom' })]);
    const record = (await plain.records.getForStudent(org.id, sessions[0]!.id, ada.id))!;
    // Tom marked Ada's record: the entry is about both of them.
    const [both] = await plain.audit.appendMany([
      {
        orgId: org.id,
        entityType: 'record',
        entityId: record.id,
        sessionId: sessions[0]!.id,
        actorId: tom!.id,
        action: 'record.mark',
        from: null,
        to: { status: 'present' },
        reason: null,
        ip: '198.51.100.9',
        at: new Date(),
      },
    ]);
    // Tom's erasure scrubs the entry once Ada's has read the trail and before it swaps the entry.
    const auditModel = models.audit;
    let raced = false;
    const afterRead = (cursor: AsyncIterable<unknown> & { close(): Promise<void> }) => ({
      async *[Symbol.asyncIterator]() {
        yield* cursor;
        if (raced) return;
        raced = true;
        await conn.db!.collection<AuditDoc>('audit').updateOne({ _id: both!.id }, { $set: { actorId: 'erased-tom', ip: null } });
      },
      close: () => cursor.close(),
    });
    const racing = new Proxy(auditModel, {
      get(target, prop, receiver) {
        if (prop !== 'find' || raced) return Reflect.get(target, prop, receiver) as unknown;
        return (...args: Parameters<typeof auditModel.find>) => {
          const q = target.find(...args);
          return { sort: (by: never) => ({ lean: () => ({ cursor: () => afterRead(q.sort(by).lean().cursor()) }) }) };
        };
      },
    });
    const s = mongoStoreOn(conn, { ...models, audit: racing });
    await s.privacy.erase({ orgId: org.id, userId: ada.id, identifiers: [ada.email, ada.name] }, 'erased-ada');

    expect(raced, 'the race was run').to.equal(true);
    expect(await conn.db!.collection<AuditDoc>('audit').findOne({ _id: both!.id })).to.include({ actorId: 'erased-tom', ip: null });
  });

  /** The models with `race` run once just before the erasure's first stage write (between a round's read and its delete). */
  function racingStage(race: () => Promise<void>): { models: Models; ran: () => boolean } {
    let ran = false;
    const db = new Proxy(models.audit.db, {
      get(target, prop, receiver) {
        if (prop !== 'collection') return Reflect.get(target, prop, receiver) as unknown;
        return (name: string) => {
          const c = target.collection(name);
          if (name !== AUDIT_SCRUBS_COLLECTION) return c;
          return new Proxy(c, {
            get(ct, p, r) {
              if (p !== 'bulkWrite' || ran) return Reflect.get(ct, p, r) as unknown;
              return async (...args: Parameters<typeof c.bulkWrite>) => {
                ran = true;
                await race();
                return c.bulkWrite(...args);
              };
            },
          });
        };
      },
    });
    const audit = new Proxy(models.audit, {
      get: (target, prop, receiver) => (prop === 'db' ? db : (Reflect.get(target, prop, receiver) as unknown)),
    });
    return { models: { ...models, audit }, ran: () => ran };
  }

  /** Ada's check-in entries (ip kept), by entity id. */
  async function adaEntries(s: Store, orgId: string, actorId: string, entityIds: string[]) {
    return s.audit.appendMany(entityIds.map((entityId) => checkinEntry(orgId, entityId, actorId)));
  }

  it("does not put back an entry taken back between a round's read and its stage write", async () => {
    const s = mongoStoreOn(conn, models);
    const { org, ada } = await studentWithRecords(s, 1);
    const [gone, kept] = await adaEntries(s, org.id, ada.id, ['taken-back', 'stays']);
    const racing = racingStage(() => takeBackAuditEntries(models, [gone!.id]));
    const swapped = await replaceAuditEntries(racing.models, [gone!.id, kept!.id], (d) => ({ ...d, actorId: 'erased-ada', ip: null }));
    expect(racing.ran(), 'the race was run').to.equal(true);
    const audit = conn.db!.collection<AuditDoc>('audit');
    expect(await audit.findOne({ _id: gone!.id }), 'the taken-back entry stays out').to.equal(null);
    expect(await audit.findOne({ _id: kept!.id })).to.include({ actorId: 'erased-ada', ip: null });
    expect(swapped).to.equal(1);
    expect(await conn.db!.collection(AUDIT_SCRUBS_COLLECTION).countDocuments()).to.equal(0);
  });

  it("keeps a change made between a round's read and its stage write, scrubbing the entry as changed", async () => {
    const s = mongoStoreOn(conn, models);
    const { org } = await studentWithRecords(s, 1);
    const [both] = await adaEntries(s, org.id, 't-tom', ['marked']);
    // Tom's erasure (or the retention's address cut) changes the entry once Ada's round has read it.
    const racing = racingStage(async () => {
      await conn.db!.collection<AuditDoc>('audit').updateOne({ _id: both!.id }, { $set: { actorId: 'erased-tom', ip: null } });
    });
    await replaceAuditEntries(racing.models, [both!.id], (d) => ({ ...d, to: { status: 'present', by: 'erased-ada' } }));
    expect(racing.ran(), 'the race was run').to.equal(true);
    expect(await conn.db!.collection<AuditDoc>('audit').findOne({ _id: both!.id })).to.deep.include({
      actorId: 'erased-tom',
      ip: null,
      to: { status: 'present', by: 'erased-ada' },
    });
    expect(await conn.db!.collection(AUDIT_SCRUBS_COLLECTION).countDocuments()).to.equal(0);
  });

  /** The models with `before` run once before the first call of `method` on the audit collection. */
  function beforeAudit(method: 'deleteMany' | 'insertMany', before: () => Promise<void>, base: Models = models): Models {
    let ran = false;
    const db = new Proxy(base.audit.db, {
      get(target, prop, receiver) {
        if (prop !== 'collection') return Reflect.get(target, prop, receiver) as unknown;
        return (name: string) => {
          const c = target.collection(name);
          if (name !== 'audit') return c;
          return new Proxy(c, {
            get(ct, p, r) {
              const real = Reflect.get(ct, p, r) as unknown;
              if (p !== method || ran) return typeof real === 'function' ? (real as (...a: unknown[]) => unknown).bind(ct) : real;
              return async (...args: unknown[]) => {
                ran = true;
                await before();
                return (real as (...a: unknown[]) => Promise<unknown>).apply(ct, args);
              };
            },
          });
        };
      },
    });
    const audit = new Proxy(base.audit, {
      get: (target, prop, receiver) => (prop === 'db' ? db : (Reflect.get(target, prop, receiver) as unknown)),
    });
    return { ...base, audit };
  }

  it("keeps both scrubs of an entry two erasures swap at once, when one's delete falls between the other's delete and insert", async () => {
    const s = mongoStoreOn(conn, models);
    const { org } = await studentWithRecords(s, 1);
    // Tom marked Ada's record: Tom's erasure scrubs the actor, Ada's the receipt.
    const [both] = await adaEntries(s, org.id, 't-tom', ['marked']);
    let bReady!: () => void;
    const bRead = new Promise<void>((resolve) => (bReady = resolve));
    let aDeleted!: () => void;
    const aGone = new Promise<void>((resolve) => (aDeleted = resolve));
    let bDone: Promise<number> | null = null;
    // Tom's erasure (A) deletes the original once Ada's (B) has read it, and inserts its copy
    // only after B's round is over; B's delete comes after A's, so it finds nothing to delete.
    const a = beforeAudit(
      'insertMany',
      async () => {
        aDeleted();
        await bDone;
      },
      beforeAudit('deleteMany', () => bRead),
    );
    const b = beforeAudit('deleteMany', async () => {
      bReady();
      await aGone;
    });
    const tom = replaceAuditEntries(a, [both!.id], (d) => ({ ...d, actorId: 'erased-tom', ip: null }));
    bDone = replaceAuditEntries(b, [both!.id], (d) => ({ ...d, to: { status: 'present', by: 'erased-ada' } }));
    await Promise.all([tom, bDone]);
    expect(await conn.db!.collection<AuditDoc>('audit').findOne({ _id: both!.id }), 'both erasures scrubbed it').to.deep.include({
      actorId: 'erased-tom',
      ip: null,
      to: { status: 'present', by: 'erased-ada' },
    });
    expect(await conn.db!.collection(AUDIT_SCRUBS_COLLECTION).countDocuments()).to.equal(0);
  });

  it('does not restore, after a stop, the staged copy of an entry taken back since', async () => {
    const s = mongoStoreOn(conn, models);
    const { org, ada } = await studentWithRecords(s, 1);
    const [gone] = await adaEntries(s, org.id, ada.id, ['taken-back']);
    const person = { orgId: org.id, userId: ada.id, identifiers: [ada.email, ada.name] };
    // A stop just after the stage write, before the originals' delete.
    let armed = true;
    conn.on('operation-start', (e: { collectionName: string; method: string }) => {
      if (armed && e.collectionName === 'audit' && e.method === 'deleteMany') throw new Error('stop after staging');
    });
    let failure: unknown = null;
    await s.privacy.erase(person, 'erased-ada').catch((err: unknown) => (failure = err));
    armed = false;
    expect(String(failure)).to.include('stop after staging');
    expect(await conn.db!.collection(AUDIT_SCRUBS_COLLECTION).countDocuments()).to.equal(1);
    // Then its check-in is taken back (a group commit that found Ada erased), and the erasure runs again.
    await takeBackAuditEntries(models, [gone!.id]);
    await s.privacy.erase(person, 'erased-ada');
    expect(await conn.db!.collection<AuditDoc>('audit').findOne({ _id: gone!.id })).to.equal(null);
    expect(await conn.db!.collection(AUDIT_SCRUBS_COLLECTION).countDocuments()).to.equal(0);
  });

  it("marks a group commit's taken-back audit entries before deleting them", async () => {
    const plain = mongoStoreOn(conn, models);
    const org = await makeOrg(plain);
    const subject = await plain.subjects.create(org.id, newSubject());
    const [ada] = await plain.users.createMany(org.id, [newUser()]);
    const session = await plain.sessions.create(org.id, newSession(subject.id, 't1'));
    // Ada is erased after the batch has read her and before it writes: it takes its write back.
    const recordsModel = models.records;
    const racing = new Proxy(recordsModel, {
      get(target, prop, receiver) {
        if (prop !== 'bulkWrite') return Reflect.get(target, prop, receiver) as unknown;
        return async (...args: Parameters<typeof recordsModel.bulkWrite>) => {
          await models.users.deleteMany({ _id: ada!.id });
          return target.bulkWrite(...args);
        };
      },
    });
    const s = mongoStoreOn(conn, { ...models, records: racing });
    await s.records.writeBatch([
      {
        kind: 'insert',
        orgId: org.id,
        input: newRecord(session.id, subject.id, ada!.id, { status: 'present' }),
        audit: { actorId: ada!.id, action: 'checkin.submit', reason: null, ip: '203.0.113.7' },
      },
    ]);
    expect(await conn.db!.collection('audit').countDocuments({ orgId: org.id, actorId: ada!.id })).to.equal(0);
    expect(await conn.db!.collection(AUDIT_TAKEN_BACK_COLLECTION).countDocuments()).to.equal(1);
  });

  it('meets a record the tombstone took in one of the sessions meanwhile as a duplicate key, and goes round again deleting theirs', async () => {
    const plain = mongoStoreOn(conn, models);
    const { org, ada, sessions } = await studentWithRecords(plain, 3);
    const taken = sessions[2]!;
    const theirs = (await plain.records.getForStudent(org.id, taken.id, ada.id))!;
    // The tombstone's record in one session lands between the erasure's read and its write (a
    // close's second pass between two sweeps): the bulk's update of theirs there is a duplicate.
    const recordsModel = models.records;
    let once = true;
    const racing = new Proxy(recordsModel, {
      get(target, prop, receiver) {
        if (prop !== 'bulkWrite' || !once) return Reflect.get(target, prop, receiver) as unknown;
        return async (...args: Parameters<typeof recordsModel.bulkWrite>) => {
          once = false;
          await plain.records.insertIfAbsent(org.id, newRecord(taken.id, taken.subjectId, 'erased-ada', { status: 'absent' }));
          return target.bulkWrite(...args);
        };
      },
    });
    const s = mongoStoreOn(conn, { ...models, records: racing });
    await s.privacy.erase({ orgId: org.id, userId: ada.id, identifiers: [ada.email, ada.name] }, 'erased-ada');

    expect(once, 'the race was run').to.equal(false);
    expect(await s.records.get(org.id, theirs.id)).to.equal(null);
    for (const x of sessions) {
      const records = await s.records.listBySession(org.id, x.id);
      expect(
        records.filter((r) => r.studentId === 'erased-ada'),
        x.id,
      ).to.have.length(1);
      expect(
        records.filter((r) => r.studentId === ada.id),
        x.id,
      ).to.deep.equal([]);
    }
  });

  it('refuses for its maker a mark whose teacher and student were both erased while it was written (read after writing), as when read before', async () => {
    const plain = mongoStoreOn(conn, models);
    const org = await makeOrg(plain);
    const subject = await plain.subjects.create(org.id, newSubject());
    const [teacher, ada] = await plain.users.createMany(org.id, [newUser({ role: 'teacher' }), newUser()]);
    const session = await plain.sessions.create(org.id, newSession(subject.id, teacher!.id));
    // Both accounts go after the batch has read its makers and before it writes (erasures in flight).
    const recordsModel = models.records;
    const racing = new Proxy(recordsModel, {
      get(target, prop, receiver) {
        if (prop !== 'bulkWrite') return Reflect.get(target, prop, receiver) as unknown;
        return async (...args: Parameters<typeof recordsModel.bulkWrite>) => {
          await models.users.deleteMany({ _id: { $in: [teacher!.id, ada!.id] } });
          return target.bulkWrite(...args);
        };
      },
    });
    const s = mongoStoreOn(conn, { ...models, records: racing });
    const [result] = await s.records.writeBatch([
      {
        kind: 'insert',
        orgId: org.id,
        input: newRecord(session.id, subject.id, ada!.id, { status: 'present', decidedAt: new Date(), decidedBy: teacher!.id }),
        audit: { actorId: teacher!.id, action: 'record.mark', reason: null, ip: null },
      },
    ]);
    expect(result && 'error' in result && result.error)
      .to.be.instanceOf(ActorGoneError)
      .and.to.include({ actorId: teacher!.id });
    expect(await s.records.listBySession(org.id, session.id)).to.deep.equal([]);
    expect(await s.audit.listForSession(org.id, session.id)).to.deep.equal([]);
  });
});

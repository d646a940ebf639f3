import { expect } from 'chai';
import mongoose from 'mongoose';
import { createMongoStore, type MongoStoreConfig } from '../../src/store/mongo/mongo-store.js';
import { PEER_MARK_VERSION_OVERLAP } from '../../src/store/mongo/attendance.js';
import type { Store } from '../../src/domain/ports/store.js';
import { makeOrg, newRecord, newSession, newSubject, newUser } from './fixtures.js';
import { createModels, SCHEMAS } from '../../src/store/mongo/models.js';
import { oneRosterRepository } from '../../src/store/mongo/oneroster.js';
import { subjectRepository, userRepository } from '../../src/store/mongo/directory.js';
import { recordRepository } from '../../src/store/mongo/attendance.js';
import { excuseRepository } from '../../src/store/mongo/excuses.js';
import { writeRecordBatch } from '../../src/store/mongo/record-batch.js';
import { retentionRepository } from '../../src/store/mongo/retention.js';
import { privacyRepository } from '../../src/store/mongo/privacy.js';
import { ActorGoneError } from '../../src/domain/ports/common.js';
import { truncateIp } from '../../src/domain/privacy/retention.js';
import { personOf } from '../../src/domain/privacy/erasure-rules.js';
import { useMongo } from '../support/ferretdb.js';
import { skipBecause } from '../support/skip.js';
import { storeContract, type OpenedStore } from './store-contract.js';
import { dumpMongoDatabase } from '../support/store-dump.js';

// The shared store contract over a MongoDB wire-protocol server: MONGODB_URI when set (a real
// MongoDB), else FerretDB on SQLite, which scripts/test-setup.sh builds when Go is installed
// (docs/mongodb.md). Without either, the suite is reported as skipped, saying why.
// Each opened store gets its own database, dropped in cleanup.

/** The commands a connection sends from now on: name, collection and statement count. */
function watchCommands(conn: mongoose.Connection): { command: string; collection: unknown; n: number }[] {
  const ops: { command: string; collection: unknown; n: number }[] = [];
  conn.getClient().on('commandStarted', (e) => {
    const c = e.command as Record<string, unknown>;
    const list = (c['updates'] ?? c['documents'] ?? c['deletes']) as unknown[] | undefined;
    ops.push({ command: e.commandName, collection: c[e.commandName], n: list?.length ?? 1 });
  });
  return ops;
}

/**
 * Count queries by database name, from mongoose's debug hook: it is told every collection call of
 * every connection, with the collection as `this`, before the driver sends it.
 */
const countsByDatabase = new Map<string, number>();
function countCountQueries(this: { conn?: { name?: string } }, _collection: string, method: string): void {
  if (!/^count|Count/.test(method)) return;
  const db = this.conn?.name ?? '';
  countsByDatabase.set(db, (countsByDatabase.get(db) ?? 0) + 1);
}

function configFor(dbUri: string): MongoStoreConfig {
  return { kind: 'mongo', uri: dbUri, poolSize: 5, serverSelectionTimeoutMs: 5_000, socketTimeoutMs: 30_000 };
}

describe('mongo store (MONGODB_URI, else FerretDB)', function () {
  this.timeout(30_000);
  const server = useMongo();
  before(() => mongoose.set('debug', countCountQueries));
  after(() => mongoose.set('debug', false));

  async function open(now?: () => Date): Promise<OpenedStore & { dbUri: string }> {
    const { mongo } = server;
    const dbUri = mongo.databaseUri('attendance_contract');
    const store = await createMongoStore(configFor(dbUri), {}, now);
    const database = new URL(dbUri).pathname.slice(1);
    return {
      store,
      dbUri,
      countQueries: () => countsByDatabase.get(database) ?? 0,
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

  /**
   * Runs `test` on a store opened for it and on a connection of the test's own to the same
   * database (`options` as mongoose takes them), and closes both after it.
   */
  async function withConnection(
    options: mongoose.ConnectOptions,
    test: (o: OpenedStore & { dbUri: string }, conn: mongoose.Connection) => Promise<void>,
  ): Promise<void> {
    const o = await open();
    const conn = mongoose.createConnection(o.dbUri, options);
    try {
      await conn.asPromise();
      await test(o, conn);
    } finally {
      await conn.close();
      await o.cleanup();
    }
  }

  /** An organisation with a subject and a session of it. */
  async function aSession(s: Store) {
    const org = await makeOrg(s);
    const subject = await s.subjects.create(org.id, newSubject());
    const sess = await s.sessions.create(org.id, newSession(subject.id, 't1'));
    return { org, subject, sess };
  }

  describe('mongo store specifics', function () {
    it('listPeerMarksSince reads changes whose roster version is not stamped yet: still 0, or an old one within the overlap', async function () {
      await withConnection({}, async (o, conn) => {
        const s = o.store;
        const { org, subject, sess } = await aSession(s);
        const a = (await s.records.insertIfAbsent(org.id, newRecord(sess.id, subject.id, 'a', { deviceId: 'dev-a' }))).record;
        const b = (await s.records.insertIfAbsent(org.id, newRecord(sess.id, subject.id, 'b'))).record;
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
      });
    });

    it('writeBatch sends its updates as one bulk write between two reads, and stamps their roster versions with one update per session', async function () {
      // A close settling 300 pending check-ins sent a read and a find-and-modify per record, each
      // a scan and a transaction of its own on FerretDB. Counted on the wire, so load does not matter.
      await withConnection({ monitorCommands: true }, async (o, conn) => {
        const s = o.store;
        const { org, subject, sess } = await aSession(s);
        const students = await s.users.createMany(
          org.id,
          Array.from({ length: 40 }, () => newUser({ role: 'student' })),
        );
        const pending = [];
        for (const st of students)
          pending.push((await s.records.insertIfAbsent(org.id, newRecord(sess.id, subject.id, st.id, { status: 'pending' }))).record);
        // Record 3 changed meanwhile: its update, on version 1, is not written.
        await s.records.update(org.id, pending[3]!.id, 1, { note: 'decided by hand' });
        const models = createModels(conn);
        const ops = watchCommands(conn);
        const at = new Date();
        const results = await writeRecordBatch(
          models,
          recordRepository(models, () => at),
          () => at,
          pending.map((r) => ({
            kind: 'update' as const,
            orgId: org.id,
            id: r.id,
            expectedVersion: 1,
            patch: { status: 'absent' as const, reason: 'PENDING_AT_CLOSE' as const, decidedAt: at, decidedBy: null },
            audit: { actorId: null, action: 'close.settle' as const, reason: 'PENDING_AT_CLOSE', ip: null },
          })),
        );
        expect(results[3]).to.deep.include({ written: false });
        expect((results[3] as { record: { note: string } }).record.note).to.equal('decided by hand');
        const written = results.filter((_, k) => k !== 3) as {
          written: true;
          before: { status: string };
          record: { rosterVersion: number; version: number; status: string };
        }[];
        // 40 inserts and the hand change took 1..41; the 39 settled follow in batch order.
        expect(written.map((r) => r.record.rosterVersion)).to.deep.equal(Array.from({ length: 39 }, (_, k) => k + 42));
        expect(
          written.every((r) => r.written && r.record.version === 2 && r.record.status === 'absent' && r.before.status === 'pending'),
        ).to.equal(true);
        const stored = new Map((await s.records.listBySession(org.id, sess.id)).map((r) => [r.id, r]));
        expect(pending.filter((_, k) => k !== 3).map((r) => stored.get(r.id)!.rosterVersion)).to.deep.equal(
          written.map((r) => r.record.rosterVersion),
        );
        expect(stored.get(pending[3]!.id)).to.include({ status: 'pending', version: 2 });
        expect((await s.sessions.get(org.id, sess.id))!.rosterVersion).to.equal(80);
        expect((await s.audit.listForSession(org.id, sess.id)).filter((a) => a.action === 'close.settle')).to.have.length(39);
        const recordCommands = (command: string) => ops.filter((op) => op.command === command && op.collection === 'records');
        expect(recordCommands('findAndModify'), 'find-and-modify of records').to.have.length(0);
        expect(recordCommands('update'), 'update commands').to.have.length(2);
        expect(recordCommands('find'), 'reads of records').to.have.length(2);
      });
    });

    it('writeBatch sends its new records as one insert and stamps their roster versions with one update per session, not one per record', async function () {
      // On FerretDB each update of a record is a scan and a transaction of its own: a 300-student
      // close spent 25 s there (docs/mongodb.md). Counted on the wire, so load does not matter.
      await withConnection({ monitorCommands: true }, async (o, conn) => {
        const s = o.store;
        const { org, subject, sess } = await aSession(s);
        const students = await s.users.createMany(
          org.id,
          Array.from({ length: 60 }, () => newUser({ role: 'student' })),
        );
        await s.records.insertIfAbsent(org.id, newRecord(sess.id, subject.id, students[0]!.id));
        const models = createModels(conn);
        const ops = watchCommands(conn);
        const results = await writeRecordBatch(
          models,
          recordRepository(models, () => new Date()),
          () => new Date(),
          students.map((st) => ({
            kind: 'insert' as const,
            orgId: org.id,
            input: newRecord(sess.id, subject.id, st.id, { status: 'absent' }),
            audit: { actorId: null, action: 'close.absent' as const, reason: 'NO_CHECKIN' as const, ip: null },
          })),
        );
        expect(results[0]).to.deep.include({ written: false });
        const versions = results.slice(1).map((r) => (r as { record: { rosterVersion: number } }).record.rosterVersion);
        expect(versions).to.deep.equal(Array.from({ length: 59 }, (_, k) => k + 2));
        const stored = new Map((await s.records.listBySession(org.id, sess.id)).map((r) => [r.studentId, r.rosterVersion]));
        expect(students.slice(1).map((st) => stored.get(st.id))).to.deep.equal(versions);
        expect((await s.sessions.get(org.id, sess.id))!.rosterVersion).to.equal(60);
        const recordOps = (command: string) =>
          ops.filter((op) => op.command === command && op.collection === 'records').reduce((n, op) => n + op.n, 0);
        expect(recordOps('insert'), 'records inserted').to.equal(60);
        expect(
          ops.filter((op) => op.command === 'insert' && op.collection === 'records'),
          'insert commands',
        ).to.have.length(1);
        expect(recordOps('update'), 'record update statements').to.equal(1);
      });
    });

    it('enrol sends its new enrolments as one insert, not an upsert per student', async function () {
      // An upsert is a scan of the collection and a transaction each on FerretDB: an import's
      // 1,000 students in 20 classes spent 23 of its 29 s there. Counted on the wire.
      await withConnection({ monitorCommands: true }, async (o, conn) => {
        const s = o.store;
        const org = await makeOrg(s);
        const subject = await s.subjects.create(org.id, newSubject());
        const ids = (
          await s.users.createMany(
            org.id,
            Array.from({ length: 60 }, () => newUser()),
          )
        ).map((u) => u.id);
        await s.subjects.enrol(org.id, subject.id, ids.slice(0, 10));
        const models = createModels(conn);
        const ops = watchCommands(conn);
        const enrol = subjectRepository(models, () => new Date()).enrol;
        expect(await enrol(org.id, subject.id, ids)).to.deep.equal({ added: 50, refused: [] });
        expect(await enrol(org.id, subject.id, ids)).to.deep.equal({ added: 0, refused: [] });
        const enrolments = ops.filter((op) => op.collection === 'enrolments');
        expect(
          enrolments.filter((op) => op.command === 'update' || op.command === 'findAndModify'),
          'updates of enrolments',
        ).to.have.length(0);
        expect(
          enrolments.filter((op) => op.command === 'insert').map((op) => op.n),
          'insert commands',
        ).to.deep.equal([50]);
        expect((await s.subjects.listEnrolled(org.id, subject.id)).sort()).to.deep.equal([...ids].sort());
      });
    });

    it('enrolMany reads the students once before its one insert and once after it, for all its subjects, not twice per subject', async function () {
      // Each read of the users by their ids is a scan on FerretDB: an import of 10 classes read
      // them 20 times. Counted on the wire.
      await withConnection({ monitorCommands: true }, async (o, conn) => {
        const s = o.store;
        const org = await makeOrg(s);
        const subjects = [];
        for (let k = 0; k < 4; k++) subjects.push(await s.subjects.create(org.id, newSubject()));
        const ids = (
          await s.users.createMany(
            org.id,
            Array.from({ length: 12 }, () => newUser()),
          )
        ).map((u) => u.id);
        const models = createModels(conn);
        const ops = watchCommands(conn);
        const outcomes = await subjectRepository(models, () => new Date()).enrolMany(org.id, new Map(subjects.map((sub) => [sub.id, ids])));
        expect([...outcomes.values()]).to.deep.equal(subjects.map(() => ({ added: 12, refused: [] })));
        const count = (command: string, collection: string) =>
          ops.filter((op) => op.command === command && op.collection === collection).length;
        expect(count('find', 'users'), 'reads of users').to.equal(2);
        // Before the insert and after it: one deleted or archived meanwhile is taken back out.
        expect(count('find', 'subjects'), 'reads of subjects').to.equal(2);
        expect(count('find', 'enrolments'), 'reads of enrolments').to.equal(1);
        expect(
          ops.filter((op) => op.command === 'insert' && op.collection === 'enrolments').map((op) => op.n),
          'inserts',
        ).to.deep.equal([48]);
      });
    });

    it('enrol takes back its insert of a student deactivated or erased between its check and its insert', async function () {
      // No multi-document transaction: the check is a read before the insert. What another admin
      // does in between is played inside the insert command itself, before it reaches the server.
      await withConnection({}, async (o, conn) => {
        const s = o.store;
        const org = await makeOrg(s);
        const subject = await s.subjects.create(org.id, newSubject());
        const [fine, late, erased] = await s.users.createMany(org.id, [newUser(), newUser(), newUser()]);
        const models = createModels(conn);
        const insert = models.enrolments.bulkWrite.bind(models.enrolments);
        models.enrolments.bulkWrite = (async (...args: Parameters<typeof insert>) => {
          await s.users.update(org.id, late!.id, { active: false });
          await s.privacy.erase(personOf(erased!), 'tomb-late');
          return insert(...args);
        }) as typeof insert;
        const outcome = await subjectRepository(models, () => new Date()).enrol(org.id, subject.id, [fine!.id, late!.id, erased!.id]);
        expect(outcome.added).to.equal(1);
        expect([...outcome.refused].sort()).to.deep.equal([late!.id, erased!.id].sort());
        expect(await s.subjects.listEnrolled(org.id, subject.id)).to.deep.equal([fine!.id]);
      });
    });

    for (const [what, between] of [
      ['deleted', (s: Store, orgId: string, id: string) => s.subjects.delete(orgId, id)],
      ['archived', (s: Store, orgId: string, id: string) => s.subjects.update(orgId, id, { archivedAt: new Date() })],
    ] as const) {
      it(`enrolMany takes back its insert into a subject ${what} between its check and its insert, and its entry with it`, async function () {
        await withConnection({}, async (o, conn) => {
          const s = o.store;
          const org = await makeOrg(s);
          const [kept, raced] = [await s.subjects.create(org.id, newSubject()), await s.subjects.create(org.id, newSubject())];
          const [fine, late] = await s.users.createMany(org.id, [newUser(), newUser()]);
          const models = createModels(conn);
          const insert = models.enrolments.bulkWrite.bind(models.enrolments);
          models.enrolments.bulkWrite = (async (...args: Parameters<typeof insert>) => {
            await between(s, org.id, raced.id);
            await s.users.update(org.id, late!.id, { active: false });
            return insert(...args);
          }) as typeof insert;
          const entry = (id: string, ids: string[]) => ({
            orgId: org.id,
            entityType: 'subject' as const,
            entityId: id,
            sessionId: null,
            actorId: 'admin-1',
            action: 'subject.enrol' as const,
            from: null,
            to: { studentIds: ids },
            reason: null,
            ip: null,
            at: new Date(),
          });
          const ids = [fine!.id, late!.id];
          const outcomes = await subjectRepository(models, () => new Date()).enrolMany(
            org.id,
            new Map([
              [kept.id, ids],
              [raced.id, ids],
            ]),
            entry,
          );
          expect(Object.fromEntries(outcomes)).to.deep.equal({
            [kept.id]: { added: 1, refused: [late!.id] },
            [raced.id]: { added: 0, refused: [], gone: what },
          });
          expect(await s.subjects.listEnrolled(org.id, raced.id)).to.deep.equal([]);
          expect(await s.subjects.listEnrolled(org.id, kept.id)).to.deep.equal([fine!.id]);
          const entries = async (id: string) =>
            (await s.audit.listForEntity(org.id, 'subject', id)).filter((e) => e.action === 'subject.enrol').map((e) => e.to);
          // The intent named both; the entry left names what was written.
          expect(await entries(kept.id)).to.deep.equal([{ studentIds: [fine!.id] }]);
          expect(await entries(raced.id)).to.deep.equal([]);
        });
      });
    }

    it("an enrol landing inside an erasure, after its enrolments' sweep and before the account goes, is swept after it", async function () {
      // The enrol read the student before the erasure deleted the account, and its check after
      // the insert still found them: the erasure's sweep after the account must take it.
      await withConnection({}, async (o, conn) => {
        const s = o.store;
        const org = await makeOrg(s);
        const subject = await s.subjects.create(org.id, newSubject());
        const [ann] = await s.users.createMany(org.id, [newUser()]);
        const models = createModels(conn);
        const users = Object.create(models.users) as typeof models.users;
        const deleteMany = models.users.deleteMany.bind(models.users);
        users.deleteMany = ((...args: Parameters<typeof deleteMany>) => {
          const enrolled = subjectRepository(models, () => new Date()).enrol(org.id, subject.id, [ann!.id]);
          return enrolled.then((outcome) => {
            expect(outcome.added).to.equal(1);
            return deleteMany(...args);
          });
        }) as typeof deleteMany;
        await privacyRepository({ ...models, users }).erase(personOf(ann!), 'tomb-ann');
        expect(await s.subjects.listEnrolled(org.id, subject.id)).to.deep.equal([]);
      });
    });

    /** A pending excuse of a new organisation, the teacher who decides it, and its audit entry. */
    async function anExcuse(s: Store) {
      const org = await makeOrg(s);
      const [teacher] = await s.users.createMany(org.id, [newUser({ role: 'teacher' })]);
      const { excuse } = await s.excuses.create(org.id, {
        studentId: 'st',
        submittedBy: 'st',
        subjectId: null,
        sessionId: null,
        fromDay: '2026-03-02',
        toDay: '2026-03-06',
        category: 'MEDICAL',
        text: 'ill',
      });
      const decision = (by: string) => ({ status: 'approved' as const, decidedBy: by, decidedAt: new Date(), decisionNote: null });
      const entry = (by: string) => ({
        orgId: org.id,
        entityType: 'excuse' as const,
        entityId: excuse.id,
        sessionId: null,
        actorId: by,
        action: 'excuse.approve' as const,
        from: { status: 'pending' },
        to: { status: 'approved' },
        reason: null,
        ip: null,
        at: new Date(),
      });
      return { org, teacher: teacher!, excuse, decision, entry };
    }

    it('an excuse decision writes its audit entry first: a failure there leaves the excuse pending, never decided without its entry', async function () {
      // No transaction: a node dying between the two writes must leave at most an entry over a
      // decision not made (the MongoDB pattern), not a decided excuse with no entry. The failure
      // of the entry's write stands for the crash.
      await withConnection({}, async (o, conn) => {
        const s = o.store;
        const { org, teacher, excuse, decision, entry } = await anExcuse(s);
        const models = createModels(conn);
        const audit = Object.create(models.audit) as typeof models.audit;
        audit.create = (() => Promise.reject(new Error('connection lost'))) as unknown as typeof audit.create;
        const err = await excuseRepository({ ...models, audit }, () => new Date())
          .decide(org.id, excuse.id, decision(teacher.id), entry(teacher.id))
          .then(
            () => null,
            (e: unknown) => e,
          );
        expect(err).to.be.instanceOf(Error).with.property('message', 'connection lost');
        expect(await s.excuses.get(org.id, excuse.id)).to.deep.equal(excuse);
        expect(await s.audit.listForEntity(org.id, 'excuse', excuse.id)).to.deep.equal([]);
      });
    });

    it('an excuse decided by someone else between the read and the write: refused, its entry taken back, the other decision and its entry kept', async function () {
      await withConnection({}, async (o, conn) => {
        const s = o.store;
        const { org, teacher, excuse, decision, entry } = await anExcuse(s);
        const [other] = await s.users.createMany(org.id, [newUser({ role: 'teacher' })]);
        const models = createModels(conn);
        const excuses = Object.create(models.excuses) as typeof models.excuses;
        const updateOne = models.excuses.updateOne.bind(models.excuses);
        let seen: string[] | null = null;
        excuses.updateOne = (async (...args: Parameters<typeof updateOne>) => {
          // The entry is already there when the excuse is written.
          seen = (await s.audit.listForEntity(org.id, 'excuse', excuse.id)).map((a) => a.actorId!);
          await s.excuses.decide(org.id, excuse.id, decision(other!.id), entry(other!.id));
          return updateOne(...args);
        }) as typeof updateOne;
        expect(
          await excuseRepository({ ...models, excuses }, () => new Date()).decide(
            org.id,
            excuse.id,
            decision(teacher.id),
            entry(teacher.id),
          ),
        ).to.equal(null);
        expect(seen).to.deep.equal([teacher.id]);
        expect(await s.excuses.get(org.id, excuse.id)).to.include({ status: 'approved', decidedBy: other!.id });
        expect((await s.audit.listForEntity(org.id, 'excuse', excuse.id)).map((a) => a.actorId)).to.deep.equal([other!.id]);
      });
    });

    it('an excuse whose decider is removed between the write and its check: put back pending, its entry taken back, refused', async function () {
      await withConnection({}, async (o, conn) => {
        const s = o.store;
        const { org, teacher, excuse, decision, entry } = await anExcuse(s);
        const models = createModels(conn);
        const excuses = Object.create(models.excuses) as typeof models.excuses;
        const updateOne = models.excuses.updateOne.bind(models.excuses);
        excuses.updateOne = (async (...args: Parameters<typeof updateOne>) => {
          excuses.updateOne = updateOne;
          const written = await updateOne(...args);
          // The account deleted as an erasure deletes it, after the decision's write.
          await conn.db!.collection<{ _id: string }>('users').deleteOne({ _id: teacher.id });
          return written;
        }) as typeof updateOne;
        const err = await excuseRepository({ ...models, excuses }, () => new Date())
          .decide(org.id, excuse.id, decision(teacher.id), entry(teacher.id))
          .then(
            () => null,
            (e: unknown) => e,
          );
        expect(err).to.be.instanceOf(ActorGoneError);
        expect(await s.excuses.get(org.id, excuse.id)).to.deep.equal(excuse);
        expect(await s.audit.listForEntity(org.id, 'excuse', excuse.id)).to.deep.equal([]);
      });
    });

    it("an import's reads (accounts, links, subjects, enrolments) are each served by a declared index, not a scan", async function () {
      // Without an index MongoDB scans the collection on every read of a school's import.
      await withConnection({ monitorCommands: true }, async (o, conn) => {
        const s = o.store;
        const org = await makeOrg(s);
        const filters: { collection: string; filter: Record<string, unknown> }[] = [];
        conn.getClient().on('commandStarted', (e) => {
          const c = e.command as Record<string, unknown>;
          if (e.commandName === 'find') filters.push({ collection: String(c['find']), filter: c['filter'] as Record<string, unknown> });
        });
        const s2 = createModels(conn);
        const dir = { users: userRepository(s2, () => new Date()), subjects: subjectRepository(s2, () => new Date()) };
        const links = oneRosterRepository(s2, () => new Date());
        await dir.users.getByEmails(org.id, ['a@x.test']);
        await dir.users.getMany(org.id, ['u1']);
        await dir.subjects.getMany(org.id, ['s1']);
        await dir.subjects.getByCodes(org.id, ['C1']);
        await dir.subjects.listEnrolled(org.id, 's1');
        await links.getMany(org.id, 'user', ['u-1']);
        await links.getByEntities(org.id, 'user', ['u1']);
        await links.getByEntities(org.id, 'class', ['s1']);
        expect(filters).to.have.length(8);
        for (const { collection, filter } of filters) {
          const schema = Object.values(SCHEMAS).find((x) => x.get('collection') === collection)!;
          const keys = [['_id'], ...schema.indexes().map(([k]) => Object.keys(k))];
          const fields = Object.keys(filter);
          expect(
            // Every index field in the filter, or the filter's fields the index's first ones.
            keys.some((k) => k.every((f) => fields.includes(f)) || fields.every((f) => k.slice(0, fields.length).includes(f))),
            `${collection} ${JSON.stringify(filter)}`,
          ).to.equal(true);
        }
      });
    });

    it("retention's address cut landing between an erasure's read and write, or two erasures inside the cut's, leaves the erased record's address null", async function () {
      // The cut reads a batch of records, then writes each only where its address is still as read;
      // an erasure clears the address. Each order is forced here by running one inside the other's
      // write, on the same database (as two nodes would).
      await withConnection({}, async (o, conn) => {
        const s = o.store;
        const { org, subject, sess } = await aSession(s);
        const closed = await s.sessions.transition(org.id, sess.id, ['open'], {
          status: 'closed',
          closedAt: new Date(Date.now() - 40 * 86_400_000),
          closedBy: null,
        });
        expect(closed).to.not.equal(null);
        const [ann, bob] = await s.users.createMany(org.id, [newUser(), newUser()]);
        for (const u of [ann!, bob!]) await s.records.insertIfAbsent(org.id, newRecord(sess.id, subject.id, u.id, { ip: '203.0.113.77' }));
        const models = createModels(conn);
        const person = (id: string) => ({ orgId: org.id, userId: id, identifiers: [] });
        const cutoff = new Date(Date.now() - 30 * 86_400_000);

        // Two erasures of Ann at once, after the cut has read the records and before it writes them.
        const cutModels = { ...models, records: Object.create(models.records) as typeof models.records };
        const bulkWrite = models.records.bulkWrite.bind(models.records);
        cutModels.records.bulkWrite = (async (...args: Parameters<typeof bulkWrite>) => {
          await Promise.all([
            privacyRepository(models).erase(person(ann!.id), 'tomb-ann'),
            privacyRepository(models).erase(person(ann!.id), 'tomb-ann'),
          ]);
          return bulkWrite(...args);
        }) as typeof bulkWrite;
        expect(await retentionRepository(cutModels).truncateIps(org.id, cutoff, truncateIp)).to.equal(1);

        // The cut of Bob's record run inside his erasure's write of the records.
        const eraseModels = { ...models, records: Object.create(models.records) as typeof models.records };
        eraseModels.records.bulkWrite = (async (...args: Parameters<typeof bulkWrite>) => {
          await retentionRepository(models).truncateIps(org.id, cutoff, truncateIp);
          return bulkWrite(...args);
        }) as typeof bulkWrite;
        await privacyRepository(eraseModels).erase(person(bob!.id), 'tomb-bob');

        const rows = await s.records.listBySession(org.id, sess.id);
        expect(rows.map((r) => [r.studentId, r.ip]).sort()).to.deep.equal([
          ['tomb-ann', null],
          ['tomb-bob', null],
        ]);
      });
    });

    it("retention's address cut meeting an audit entry out of the trail for an erasure's swap cuts its copy once it is back", async function () {
      // An entry that names an erased student keeps its actor's address; the erasure swaps it for a
      // scrubbed copy (delete, then insert). A cut that reads the trail between the two missed it
      // until its next run, a day later by default: forced here by running the cut inside the insert.
      await withConnection({}, async (o, conn) => {
        const s = o.store;
        const org = await makeOrg(s);
        const [ann] = await s.users.createMany(org.id, [newUser()]);
        const old = new Date(Date.now() - 40 * 86_400_000);
        await s.audit.append({
          orgId: org.id,
          entityType: 'subject',
          entityId: 'subj',
          sessionId: null,
          actorId: 'admin',
          action: 'subject.enrol',
          from: null,
          to: { studentIds: [ann!.id] },
          reason: null,
          ip: '203.0.113.7',
          at: old,
        });
        const models = createModels(conn);
        const auditName = models.audit.collection.collectionName;
        const cut = () => retentionRepository(models).truncateAuditIps(org.id, new Date(Date.now() - 30 * 86_400_000), truncateIp);
        let during: Promise<number> | null = null;
        // The erasure's connection, whose insert into the trail lets the cut read the trail first.
        const db = Object.create(models.audit.db) as typeof models.audit.db;
        db.collection = ((name: string, ...rest: unknown[]) => {
          const c = (models.audit.db.collection as (...a: unknown[]) => ReturnType<typeof models.audit.db.collection>)(name, ...rest);
          if (name !== auditName || during) return c;
          const insertMany = c.insertMany.bind(c);
          return Object.assign(Object.create(c) as typeof c, {
            insertMany: async (...args: Parameters<typeof insertMany>) => {
              during = cut();
              await new Promise((resolve) => setTimeout(resolve, 300));
              return insertMany(...args);
            },
          });
        }) as typeof db.collection;
        const audit = Object.create(models.audit, { db: { value: db } }) as typeof models.audit;
        await privacyRepository({ ...models, audit }).erase({ orgId: org.id, userId: ann!.id, identifiers: [] }, 'tomb-ann');
        expect(during).to.not.equal(null);
        await during;
        const entries = await s.audit.listForEntity(org.id, 'subject', 'subj');
        expect(entries.map((e) => [e.to, e.ip])).to.deep.equal([[{ studentIds: ['tomb-ann'] }, '203.0.113.0/24']]);
      });
    });

    it('a record still holding a batch placeholder below 0 (its stamp not yet written, or never) reads as version 0', async function () {
      await withConnection({}, async (o, conn) => {
        const s = o.store;
        const { org, subject, sess } = await aSession(s);
        const a = (await s.records.insertIfAbsent(org.id, newRecord(sess.id, subject.id, 'a'))).record;
        await conn.db!.collection<{ _id: string }>('records').updateOne({ _id: a.id }, { $set: { rosterVersion: -3 } });
        expect((await s.records.get(org.id, a.id))!.rosterVersion).to.equal(0);
        expect((await s.records.listBySession(org.id, sess.id))[0]!.rosterVersion).to.equal(0);
        const read = await s.records.listPeerMarksSince(org.id, sess.id, 10_000);
        expect(read.marks.map((m) => [m.id, m.rosterVersion])).to.deep.equal([[a.id, 0]]);
      });
    });

    /** The records' find of listQueuedVerifications (filter and sort as sent), and the index it is meant to use. */
    async function queuedVerificationsRead(o: OpenedStore, conn: mongoose.Connection) {
      const s = o.store;
      const { org, subject, sess } = await aSession(s);
      const queued = { state: 'queued' as const, band: null, distance: null, flags: [], reason: null, completedAt: null };
      const submittedAt = new Date(Date.now() - 10 * 60_000);
      const mine = (await s.records.insertIfAbsent(org.id, newRecord(sess.id, subject.id, 'st1', { verification: queued, submittedAt })))
        .record;
      const finds: Record<string, unknown>[] = [];
      conn.getClient().on('commandStarted', (e) => {
        if (e.commandName === 'find' && e.command['find'] === 'records') finds.push(e.command as Record<string, unknown>);
      });
      const range = { submittedBefore: new Date(), sessionsClosingFrom: new Date(Date.now() - 86_400_000) };
      const found = await recordRepository(createModels(conn), () => new Date()).listQueuedVerifications(range, 10);
      expect(found.map((r) => r.id)).to.deep.equal([mine.id]);
      expect(finds, 'reads of records').to.have.length(1);
      const index = (await conn.db!.collection('records').indexes()).find((i) => i.name === 'verification_queued');
      return { find: finds[0]!, index };
    }

    it('listQueuedVerifications reads the records by the index verification_queued (partial where the server has partial indexes)', async function () {
      // It read every record of the recent sessions; the index holds the queued ones only.
      await withConnection({ monitorCommands: true }, async (o, conn) => {
        const { find, index } = await queuedVerificationsRead(o, conn);
        expect(index?.key).to.deep.equal({ status: 1, 'verification.state': 1, submittedAt: 1, _id: 1 });
        // A server without partial indexes (FerretDB 1.x: NotImplemented) has it whole.
        if (index?.partialFilterExpression !== undefined) {
          expect(index.partialFilterExpression).to.deep.equal({ status: 'pending', 'verification.state': 'queued' });
        }
        // The equalities of the index's filter and first keys, then its range and order.
        expect(find['filter']).to.deep.include({ status: 'pending', 'verification.state': 'queued' });
        expect(Object.keys(find['filter'] as object)).to.deep.equal(['status', 'verification.state', 'submittedAt']);
        // The driver sends the sort as a Map (its keys' order kept).
        expect([...(find['sort'] as Map<string, number>)]).to.deep.equal([
          ['submittedAt', 1],
          ['_id', 1],
        ]);
      });
    });

    it("listQueuedVerifications' read of records is an index scan of verification_queued with no sort stage (explain; MongoDB only)", async function () {
      let plan: Record<string, unknown> | undefined;
      await withConnection({ monitorCommands: true }, async (o, conn) => {
        const { find } = await queuedVerificationsRead(o, conn);
        const explained = await conn.db!.command({
          explain: { find: 'records', filter: find['filter'], sort: find['sort'], limit: find['limit'] },
          verbosity: 'queryPlanner',
        });
        plan = (explained['queryPlanner'] as { winningPlan?: Record<string, unknown> } | undefined)?.winningPlan;
      });
      // FerretDB 1.x on SQLite pushes down no filter but `_id` alone: its plan is a scan whatever
      // the indexes, and it names no winning plan.
      if (plan === undefined) skipBecause(this, 'FerretDB 1.x names no winning plan (its SQLite backend reads by no index but _id alone)');
      const text = JSON.stringify(plan);
      expect(text).to.contain('"stage":"IXSCAN"').and.contain('"indexName":"verification_queued"');
      expect(text).not.to.contain('"stage":"SORT"');
      expect(text).not.to.contain('COLLSCAN');
    });

    it('builds every declared index at start', async function () {
      await withConnection({}, async (_o, conn) => {
        const indexes = await conn.db!.collection('records').indexes();
        const record = indexes.find((i) => i.name === 'record');
        expect(record?.unique).to.equal(true);
        expect(indexes.map((i) => i.name)).to.include.members(['org_session_roster', 'org_student_session_start']);
        // A prefix of org_session_roster: dropped by migration 14; of org_student_session_start: by 18.
        expect(indexes.map((i) => i.name)).not.to.include.members(['org_session']);
        expect(indexes.map((i) => i.name)).not.to.include('org_student_created');
        // The organisation's audit trail by time (an admin's audit page without a selector).
        const audit = await conn.db!.collection('audit').indexes();
        expect(audit.find((i) => i.name === 'org_at')?.key).to.deep.equal({ orgId: 1, at: 1, seq: 1 });
        // users.getByStudentNumbers (imports resolving their rows by number).
        const users = await conn.db!.collection('users').indexes();
        expect(users.find((i) => i.name === 'org_student_number')?.key).to.deep.equal({ orgId: 1, studentNumber: 1 });
        // The clash checks' reads of a window (migration 28); org_teacher_status, a prefix, is gone.
        const sessions = await conn.db!.collection('sessions').indexes();
        expect(sessions.find((i) => i.name === 'org_teacher_status_starts')?.key).to.deep.equal({
          orgId: 1,
          teacherId: 1,
          status: 1,
          startsAt: 1,
        });
        expect(sessions.find((i) => i.name === 'org_subject_status_starts')?.key).to.deep.equal({
          orgId: 1,
          subjectId: 1,
          status: 1,
          startsAt: 1,
        });
        expect(sessions.map((i) => i.name)).not.to.include('org_teacher_status');
      });
    });
  });
});

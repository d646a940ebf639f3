import { expect } from 'chai';
import mongoose, { type Connection } from 'mongoose';
import { LeaseLostError, type LeaseFence } from '../../../src/domain/ports/common.js';
import type { AttendanceRecord, RecordWrite } from '../../../src/domain/ports/records.js';
import { toRosterEntry } from '../../../src/domain/sessions/views.js';
import type { SessionView } from '../../../src/shared/events.js';
import { countRoster } from '../../../src/shared/counts.js';
import { RosterFeed } from '../../../src/web/lib/roster.js';
import type { Store } from '../../../src/domain/ports/store.js';
import { createModels, type Models } from '../../../src/store/mongo/models.js';
import { mongoStoreOn } from '../../../src/store/mongo/mongo-store.js';
import { makeOrg, newRecord, newSession, newSubject, newUser } from '../../contract/fixtures.js';
import { useMongo } from '../../support/ferretdb.js';
import { waitFor } from '../../support/sockets.js';

// MongoDB holds no transaction across a fenced write: its leases are renewed before it and read
// again after it. These cases lose a lease in between (another node taking it while the write
// was on its way), the part the contract's renew-before cases do not reach: what was written
// must be taken back and LeaseLostError thrown. Slot locks (a session opened or widened) and a
// close's lease (its record batches, the daily summary, closing -> closed).

const t = (minutes: number) => new Date(Date.UTC(2025, 2, 10, 9) + minutes * 60_000);
const never = new Date(8.64e15);

async function rejected(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => null,
    (e: unknown) => e,
  );
}

/** `models` with `take` run once right before the fence's read-after of its leases (`collection`.`method`). */
function takenDuringWrite(models: Models, collection: 'jobs' | 'sessions', method: string, take: () => Promise<void>): Models {
  let armed = true;
  const proxied = new Proxy(models[collection], {
    get(target, prop, receiver) {
      const original = Reflect.get(target, prop, receiver) as unknown;
      if (prop !== method || !armed || typeof original !== 'function') return original;
      return (...args: unknown[]) => {
        const query = (original as (...a: unknown[]) => { lean?: () => Promise<unknown> }).apply(target, args);
        const run = async <T>(then: () => Promise<T>): Promise<T> => {
          armed = false;
          await take();
          return then();
        };
        // find(...).lean() for the slot locks, countDocuments(...) awaited for the close lease.
        return method === 'find'
          ? { lean: () => run(() => query.lean!()) }
          : { then: (ok: (v: unknown) => unknown, ko: (e: unknown) => unknown) => run(() => Promise.resolve(query)).then(ok, ko) };
      };
    },
  });
  return { ...models, [collection]: proxied } as Models;
}

describe('fenced writes on MongoDB whose lease is taken during the write (MONGODB_URI, else FerretDB)', function () {
  this.timeout(30_000);
  const server = useMongo();
  let conn: Connection | null = null;
  let dbUri = '';
  let models: Models;
  let store: Store;

  beforeEach(async () => {
    dbUri = server.mongo.databaseUri('attendance_fence_undo');
    conn = mongoose.createConnection(dbUri);
    await conn.asPromise();
    models = createModels(conn);
    store = mongoStoreOn(conn, models);
  });
  afterEach(async () => {
    await conn?.close();
    conn = null;
    await server.mongo.dropDatabase(dbUri);
  });

  async function subjectOf() {
    const org = await makeOrg(store);
    return { org, subject: await store.subjects.create(org.id, newSubject()) };
  }

  describe("a session's slot locks", function () {
    const names = ['slots:o:subject:sub', 'slots:o:teacher:tch'];
    const fence: LeaseFence = { names, owner: 'node-a', until: t(40) };
    const nodeBTakesTeacher = async () => {
      expect(await store.jobs.claim(names[1]!, 'node-b', t(60), t(41), never)).to.equal(true);
    };
    beforeEach(async () => {
      for (const name of names) expect(await store.jobs.claim(name, 'node-a', t(10), t(0), never)).to.equal(true);
    });

    it('a created session is deleted again, LeaseLostError', async () => {
      const { org, subject } = await subjectOf();
      const racing = mongoStoreOn(conn!, takenDuringWrite(models, 'jobs', 'find', nodeBTakesTeacher));
      expect(await rejected(racing.sessions.create(org.id, newSession(subject.id, 'tch'), fence))).to.be.instanceOf(LeaseLostError);
      expect((await store.sessions.list(org.id, { subjectId: subject.id, limit: 10, offset: 0 })).items).to.deep.equal([]);
    });

    it("a widened session's fields are put back, LeaseLostError", async () => {
      const { org, subject } = await subjectOf();
      const session = await store.sessions.create(org.id, newSession(subject.id, 'tch'));
      const racing = mongoStoreOn(conn!, takenDuringWrite(models, 'jobs', 'find', nodeBTakesTeacher));
      const err = await rejected(racing.sessions.transition(org.id, session.id, ['open'], { closesAt: t(300), lateAfter: t(200) }, fence));
      expect(err).to.be.instanceOf(LeaseLostError);
      const stored = await store.sessions.get(org.id, session.id);
      expect(stored && { ...stored, updatedAt: null }).to.deep.equal({ ...session, updatedAt: null });
    });

    it("an unstaffed session's cancel is put back, updatedAt too, LeaseLostError", async () => {
      const { org, subject } = await subjectOf();
      // 'tch' is no account of the organisation: it cannot run the session, which is cancelled.
      const session = await store.sessions.create(org.id, newSession(subject.id, 'tch', { status: 'scheduled' }));
      const racing = mongoStoreOn(conn!, takenDuringWrite(models, 'jobs', 'find', nodeBTakesTeacher), () => t(45));
      const err = await rejected(
        racing.sessions.cancelUnstaffed(org.id, session.id, 'tch', { closedAt: t(45), closedBy: 'admin1' }, fence),
      );
      expect(err).to.be.instanceOf(LeaseLostError);
      expect(await store.sessions.get(org.id, session.id)).to.deep.equal(session);
    });

    it("a session written again by the lease's new holder before the put-back keeps that write, LeaseLostError", async () => {
      const { org, subject } = await subjectOf();
      const session = await store.sessions.create(org.id, newSession(subject.id, 'tch'));
      // Distinct clocks: the put-back tells the writes apart by updatedAt alone.
      const nodeB = mongoStoreOn(conn!, models, () => t(50));
      const nodeBTakesAndWidens = async () => {
        await nodeBTakesTeacher();
        expect(await nodeB.sessions.transition(org.id, session.id, ['open'], { closesAt: t(400) })).to.include({ status: 'open' });
      };
      const racing = mongoStoreOn(conn!, takenDuringWrite(models, 'jobs', 'find', nodeBTakesAndWidens), () => t(45));
      const err = await rejected(racing.sessions.transition(org.id, session.id, ['open'], { closesAt: t(300), lateAfter: t(200) }, fence));
      expect(err).to.be.instanceOf(LeaseLostError);
      const stored = await store.sessions.get(org.id, session.id);
      expect(stored).to.deep.include({ closesAt: t(400), lateAfter: t(200), updatedAt: t(50) });
    });
  });

  describe("a close's lease", function () {
    async function closing() {
      const { org, subject } = await subjectOf();
      const session = await store.sessions.create(org.id, newSession(subject.id, 'tch', { status: 'closing' }));
      expect(await store.sessions.acquireLease(org.id, session.id, 'node-a', t(10), t(0))).to.equal(true);
      const fence: LeaseFence = { names: [], owner: 'node-a', until: t(40), session: { orgId: org.id, id: session.id } };
      const racing = mongoStoreOn(
        conn!,
        takenDuringWrite(models, 'sessions', 'countDocuments', async () => {
          expect(await store.sessions.acquireLease(org.id, session.id, 'node-b', t(90), t(41))).to.equal(true);
        }),
      );
      return { org, subject, session, fence, racing };
    }

    it("a record batch's new records and audit entries are deleted again, its updates put back, LeaseLostError", async () => {
      const { org, subject, session, fence, racing } = await closing();
      const [a, b] = await store.users.createMany(org.id, [newUser(), newUser()]);
      const { record: pending } = await store.records.insertIfAbsent(
        org.id,
        newRecord(session.id, subject.id, a!.id, { status: 'pending' }),
      );
      const writes: RecordWrite[] = [
        {
          kind: 'insert',
          orgId: org.id,
          input: newRecord(session.id, subject.id, b!.id, { status: 'absent', reason: 'NO_CHECKIN' }),
          audit: { actorId: null, action: 'close.absent', reason: 'NO_CHECKIN', ip: null },
        },
        {
          kind: 'update',
          orgId: org.id,
          id: pending.id,
          expectedVersion: pending.version,
          patch: { status: 'absent', reason: 'PENDING_AT_CLOSE', flags: ['UNRESOLVED_AT_CLOSE'] },
          audit: { actorId: null, action: 'close.settle', reason: 'PENDING_AT_CLOSE', ip: null },
        },
      ];
      expect(await rejected(racing.records.writeBatch(writes, fence))).to.be.instanceOf(LeaseLostError);
      const records = await store.records.listBySession(org.id, session.id);
      expect(records.map((r) => [r.studentId, r.status, r.reason, r.flags])).to.deep.equal([[a!.id, 'pending', null, []]]);
      expect(await store.audit.listForSession(org.id, session.id)).to.deep.equal([]);
    });

    it('the roster versions of a batch taken back stay used: the next change leaves a gap, on which a screen resyncs (protocol §8)', async () => {
      const { org, subject, session, fence, racing } = await closing();
      const [a, b, c] = await store.users.createMany(org.id, [newUser(), newUser(), newUser()]);
      await store.records.insertIfAbsent(org.id, newRecord(session.id, subject.id, a!.id, { status: 'present' }));
      const students = new Map([a!, b!, c!].map((u) => [u.id, u]));
      const entryOf = (r: AttendanceRecord) => toRosterEntry(students.get(r.studentId)!, r);
      // A screen's feed, by the pages' own rules, reading its snapshots from the store; its gap
      // wait on timers fired by hand.
      let fetches = 0;
      const due: (() => void)[] = [];
      const feed = new RosterFeed({
        fetchSnapshot: async () => {
          fetches += 1;
          const version = (await store.sessions.get(org.id, session.id))!.rosterVersion;
          const entries = (await store.records.listBySession(org.id, session.id)).map(entryOf);
          return { session: { id: session.id } as SessionView, version, entries, counts: countRoster(entries) };
        },
        timers: { set: (fn) => due.push(fn), clear: () => undefined },
      });
      await feed.watch(session.id);
      const absent = (studentId: string): RecordWrite => ({
        kind: 'insert',
        orgId: org.id,
        input: newRecord(session.id, subject.id, studentId, { status: 'absent', reason: 'NO_CHECKIN' }),
        audit: { actorId: null, action: 'close.absent', reason: 'NO_CHECKIN', ip: null },
      });
      // Node A's batch took version 2 and was taken back: it announces nothing.
      expect(await rejected(racing.records.writeBatch([absent(b!.id)], fence))).to.be.instanceOf(LeaseLostError);
      // The close that took over (node B's) writes the absents again, from version 3: 2 is never
      // handed out again, as the counter never goes back (a node's peer reads ask for the changes
      // after the highest version they merged, and a snapshot may have carried 2).
      const fenceB: LeaseFence = { ...fence, owner: 'node-b', until: t(100) };
      const written = await store.records.writeBatch([absent(b!.id), absent(c!.id)], fenceB);
      const updates = written.map((w) => {
        if ('error' in w || !w.written) throw new Error('not written');
        return { version: w.record.rosterVersion, entry: entryOf(w.record) };
      });
      expect(updates.map((u) => u.version)).to.deep.equal([3, 4]);
      feed.updates({ sessionId: session.id, updates });
      expect(fetches).to.equal(1);
      // Version 2 stays missing: the gap wait ends and the screen reads a snapshot again.
      expect(due).to.have.length(1);
      due.shift()!();
      await waitFor(() => fetches === 2, 5_000, 5);
      const shown = () => Object.fromEntries(feed.roster.list().map((e) => [e.studentId, e.status]));
      expect(shown()).to.deep.equal({ [a!.id]: 'present', [b!.id]: 'absent', [c!.id]: 'absent' });
    });

    it('a daily summary is put back as it was, LeaseLostError', async () => {
      const { org, subject, fence, racing } = await closing();
      const counts = { present: 1, late: 0, absent: 1, excused: 0, total: 2, percentage: 50 };
      const before = await store.summaries.upsert({ orgId: org.id, subjectId: subject.id, day: '2025-03-10', ...counts });
      const err = await rejected(
        racing.summaries.upsert({ orgId: org.id, subjectId: subject.id, day: '2025-03-10', ...counts, absent: 2 }, fence),
      );
      expect(err).to.be.instanceOf(LeaseLostError);
      expect(await store.summaries.get(org.id, subject.id, '2025-03-10')).to.deep.equal(before);
    });

    it('a new daily summary is deleted again, LeaseLostError', async () => {
      const { org, subject, fence, racing } = await closing();
      const counts = { present: 1, late: 0, absent: 1, excused: 0, total: 2, percentage: 50 };
      const err = await rejected(racing.summaries.upsert({ orgId: org.id, subjectId: subject.id, day: '2025-03-11', ...counts }, fence));
      expect(err).to.be.instanceOf(LeaseLostError);
      expect(await store.summaries.get(org.id, subject.id, '2025-03-11')).to.equal(null);
    });

    it('closing -> closed is put back to closing, LeaseLostError', async () => {
      const { org, session, fence, racing } = await closing();
      const err = await rejected(racing.sessions.transition(org.id, session.id, ['closing'], { status: 'closed', closedAt: t(42) }, fence));
      expect(err).to.be.instanceOf(LeaseLostError);
      expect(await store.sessions.get(org.id, session.id)).to.deep.include({ status: 'closing', closedAt: null, leaseOwner: 'node-b' });
    });
  });
});

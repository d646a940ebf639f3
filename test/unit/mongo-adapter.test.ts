import { expect } from 'chai';
import mongoose, { type Connection } from 'mongoose';
import { mongoStoreOn } from '../../src/store/mongo/mongo-store.js';
import { connectOptions } from '../../src/store/mongo/mongo-store.js';
import { DEFAULT_RETENTION } from '../../src/domain/ports/organisations.js';
import { type NewRecord } from '../../src/domain/ports/records.js';
import { type Store } from '../../src/domain/ports/store.js';

// The adapter's wiring, observed without a server: over an unconnected connection with
// command buffering off, every repository call reaches the driver's collection method (where
// mongoose reports it as `operation-start`, after casting) and then fails for want of a
// connection. What was sent is exactly what a real server would have received.

interface Call {
  collection: string;
  method: string;
  params: unknown[];
}

const ORG = 'org-A';
const T = new Date('2026-03-02T09:00:00Z');
const SETTINGS = {
  sharedDevice: 'flag' as const,
  retention: DEFAULT_RETENTION,
  riskThreshold: 75,
  sessionMinutes: null,
  lateGraceMinutes: null,
  codePeriodS: null,
  defaultPolicy: {},
};
// Mongoose leaves an empty nested object out; reading it back gives {} again (normaliseSettings).
const STORED_SETTINGS = {
  sessionMinutes: null,
  lateGraceMinutes: null,
  codePeriodS: null,
  sharedDevice: 'flag',
  retention: DEFAULT_RETENTION,
  riskThreshold: 75,
};

const newRecord: NewRecord = {
  sessionId: 'sess-1',
  subjectId: 'sub-1',
  studentId: 'stu-1',
  status: 'pending',
  reason: null,
  flags: ['GEOFENCE_IMPRECISE'],
  distanceM: null,
  location: null,
  ip: null,
  attempts: 0,
  submittedAt: null,
  decidedAt: null,
  decidedBy: null,
  note: null,
  verification: null,
};

describe('mongo adapter commands (offline)', () => {
  let conn: Connection;
  let store: Store;
  const calls: Call[] = [];

  before(() => {
    conn = mongoose.createConnection();
    conn.on('operation-start', (e: { collectionName: string; method: string; params: unknown[] }) => {
      calls.push({ collection: e.collectionName, method: e.method, params: e.params });
    });
    store = mongoStoreOn(conn);
  });

  after(async () => {
    await conn.close();
  });

  /** Runs one store call and returns the driver commands it issued before failing. */
  async function sent(fn: (s: Store) => Promise<unknown>): Promise<Call[]> {
    calls.length = 0;
    let failure: unknown;
    try {
      await fn(store);
    } catch (err) {
      failure = err;
    }
    expect(failure, 'the call should fail for want of a connection').to.be.instanceOf(Error);
    expect((failure as Error).message).to.match(/before initial connection is complete/);
    expect(calls.length, 'a driver command before the failure').to.be.greaterThan(0);
    return [...calls];
  }

  const first = async (fn: (s: Store) => Promise<unknown>): Promise<Call> => (await sent(fn))[0]!;

  /**
   * Runs `fn` with the sessions' `findOne` answered in memory by a session of ORG, so that a call
   * that reads its session's start first (records.insertIfAbsent) goes on to its write offline.
   */
  async function sessionFound<T>(fn: () => Promise<T>): Promise<T> {
    const model = conn.models['Session']!;
    const findOne = Object.getOwnPropertyDescriptor(model, 'findOne');
    Object.defineProperty(model, 'findOne', {
      configurable: true,
      value: () => ({ lean: () => Promise.resolve({ _id: 'sess-1', orgId: ORG, startsAt: T }) }),
    });
    try {
      return await fn();
    } finally {
      if (findOne) Object.defineProperty(model, 'findOne', findOne);
      else delete (model as unknown as Record<string, unknown>)['findOne'];
    }
  }

  const filterOf = (c: Call) => c.params[0] as Record<string, unknown>;

  describe('every organisation-scoped read and write filters on orgId', () => {
    const scoped: [string, (s: Store) => Promise<unknown>, string, string][] = [
      ['users.get', (s) => s.users.get(ORG, 'u1'), 'users', 'findOne'],
      ['users.getMany', (s) => s.users.getMany(ORG, ['u1']), 'users', 'find'],
      ['users.getNames', (s) => s.users.getNames(ORG, ['u1']), 'users', 'find'],
      ['users.getStandings', (s) => s.users.getStandings(ORG, ['u1']), 'users', 'find'],
      ['users.getByEmail', (s) => s.users.getByEmail(ORG, 'A@B.test'), 'users', 'findOne'],
      ['users.list', (s) => s.users.list(ORG, { limit: 5, offset: 0, role: 'student' }), 'users', 'find'],
      ['users.update', (s) => s.users.update(ORG, 'u1', { name: 'N' }), 'users', 'findOneAndUpdate'],
      ['subjects.get', (s) => s.subjects.get(ORG, 'sub-1'), 'subjects', 'findOne'],
      ['subjects.list', (s) => s.subjects.list(ORG, { limit: 5, offset: 0, teacherId: 't1' }), 'subjects', 'find'],
      ['subjects.list by student', (s) => s.subjects.list(ORG, { limit: 5, offset: 0, studentId: 'st' }), 'enrolments', 'find'],
      ['subjects.update', (s) => s.subjects.update(ORG, 'sub-1', { name: 'N' }), 'subjects', 'findOneAndUpdate'],
      ['subjects.delete', (s) => s.subjects.delete(ORG, 'sub-1'), 'subjects', 'deleteOne'],
      ['subjects.enrol (subject check)', (s) => s.subjects.enrol(ORG, 'sub-1', ['st']), 'subjects', 'find'],
      ['subjects.unenrol', (s) => s.subjects.unenrol(ORG, 'sub-1', ['st']), 'enrolments', 'deleteMany'],
      ['subjects.listEnrolled', (s) => s.subjects.listEnrolled(ORG, 'sub-1'), 'enrolments', 'find'],
      ['subjects.isEnrolled', (s) => s.subjects.isEnrolled(ORG, 'sub-1', 'st'), 'enrolments', 'findOne'],
      ['subjects.enrolledAmong', (s) => s.subjects.enrolledAmong(ORG, 'sub-1', ['st']), 'enrolments', 'find'],
      ['subjects.enrolmentsOf', (s) => s.subjects.enrolmentsOf(ORG, ['st']), 'enrolments', 'find'],
      ['sessions.get', (s) => s.sessions.get(ORG, 'sess-1'), 'sessions', 'findOne'],
      ['sessions.list', (s) => s.sessions.list(ORG, { limit: 5, offset: 0 }), 'sessions', 'find'],
      ['sessions.listActiveForSubjects', (s) => s.sessions.listActiveForSubjects(ORG, ['sub-1']), 'sessions', 'find'],
      ['sessions.listActiveForTeacher', (s) => s.sessions.listActiveForTeacher(ORG, 't1'), 'sessions', 'find'],
      [
        'sessions.listActiveForSubjectsDuring',
        (s) => s.sessions.listActiveForSubjectsDuring(ORG, ['sub-1'], { startsAt: T, closesAt: T }),
        'sessions',
        'find',
      ],
      [
        'sessions.listActiveForTeacherDuring',
        (s) => s.sessions.listActiveForTeacherDuring(ORG, 't1', { startsAt: T, closesAt: T }),
        'sessions',
        'find',
      ],
      ['sessions.transition', (s) => s.sessions.transition(ORG, 'sess-1', ['open'], { status: 'closing' }), 'sessions', 'findOneAndUpdate'],
      ['sessions.acquireLease', (s) => s.sessions.acquireLease(ORG, 'sess-1', 'n1', T, T), 'sessions', 'updateOne'],
      ['sessions.renewLease', (s) => s.sessions.renewLease(ORG, 'sess-1', 'n1', T), 'sessions', 'updateOne'],
      ['sessions.releaseLease', (s) => s.sessions.releaseLease(ORG, 'sess-1', 'n1'), 'sessions', 'updateOne'],
      ['records.insertIfAbsent', (s) => sessionFound(() => s.records.insertIfAbsent(ORG, newRecord)), 'records', 'findOneAndUpdate'],
      ['records.get', (s) => s.records.get(ORG, 'r1'), 'records', 'findOne'],
      ['records.getForStudent', (s) => s.records.getForStudent(ORG, 'sess-1', 'st'), 'records', 'findOne'],
      ['records.getForStudents', (s) => s.records.getForStudents(ORG, 'sess-1', ['st']), 'records', 'find'],
      [
        'records.getForSessionStudents',
        (s) => s.records.getForSessionStudents(ORG, [{ sessionId: 'sess-1', studentId: 'st' }]),
        'records',
        'find',
      ],
      ['records.listBySession', (s) => s.records.listBySession(ORG, 'sess-1'), 'records', 'find'],
      ['records.listBySessions', (s) => s.records.listBySessions(ORG, ['sess-1']), 'records', 'find'],
      ['records.listByStudent', (s) => s.records.listByStudent(ORG, 'st', { limit: 5, offset: 0 }), 'records', 'find'],
      ['records.update', (s) => s.records.update(ORG, 'r1', 2, { status: 'present' }), 'records', 'findOneAndUpdate'],
      ['summaries.get', (s) => s.summaries.get(ORG, 'sub-1', '2026-03-02'), 'summaries', 'findOne'],
      ['summaries.list', (s) => s.summaries.list(ORG, 'sub-1', '2026-03-01', '2026-03-31'), 'summaries', 'find'],
      ['audit.listForEntity', (s) => s.audit.listForEntity(ORG, 'record', 'r1'), 'audit', 'find'],
      ['audit.listForSession', (s) => s.audit.listForSession(ORG, 'sess-1'), 'audit', 'find'],
      ['refreshTokens.revokeAllForUser', (s) => s.refreshTokens.revokeAllForUser(ORG, 'u1', T), 'refreshTokens', 'updateMany'],
      ['faces.get', (s) => s.faces.get(ORG, 'u1'), 'faces', 'findOne'],
      ['faces.getMany', (s) => s.faces.getMany(ORG, ['u1']), 'faces', 'find'],
      ['faces.delete', (s) => s.faces.delete(ORG, 'u1'), 'faces', 'deleteOne'],
    ];
    for (const [name, fn, collection, method] of scoped) {
      it(name, async () => {
        const all = await sent(fn);
        expect([all[0]!.collection, all[0]!.method]).to.deep.equal([collection, method]);
        // Paged lists send the page query and its count together: both must be scoped.
        for (const c of all) expect(filterOf(c).orgId, `${c.collection}.${c.method}`).to.equal(ORG);
      });
    }
  });

  it('inserts carry the organisation and a string UUID _id', async () => {
    for (const fn of [
      (s: Store) =>
        s.users.create(ORG, { email: 'A@B.test', name: 'A', role: 'student', studentNumber: null, passwordHash: null, active: true }),
      (s: Store) => s.subjects.create(ORG, { code: 'C', name: 'N', teacherIds: [], location: null, allowedIpRanges: [] }),
    ]) {
      const c = await first(fn);
      expect(c.method).to.equal('insertOne');
      const doc = c.params[0] as Record<string, unknown>;
      expect(doc.orgId).to.equal(ORG);
      expect(doc._id).to.match(/^[0-9a-f-]{36}$/);
    }
  });

  it('system-wide calls are not scoped to an organisation', async () => {
    const cases: [(s: Store) => Promise<unknown>, Record<string, unknown>][] = [
      [(s) => s.users.findByEmailAnyOrg('A@B.test'), { email: 'a@b.test' }],
      [(s) => s.refreshTokens.findByHash('h1'), { tokenHash: 'h1' }],
      [(s) => s.refreshTokens.markRotated('t1', T), { _id: 't1', rotatedAt: null, revokedAt: null }],
      [(s) => s.refreshTokens.revokeFamily('f1', T), { familyId: 'f1', revokedAt: null }],
      [(s) => s.refreshTokens.deleteExpired(T), { expiresAt: { $lt: T } }],
      [(s) => s.organisations.getBySlug('uni'), { slug: 'uni' }],
      [(s) => s.sessions.nextDueAt(), { status: { $in: ['scheduled', 'open', 'closing'] } }],
    ];
    for (const [fn, filter] of cases) expect(filterOf(await first(fn))).to.deep.equal(filter);
  });

  it('records.update is a versioned compare-and-set that increments the version', async () => {
    // An explicit undefined (which exactOptionalPropertyTypes keeps out of typed callers) must not reach $set.
    const patch = { status: 'present', note: undefined } as unknown as Parameters<Store['records']['update']>[3];
    const c = await first((s) => s.records.update(ORG, 'r1', 2, patch));
    expect(c.params[0]).to.deep.equal({ _id: 'r1', orgId: ORG, version: 2 });
    const update = c.params[1] as { $set: Record<string, unknown>; $inc: unknown };
    expect(update.$inc).to.deep.equal({ version: 1 });
    expect(Object.keys(update.$set).sort()).to.deep.equal(['status', 'updatedAt']);
    expect(c.params[2]).to.include({ returnDocument: 'after' });
  });

  it("records.insertIfAbsent first reads its session's start by _id alone (FerretDB's indexed form; the organisation is compared in memory)", async () => {
    const c = await first((s) => s.records.insertIfAbsent(ORG, newRecord));
    expect([c.collection, c.method]).to.deep.equal(['sessions', 'findOne']);
    expect(filterOf(c)).to.deep.equal({ _id: 'sess-1' });
  });

  it('records.insertIfAbsent upserts on the unique key with $setOnInsert only', async () => {
    const c = await first((s) => sessionFound(() => s.records.insertIfAbsent(ORG, newRecord)));
    expect(c.params[0]).to.deep.equal({ orgId: ORG, sessionId: 'sess-1', studentId: 'stu-1' });
    const update = c.params[1] as Record<string, Record<string, unknown>>;
    expect(Object.keys(update)).to.deep.equal(['$setOnInsert']);
    expect(update.$setOnInsert).to.include({ orgId: ORG, sessionId: 'sess-1', studentId: 'stu-1', version: 1 });
    expect(update.$setOnInsert!['sessionStartsAt'], 'the start read before the write').to.deep.equal(T);
    expect(c.params[2]).to.include({ upsert: true, includeResultMetadata: true });
  });

  it('sessions.transition and acquireLease put their preconditions in the filter', async () => {
    const t = await first((s) => s.sessions.transition(ORG, 'sess-1', ['open', 'scheduled'], { status: 'closing' }));
    expect(t.params[0]).to.deep.equal({ _id: 'sess-1', orgId: ORG, status: { $in: ['open', 'scheduled'] } });
    const l = await first((s) => s.sessions.acquireLease(ORG, 'sess-1', 'node-1', new Date(T.getTime() + 30_000), T));
    expect(l.params[0]).to.deep.equal({
      _id: 'sess-1',
      orgId: ORG,
      $or: [{ leaseUntil: null }, { leaseUntil: { $lt: T } }, { leaseOwner: 'node-1' }],
    });
    expect(l.params[1]).to.deep.equal({ $set: { leaseOwner: 'node-1', leaseUntil: new Date(T.getTime() + 30_000) } });
  });

  it('users.list sorts by name ignoring case and pages', async () => {
    const c = await first((s) => s.users.list(ORG, { limit: 5, offset: 10, q: 'a.b' }));
    expect(c.params[1]).to.deep.include({ sort: { nameKey: 1, _id: 1 }, skip: 10, limit: 5 });
    expect(c.params[1]).not.to.have.property('collation');
  });

  it('transfer.import is an ordered bulk upsert on _id', async () => {
    const c = await first((s) =>
      s.transfer.import('organisations', [
        { id: 'o1', name: 'U', slug: 'u', timezone: 'UTC', active: true, settings: SETTINGS, createdAt: T },
      ]),
    );
    expect([c.collection, c.method]).to.deep.equal(['organisations', 'bulkWrite']);
    // The settings arrive cast to a mongoose subdocument: compare their plain form.
    const [op] = c.params[0] as { updateOne: { update: { $set: Record<string, unknown> } } }[];
    const { settings, ...set } = op!.updateOne.update.$set;
    expect(JSON.parse(JSON.stringify(settings))).to.deep.equal(STORED_SETTINGS);
    expect({ ...op!.updateOne, update: { $set: set } }).to.deep.equal({
      filter: { _id: 'o1' },
      update: { $set: { name: 'U', slug: 'u', timezone: 'UTC', active: true, createdAt: T } },
      upsert: true,
    });
  });

  it('connects with the configured pool, timeouts and retryable writes', () => {
    expect(
      connectOptions({ kind: 'mongo', uri: 'mongodb://x', poolSize: 7, serverSelectionTimeoutMs: 1_234, socketTimeoutMs: 5_678 }),
    ).to.include({ maxPoolSize: 7, serverSelectionTimeoutMS: 1_234, socketTimeoutMS: 5_678, retryWrites: true, autoIndex: false });
  });
});
